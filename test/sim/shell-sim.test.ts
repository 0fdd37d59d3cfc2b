// The simulator's second mode in CI: the real replica shell (PartitionReplica over the simulated
// file layer and network), a slice of seeds, all clean, plus replay and a bug switch it must catch;
// the same for its state-machine log variant (snapshots and a key-value state machine), which
// shares the slice's time. Longer runs: `npm run sim -- --mode shell [--state-machine] --seeds N`.
import t from 'tap'
import { runShellSeed } from '../../src/sim/shell-simulation.js'

/** How far the wipe test scans for a seed that catches the bug (a few seconds). */
const WIPE_SCAN_SEEDS = 2_000

const CI_SEEDS = 110
const STATE_MACHINE_CI_SEEDS = 40

t.test(`shell seeds 1..${CI_SEEDS} pass the safety checker, the acks=all check and the liveness phase`, async (t) => {
  const failures: string[] = []
  const total = { committed: 0, acked: 0, crashes: 0, logStartMoves: 0, logResets: 0, reopens: 0, voterChanges: 0, transfers: 0, nodeSteps: 0, nodeStepsChecked: 0, fences: 0 }
  let fiveVoters = 0
  let allFenced = 0
  for (let seed = 1; seed <= CI_SEEDS && failures.length < 3; seed++) {
    const r = await runShellSeed({ seed })
    for (const k of Object.keys(total) as (keyof typeof total)[]) total[k] += r.stats[k] ?? 0
    if (r.params.voters === 5) fiveVoters++
    if (r.fencing?.allFenced === true) allFenced++
    if (!r.ok) failures.push(`seed ${seed} (${r.phase}): ${r.failure} — replay: npm run sim -- --mode shell --seed ${seed}`)
  }
  t.same(failures, [])
  // The slice must exercise the shell, not idle.
  t.ok(fiveVoters > CI_SEEDS / 4 && fiveVoters < (3 * CI_SEEDS) / 4, `${fiveVoters} seeds with 5 voters, the rest with 3`)
  t.ok(total.committed > CI_SEEDS * 20, `committed ${total.committed} records`)
  t.ok(total.acked > CI_SEEDS * 5, `${total.acked} acks=all acknowledgements, each checked against what committed`)
  t.ok(total.crashes > CI_SEEDS, `${total.crashes} power cuts`)
  t.ok(total.reopens > CI_SEEDS / 20, `${total.reopens} reopens after a failed fsync`)
  t.ok(total.logStartMoves > CI_SEEDS / 2, `retention moved log starts ${total.logStartMoves} times`)
  // Over 11 in these seeds before the flush report kept its fetch id (fewer duplicate answers moved every trajectory), 9 after.
  t.ok(total.logResets > CI_SEEDS / 15, `replicas reset to a leader's log start ${total.logResets} times`)
  t.ok(total.voterChanges > CI_SEEDS / 5, `${total.voterChanges} voter changes`)
  t.ok(total.transfers > CI_SEEDS / 10, `${total.transfers} leadership transfers started`)
  t.ok(total.nodeStepsChecked > 0.8 * total.nodeSteps, `per-node checks ran on ${total.nodeStepsChecked} of ${total.nodeSteps} running node-steps`)
  t.ok(total.fences > CI_SEEDS * 5, `${total.fences} fence and unfence events (PartitionReplica.setFenced)`)
  t.ok(allFenced > 0, `${allFenced} seeds fenced every node, then recovered`)
})

t.test('a shell seed replays exactly', async (t) => {
  const a = await runShellSeed({ seed: 4242, trace: true })
  const b = await runShellSeed({ seed: 4242, trace: true })
  t.ok(a.trace.length > 100)
  t.same(a.trace, b.trace)
  t.same(a.stats, b.stats)
})

t.test('the fence rule has teeth in this mode: a core that ignores the fence is caught', async (t) => {
  let caught: string | null = null
  for (let seed = 1; seed <= 50 && caught === null; seed++) {
    const r = await runShellSeed({ seed, bugs: { ignoreFence: true } })
    if (!r.ok) caught = r.failure
  }
  t.match(caught, /^SafetyViolation: fence:/)
})

t.test('the checker has teeth in this mode too: counting fetch positions toward the HW is caught', async (t) => {
  let caught: string | null = null
  for (let seed = 1; seed <= 50 && caught === null; seed++) {
    const r = await runShellSeed({ seed, bugs: { countFetchPosition: true } })
    if (!r.ok) caught = r.failure
  }
  t.match(caught, /commit quorum|leader completeness|state-machine safety|acks=all/)
})

