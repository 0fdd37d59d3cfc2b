// Link-drop events (src/sim/link-drops.ts): a crash reported to the other nodes at once, as a
// killed broker's closed sockets are, and live nodes' links flapping. Every seed stays clean
// under the checker, the notices reach the cores (both simulators), and a seed that draws no
// link drops replays exactly as with them switched off (their draws are a stream of their own).
import t from 'tap'
import { runShellSeed } from '../../src/sim/shell-simulation.js'
import { runSeed } from '../../src/sim/simulation.js'

t.test('stand-in shell: seeds with link drops stay clean and hand the cores notices', async (t) => {
  let notices = 0
  let seedsWithDrops = 0
  for (let seed = 1; seed <= 150; seed++) {
    const r = runSeed({ seed })
    if (!r.ok) t.fail(`seed ${seed}: ${r.failure} (npm run sim -- --seed ${seed})`)
    if (r.linkDrops !== null) seedsWithDrops++
    notices += r.stats.linkDrops ?? 0
  }
  t.ok(seedsWithDrops > 30, `${seedsWithDrops} of 150 seeds draw link drops`)
  t.ok(notices > seedsWithDrops, `${notices} notices handed to nodes`)
})

t.test('real shell: seeds with link drops stay clean and hand the replicas notices', async (t) => {
  let notices = 0
  for (let seed = 1; seed <= 30; seed++) {
    const r = await runShellSeed({ seed })
    if (!r.ok) t.fail(`seed ${seed}: ${r.failure} (npm run sim -- --mode shell --seed ${seed})`)
    notices += r.stats.linkDrops ?? 0
  }
  t.ok(notices > 0, `${notices} notices handed to replicas`)
})

t.test('a seed that draws no link drops replays exactly as with them switched off', async (t) => {
  let compared = 0
  for (let seed = 1; seed <= 40 && compared < 5; seed++) {
    const on = runSeed({ seed, trace: true, safetySteps: 300 })
    if (on.linkDrops !== null) continue
    const off = runSeed({ seed, trace: true, safetySteps: 300, linkDrops: false })
    t.same(on.trace, off.trace, `seed ${seed}`)
    compared++
  }
  t.equal(compared, 5)
})
