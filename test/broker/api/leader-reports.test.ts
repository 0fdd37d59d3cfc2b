// LeaderReports (Request 33) as the controller's node serves it: only a broker's peer connection,
// only about itself, topic ids checked; the reports decided by the controller's real decision
// (decisions/reports.ts) on a real ControllerState, stale ones counted as ignored.
import t from 'tap'
import { leaderReports, type LeaderReports } from '../../../src/broker/api/leader-reports.js'
import { reportLeaders } from '../../../src/broker/controller/decisions/reports.js'
import { ControllerState, type ControllerConfig } from '../../../src/broker/controller/decisions/state.js'
import { MetadataImage } from '../../../src/metadata/image.js'
import { uuidBytes } from '../../../src/metadata/uuid.js'
import { ErrorCode } from '../../../src/protocol/index.js'

const config: ControllerConfig = { leaseMs: 9000, defaultPartitions: 1, defaultReplicationFactor: 1, partitionsPerTopicMax: 8, topicsMax: 10, producerIdBlockSize: 10 }
const TOPIC = 'ab'.repeat(16)
const image = MetadataImage.EMPTY.apply([
  { type: 'topic', name: 'orders', topicId: TOPIC },
  { type: 'partition', topicId: TOPIC, index: 0, replicas: [2, 1] },
  { type: 'partitionLeader', topicId: TOPIC, partition: 0, leader: 1, leaderEpoch: 4 },
])

/** The controller's side: each request decided on the state the last one left. */
function controller(): LeaderReports & { recorded: () => string[] } {
  let state = ControllerState.elected(config, image, 3, 0)
  const records: string[] = []
  return {
    recorded: () => records,
    report: async (reports) => {
      const d = reportLeaders(state, reports, { nowMs: 0, logEnd: 3, newUuid: () => '00'.repeat(16) })
      if (!d.ok) return { ok: false, error: d.error }
      state = d.next
      records.push(...d.records.map((r) => (r.type === 'partitionLeader' ? `${r.partition}:${r.leader}@${r.leaderEpoch}` : r.type)))
      return { ok: true, answer: d.answer }
    },
  }
}

const report = (leaderEpoch: number, topicId = uuidBytes(TOPIC)) => ({ topicId, partition: 0, leaderEpoch })

t.test('a broker reports its own leaderships: news recorded, stale ones ignored', async (t) => {
  const c = controller()
  t.same(await leaderReports(c, { brokerId: 2, reports: [report(5)] }, 2), { leaderReports: { recorded: 1, ignored: 0 } })
  t.same(await leaderReports(c, { brokerId: 2, reports: [report(5), report(3)] }, 2), { leaderReports: { recorded: 0, ignored: 2 } }, 'an epoch already recorded, and an older one')
  t.same(c.recorded(), ['0:2@5'])
})

t.test('refused: a client, a broker reporting for another, a malformed topic id, a broker that holds no replica', async (t) => {
  const c = controller()
  t.match(await leaderReports(c, { brokerId: 2, reports: [report(5)] }, null), { error: { code: ErrorCode.POLICY_VIOLATION, message: /only a broker of this cluster may report leaders/ } })
  t.match(await leaderReports(c, { brokerId: 1, reports: [report(5)] }, 2), { error: { code: ErrorCode.INVALID_REQUEST, message: /node 2 may report leaders only itself, not broker 1/ } })
  t.match(await leaderReports(c, { brokerId: 2, reports: [report(5, new Uint8Array(3))] }, 2), { error: { code: ErrorCode.INVALID_REQUEST, message: /reports\[0\]\.topic_id must be a 16-byte UUID, got 3 bytes/ } })
  t.same(await leaderReports(c, { brokerId: 3, reports: [report(9)] }, 3), { leaderReports: { recorded: 0, ignored: 1 } }, 'node 3 holds no replica of it: ignored, never recorded')
  t.same(c.recorded(), [])
})