t.test('disk wipes in this mode: a core that takes voters for plain ids lets a wiped voter elect a leader lacking committed data', async (t) => {
  // The first seed whose buggy run wipes a voter's disk and is caught, found by scanning: every
  // change to the shell moves every trajectory, so a pinned seed kept going stale (577, 616,
  // 274, 497 over four rounds). Seed 36 was the first on 2026-12-05 (1.6 s of scanning).
  let found: { seed: number; failure: string } | null = null
  for (let seed = 1; seed <= WIPE_SCAN_SEEDS && found === null; seed++) {
    const buggy = await runShellSeed({ seed, bugs: { ignoreDirectoryIds: true } })
    if (!buggy.ok && (buggy.stats.wipes ?? 0) > 0) found = { seed, failure: buggy.failure ?? '' }
  }
  t.ok(found, `a wipe caught within seeds 1..${WIPE_SCAN_SEEDS}`)
  if (found === null) return
  t.match(found.failure, /leader completeness|commit quorum|state-machine safety|acks=all/, `seed ${found.seed}`)
  const fine = await runShellSeed({ seed: found.seed })
  t.ok(fine.ok, fine.failure ?? `the correct core passes seed ${found.seed}`)
  t.ok((fine.stats.wipes ?? 0) > 0, 'a disk was wiped under the correct core too')
})

t.test(`state-machine log seeds 1..${STATE_MACHINE_CI_SEEDS}: every idle node's state is the committed prefix's, and all converge after healing`, async (t) => {
  const failures: string[] = []
  const total = { committed: 0, crashes: 0, reopens: 0, voterChanges: 0, nodeSteps: 0, snapshotsTaken: 0, snapshotsInstalled: 0, statesChecked: 0 }
  let lateJoiners = 0
  for (let seed = 1; seed <= STATE_MACHINE_CI_SEEDS && failures.length < 3; seed++) {
    const r = await runShellSeed({ seed, stateMachine: true })
    const stats = { ...r.stats, ...r.stats.stateMachine! }
    for (const k of Object.keys(total) as (keyof typeof total)[]) total[k] += stats[k]
    if (r.params.lateJoinStep !== undefined) lateJoiners++
    if (!r.ok) failures.push(`seed ${seed} (${r.phase}): ${r.failure} — replay: npm run sim -- --mode shell --state-machine --seed ${seed}`)
  }
  t.same(failures, [])
  t.ok(total.committed > STATE_MACHINE_CI_SEEDS * 20, `committed ${total.committed} records`)
  t.ok(total.snapshotsTaken > STATE_MACHINE_CI_SEEDS * 5, `${total.snapshotsTaken} snapshots taken`)
  t.ok(total.snapshotsInstalled > STATE_MACHINE_CI_SEEDS, `${total.snapshotsInstalled} snapshots installed by followers behind the leader's`)
  t.ok(lateJoiners > STATE_MACHINE_CI_SEEDS / 4, `${lateJoiners} seeds with an observer joining late on an empty disk`)
  t.ok(total.crashes > STATE_MACHINE_CI_SEEDS, `${total.crashes} power cuts`)
  t.ok(total.reopens > STATE_MACHINE_CI_SEEDS / 20, `${total.reopens} reopens after a failed fsync`)
  t.ok(total.voterChanges > STATE_MACHINE_CI_SEEDS / 5, `${total.voterChanges} voter changes`)
  t.ok(total.statesChecked > 0.8 * total.nodeSteps, `states compared with the committed prefix on ${total.statesChecked} of ${total.nodeSteps} running node-steps`)
})

t.test('a state-machine log seed whose replica fails its first input while opening, and reopens, passes', async (t) => {
  // Seed 156: n7's quorum-state fsync fails during its start; the simulator read a replica not yet there.
  const r = await runShellSeed({ seed: 156, stateMachine: true })
  t.equal(r.failure, null)
  t.ok(r.stats.reopens > 0)
})

t.test('a state-machine log seed whose log start passed its end at a reopen keeps the start epoch', async (t) => {
  // Seed 129: a snapshot's log start (34) was durable, the tail below it was not; the reopen
  // started the log over empty at 34 and dropped every epoch entry, but did not save the epoch
  // checkpoint (once it was no longer saved with each flush). The next reopen took the stale
  // entry (epoch 1 at 0) for the epoch below the start: n1 claimed last epoch 1 at 34, voted for
  // a replica lacking committed offsets, and leader completeness failed.
  const r = await runShellSeed({ seed: 129, stateMachine: true })
  t.equal(r.failure, null)
})

t.test('a state-machine log seed replays exactly', async (t) => {
  const a = await runShellSeed({ seed: 4242, trace: true, stateMachine: true })
  const b = await runShellSeed({ seed: 4242, trace: true, stateMachine: true })
  t.ok(a.trace.some((line) => line.includes('installed snapshot')), 'the seed installs a snapshot')
  t.same(a.trace, b.trace)
  t.same(a.stats, b.stats)
})

t.test('the state check has teeth: a state machine that ignores restores is caught', async (t) => {
  let caught: string | null = null
  for (let seed = 1; seed <= 20 && caught === null; seed++) {
    const r = await runShellSeed({ seed, stateMachine: true, machineBug: 'ignoreRestore' })
    if (!r.ok) caught = r.failure
  }
  t.match(caught, /state-machine (safety|convergence)/)
})
