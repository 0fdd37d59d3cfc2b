// The disk-damage fault (src/sim/disk-damage.ts): seeds that damage a replica's stored log run the
// core's damage path (found on a read, by the check before a campaign, by a scrub; truncation,
// abstention, re-fetch) and pass the checker; seeds that draw no damage replay as before.
import t from 'tap'
import { runSeed } from '../../src/sim/simulation.js'

const SEEDS = 600

t.test('damaged logs are found, truncated and repaired without losing a committed entry', async (t) => {
  let damageSeeds = 0
  let damaged = 0
  let found = 0
  const ways = new Set<string>()
  for (let seed = 1; seed <= SEEDS; seed++) {
    const r = runSeed({ seed, trace: true })
    t.ok(r.ok, `seed ${seed}: ${r.failure ?? 'ok'}`, { diagnostic: !r.ok })
    if (r.damage === undefined) continue
    damageSeeds++
    damaged += r.stats.damaged ?? 0
    found += r.stats.damageFound ?? 0
    for (const line of r.trace) {
      const m = / finds damage at \d+ \((read|verify|scrub);/.exec(line)
      if (m !== null) ways.add(m[1])
    }
  }
  t.ok(damageSeeds > SEEDS / 10, `${damageSeeds} of ${SEEDS} seeds damage logs`)
  t.ok(found > damaged / 2, `${found} damages found of ${damaged} injected (the rest truncated, deleted or never read)`)
  t.same([...ways].sort(), ['read', 'scrub', 'verify'], 'damage is found on a read, by the check before a campaign and by a scrub')
})

t.test('a seed that draws no damage runs exactly as with damage off', async (t) => {
  let compared = 0
  for (let seed = 1; compared < 20; seed++) {
    const on = runSeed({ seed, trace: true })
    if (on.damage !== undefined) continue
    const off = runSeed({ seed, trace: true, damage: false })
    t.same(on.trace, off.trace, `seed ${seed}`)
    compared++
  }
})
