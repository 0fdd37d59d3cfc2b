// The CI slice of the deterministic simulator: a few thousand seeds, all clean, plus a
// check that a seed replays identically. Longer runs: `npm run sim -- --seeds N`.
import t from 'tap'
import { runSeed } from '../../src/raft/sim/simulation.js'

const CI_SEEDS = 2500

t.test(`seeds 1..${CI_SEEDS} pass the safety checker and the liveness phase`, async (t) => {
  const failures: string[] = []
  let committed = 0
  let crashes = 0
  for (let seed = 1; seed <= CI_SEEDS && failures.length < 3; seed++) {
    const r = runSeed({ seed })
    committed += r.stats.committed
    crashes += r.stats.crashes
    if (!r.ok) failures.push(`seed ${seed} (${r.phase}): ${r.failure} — replay: npm run sim -- --seed ${seed}`)
  }
  t.same(failures, [])
  // The slice must actually exercise the protocol, not idle.
  t.ok(committed > CI_SEEDS * 20, `committed ${committed} entries`)
  t.ok(crashes > CI_SEEDS, `injected ${crashes} crashes`)
})

t.test('a seed replays exactly', async (t) => {
  const a = runSeed({ seed: 424242, trace: true })
  const b = runSeed({ seed: 424242, trace: true })
  t.ok(a.trace.length > 100)
  t.same(a.trace, b.trace)
  t.same(a.stats, b.stats)
})
