// The metadata image under the Raft simulator, in CI: the real replica shell on a state-machine
// log driving the broker's real MetadataStateMachine, written by the active controller's real
// decisions from seeded random requests. A slice of seeds, all clean (every idle node's image is
// the committed prefix's, after healing all are identical), that exercises every record type,
// snapshots and their downloads, restarts and controller failovers; a seed replays exactly; and
// each metadata bug switch is caught. Longer runs:
// `npm run sim -- --mode shell --state-machine metadata --seeds N`.
import t from 'tap'
import { METADATA_BUG_NAMES, type MetadataBug } from '../../src/sim/metadata-machine.js'
import { runShellSeed } from '../../src/sim/shell-simulation.js'
import { firstMetadataFailure, METADATA_SEEDS_MAX } from './bug-scan.js'

const CI_SEEDS = 30

t.test(`metadata seeds 1..${CI_SEEDS}: every idle node's image is the committed prefix's, and all are identical after healing`, async (t) => {
  const failures: string[] = []
  const total = { committed: 0, crashes: 0, nodeSteps: 0, snapshotsTaken: 0, snapshotsInstalled: 0, batches: 0, takeovers: 0, imagesChecked: 0, restartsRebuilt: 0, acked: 0, controllersChecked: 0 }
  const records: Record<string, number> = {}
  let lateJoiners = 0
  for (let seed = 1; seed <= CI_SEEDS && failures.length < 3; seed++) {
    const r = await runShellSeed({ seed, stateMachine: 'metadata' })
    const m = r.stats.stateMachine!.metadata!
    const stats = { ...r.stats, ...r.stats.stateMachine!, ...m }
    for (const k of Object.keys(total) as (keyof typeof total)[]) total[k] += stats[k]
    for (const [type, n] of Object.entries(m.records)) records[type] = (records[type] ?? 0) + n
    if (r.params.lateJoinStep !== undefined) lateJoiners++
    if (!r.ok) failures.push(`seed ${seed} (${r.phase}): ${r.failure} — replay: npm run sim -- --mode shell --state-machine metadata --seed ${seed}`)
  }
  t.same(failures, [])
  // The slice must exercise the image, the controller and the shell, not idle.
  t.ok(total.batches > CI_SEEDS * 8, `${total.batches} batches appended by active controllers`)
  t.ok(total.takeovers > CI_SEEDS * 2, `${total.takeovers} takeovers by a new active controller (its state rebuilt from its image)`)
  t.ok(total.acked > CI_SEEDS * 6, `${total.acked} controller batches acknowledged once committed, each checked against what committed`)
  const types = ['brokerRegistration', 'fenceBroker', 'unfenceBroker', 'topic', 'partition', 'partitionLeader', 'topicConfigSet', 'topicConfigRemoved', 'removeTopic', 'producerIdBlock', 'featureLevel']
  for (const type of types) t.ok((records[type] ?? 0) > 0, `${records[type] ?? 0} committed ${type} records`)
  t.ok(total.snapshotsTaken > CI_SEEDS * 6, `${total.snapshotsTaken} snapshots of the image taken`)
  t.ok(total.snapshotsInstalled > CI_SEEDS, `${total.snapshotsInstalled} snapshots downloaded by lagging or late nodes`)
  t.ok(lateJoiners > CI_SEEDS / 4, `${lateJoiners} seeds with an observer joining late on an empty disk`)
  t.ok(total.restartsRebuilt > CI_SEEDS, `${total.restartsRebuilt} restarted nodes rebuilt their image from snapshot + tail`)
  t.ok(total.controllersChecked > CI_SEEDS * 50, `an idle active controller's state compared with its log's image ${total.controllersChecked} times`)
  t.ok(total.imagesChecked > 0.8 * total.nodeSteps, `images compared with the committed prefix's on ${total.imagesChecked} of ${total.nodeSteps} running node-steps`)
})

t.test('a metadata seed replays exactly', async (t) => {
  const a = await runShellSeed({ seed: 4242, trace: true, stateMachine: 'metadata' })
  const b = await runShellSeed({ seed: 4242, trace: true, stateMachine: 'metadata' })
  t.ok(a.trace.some((line) => line.includes('controller appends')), 'an active controller appends in the seed')
  t.ok(a.trace.some((line) => line.includes('installed snapshot')), 'the seed installs a snapshot')
  t.same(a.trace, b.trace)
  t.same(a.stats, b.stats)
})

/** The rule each bug switch breaks. */
const caughtBy: Record<MetadataBug, RegExp> = {
  snapshotDropsConfigs: /^SafetyViolation: image (safety|convergence):/,
  applyBeforeCommit: /^SafetyViolation: image safety:/,
  takeOverBeforeEpochCommit: /^SafetyViolation: controller consistency:/,
}

for (const bug of METADATA_BUG_NAMES) {
  t.test(`the image checks have teeth: ${bug} is caught within ${METADATA_SEEDS_MAX} seeds`, async (t) => {
    const found = await firstMetadataFailure(bug)
    t.ok(found, 'a failing seed exists')
    if (found) {
      t.match(found.failure, caughtBy[bug])
      t.comment(`caught at seed ${found.seed}: ${found.failure}`)
    }
  })
}
