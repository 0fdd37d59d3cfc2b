// The CI slice of the deterministic simulator: a few thousand seeds, all clean, plus a
// check that a seed replays identically. Longer runs: `npm run sim -- --seeds N`.
import t from 'tap'
import { ALL_FENCED_STEPS } from '../../src/sim/fencing.js'
import { runSeed } from '../../src/sim/simulation.js'

const CI_SEEDS = 2500

t.test(`seeds 1..${CI_SEEDS} pass the safety checker and the liveness phase`, async (t) => {
  const failures: string[] = []
  const total = { committed: 0, crashes: 0, snapshotsInstalled: 0, logResets: 0, voterChanges: 0, transfers: 0, fences: 0 }
  let allFenced = 0
  for (let seed = 1; seed <= CI_SEEDS && failures.length < 3; seed++) {
    const r = runSeed({ seed })
    for (const k of Object.keys(total) as (keyof typeof total)[]) total[k] += r.stats[k] ?? 0
    if (r.fencing?.allFenced === true) allFenced++
    if (!r.ok) failures.push(`seed ${seed} (${r.phase}): ${r.failure} — replay: npm run sim -- --seed ${seed}`)
  }
  t.same(failures, [])
  // The slice must actually exercise the protocol, not idle.
  t.ok(total.committed > CI_SEEDS * 20, `committed ${total.committed} entries`)
  t.ok(total.crashes > CI_SEEDS, `injected ${total.crashes} crashes`)
  t.ok(total.snapshotsInstalled > CI_SEEDS / 10, `followers installed ${total.snapshotsInstalled} snapshots`)
  t.ok(total.logResets > CI_SEEDS / 10, `followers started over at a leader's log start ${total.logResets} times`)
  t.ok(total.voterChanges > CI_SEEDS, `${total.voterChanges} voter changes`)
  t.ok(total.transfers > CI_SEEDS / 2, `${total.transfers} leadership transfers started`)
  t.ok(total.fences > CI_SEEDS * 5, `${total.fences} fence and unfence events`)
  t.ok(allFenced > CI_SEEDS / 20, `${allFenced} seeds fenced every node for ${ALL_FENCED_STEPS} steps (nobody led), then recovered`)
})

t.test('a seed that draws no fencing replays exactly as with fencing off', async (t) => {
  let seed = 1
  while (runSeed({ seed, safetySteps: 1 }).fencing !== null) seed++
  const on = runSeed({ seed, trace: true })
  const off = runSeed({ seed, trace: true, fencing: false })
  t.same(on.trace, off.trace)
  t.same(on.stats, off.stats)
})

t.test('a seed replays exactly', async (t) => {
  const a = runSeed({ seed: 424242, trace: true })
  const b = runSeed({ seed: 424242, trace: true })
  t.ok(a.trace.length > 100)
  t.same(a.trace, b.trace)
  t.same(a.stats, b.stats)
})
