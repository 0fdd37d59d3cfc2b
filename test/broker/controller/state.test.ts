// The controller state's bookkeeping, beyond the scenario scripts: pending batches commit in
// order, the next lease expiry for the shell's timer, and the shell's mistakes caught.
import t from 'tap'
import { heartbeat, register } from '../../../src/broker/controller/decisions/membership.js'
import { ControllerAssertionError, ControllerState, type ControllerConfig } from '../../../src/broker/controller/decisions/state.js'
import { alterConfigs, createTopics, deleteTopics } from '../../../src/broker/controller/decisions/topic-decisions.js'
import { reportLeaders } from '../../../src/broker/controller/decisions/reports.js'
import { ADMIN_ITEMS_PER_REQUEST_MAX, LEADER_REPORTS_PER_REQUEST_MAX } from '../../../src/broker/controller/decisions/limits.js'
import { ErrorCode } from '../../../src/protocol/index.js'
import { MetadataImage } from '../../../src/metadata/image.js'

const config: ControllerConfig = { leaseMs: 9000, defaultPartitions: 1, defaultReplicationFactor: 1, partitionsPerTopicMax: 8, topicsMax: 10, producerIdBlockSize: 10 }
const id = (n: number) => n.toString(16).padStart(32, '0')
let uuids = 100
const ctx = (nowMs: number, logEnd: number) => ({ nowMs, logEnd, newUuid: () => id(++uuids) })

function accepted<A>(d: { ok: true; next: ControllerState; answer: A } | { ok: false }): { next: ControllerState; answer: A } {
  if (!d.ok) throw new Error('refused')
  return d
}

t.test('pending batches commit in log order; the committed image follows', async (t) => {
  let s = ControllerState.elected(config, MetadataImage.EMPTY, 0, 0)
  s = accepted(register(s, { brokerId: 1, incarnationId: id(1), url: 'ws://127.0.0.1:9092/', rack: '', directoryId: id(2) }, ctx(0, 0))).next
  s = accepted(heartbeat(s, { brokerId: 1, incarnationId: id(1), metadataOffset: 1 }, ctx(0, 1))).next
  s = accepted(createTopics(s, { topics: [{ name: 'a', partitions: 2, replicationFactor: 1, configs: {} }], validateOnly: false }, ctx(0, 2))).next
  t.same(s.pending.map((b) => b.startOffset), [0, 1, 2])
  t.equal(s.committed.topicCount, 0)
  t.equal(s.latest.topic('a')?.partitions, 2, 'decisions see the uncommitted topic')
  const partly = s.committedTo(2)
  t.same(partly.pending.map((b) => b.startOffset), [2])
  t.equal(partly.committed.broker(1)?.fenced, false)
  t.equal(partly.committed.topicCount, 0)
  t.equal(partly.committedTo(2), partly, 'no news, same state')
  const all = partly.committedTo(5)
  t.same(all.pending, [])
  t.equal(all.committed.topic('a')?.id, all.latest.topic('a')?.id)
})

t.test('the next lease expiry is the earliest of the unfenced brokers', async (t) => {
  let s = ControllerState.elected(config, MetadataImage.EMPTY, 0, 0)
  t.equal(s.nextLeaseExpiryMs(), null, 'no broker, no timer')
  s = accepted(register(s, { brokerId: 1, incarnationId: id(1), url: 'ws://127.0.0.1:9092/', rack: '', directoryId: id(2) }, ctx(0, 0))).next
  t.equal(s.nextLeaseExpiryMs(), null, 'a fenced broker has nothing to expire')
  s = accepted(heartbeat(s, { brokerId: 1, incarnationId: id(1), metadataOffset: 1 }, ctx(1000, 1))).next
  s = accepted(register(s, { brokerId: 2, incarnationId: id(3), url: 'ws://127.0.0.1:9093/', rack: '', directoryId: id(4) }, ctx(2000, 2))).next
  s = accepted(heartbeat(s, { brokerId: 2, incarnationId: id(3), metadataOffset: 3 }, ctx(3000, 3))).next
  t.equal(s.nextLeaseExpiryMs(), 10_000)
  s = accepted(heartbeat(s, { brokerId: 1, incarnationId: id(1), metadataOffset: 3 }, ctx(5000, 4))).next
  t.equal(s.nextLeaseExpiryMs(), 12_000)
})

t.test("the shell's mistakes are caught, not written", async (t) => {
  let s = ControllerState.elected(config, MetadataImage.EMPTY, 5, 0)
  s = accepted(register(s, { brokerId: 1, incarnationId: id(1), url: 'ws://127.0.0.1:9092/', rack: '', directoryId: id(2) }, ctx(0, 5))).next
  t.throws(
    () => register(s, { brokerId: 2, incarnationId: id(3), url: 'ws://127.0.0.1:9093/', rack: '', directoryId: id(4) }, ctx(0, 5)),
    ControllerAssertionError,
    'records appended where the previous batch began',
  )
  t.throws(() => ControllerState.elected(config, MetadataImage.EMPTY, -1, 0), ControllerAssertionError)
  t.throws(() => ControllerState.elected({ ...config, leaseMs: 0 }, MetadataImage.EMPTY, 0, 0), ControllerAssertionError)
})

t.test('requests past their size limits are refused whole, naming the limit', async (t) => {
  const s = ControllerState.elected(config, MetadataImage.EMPTY, 0, 0)
  const many = ADMIN_ITEMS_PER_REQUEST_MAX + 1
  const names = Array.from({ length: many }, (_, i) => `t${i}`)
  const refusals = [
    createTopics(s, { topics: names.map((name) => ({ name, partitions: 1, replicationFactor: 1, configs: {} })), validateOnly: false }, ctx(0, 0)),
    deleteTopics(s, { names }, ctx(0, 0)),
    alterConfigs(s, { changes: names.map((topic) => ({ topic, set: {}, reset: [] })), validateOnly: false }, ctx(0, 0)),
    reportLeaders(s, Array.from({ length: LEADER_REPORTS_PER_REQUEST_MAX + 1 }, () => ({ topicId: id(1), partition: 0, leader: 1, leaderEpoch: 1 })), ctx(0, 0)),
  ]
  for (const d of refusals) t.match(d, { ok: false, error: { code: ErrorCode.INVALID_REQUEST, message: /at most \d+/ } })
})
