// AlterPartitionReassignments (Request 35) and CompleteReassignment (Request 36) as the
// controller's node serves them, decided by the real decisions (decisions/reassignment.ts) on a
// real ControllerState: a move recorded, a malformed cancel refused before the controller, a
// completion only from the leader's own peer connection.
import t from 'tap'
import { alterPartitionReassignments, type Reassignments } from '../../../src/broker/api/alter-partition-reassignments.js'
import { completeReassignment, type ReassignmentCompletions } from '../../../src/broker/api/complete-reassignment.js'
import { ControllerRequestError } from '../../../src/broker/controller/active/request-error.js'
import { alterPartitionReassignments as decideMoves, completeReassignment as decideCompletion } from '../../../src/broker/controller/decisions/reassignment.js'
import { ControllerState, type ControllerConfig } from '../../../src/broker/controller/decisions/state.js'
import { MetadataImage, type MetadataRecord } from '../../../src/metadata/image.js'
import { uuidBytes } from '../../../src/metadata/uuid.js'
import { ErrorCode } from '../../../src/protocol/index.js'

const config: ControllerConfig = { leaseMs: 9000, defaultPartitions: 1, defaultReplicationFactor: 3, partitionsPerTopicMax: 8, topicsMax: 10, producerIdBlockSize: 10 }
const TOPIC = 'cd'.repeat(16)
const image = MetadataImage.EMPTY.apply([
  ...[1, 2, 3, 4].map((brokerId): MetadataRecord => ({
    type: 'brokerRegistration', brokerId, incarnationId: `${brokerId}`.repeat(32), url: `ws://127.0.0.1:${9091 + brokerId}/`, rack: '', directoryId: `${brokerId + 4}`.repeat(32),
  })),
  { type: 'topic', name: 'orders', topicId: TOPIC },
  { type: 'partition', topicId: TOPIC, index: 0, replicas: [1, 2, 3] },
])

/** The controller's side: each request decided on the state the last one left. */
function controller(): Reassignments & ReassignmentCompletions & { state: () => ControllerState } {
  let state = ControllerState.elected(config, image, 3, 0)
  let logEnd = 3
  return {
    state: () => state,
    alter: async (partitions) => {
      const d = decideMoves(state, partitions, { nowMs: 0, logEnd: logEnd++, newUuid: () => '' })
      if (!d.ok) throw new ControllerRequestError(d.error.code, d.error.message)
      state = d.next
      return d.answer
    },
    complete: async (req) => {
      const d = decideCompletion(state, req, { nowMs: 0, logEnd: logEnd++, newUuid: () => '' })
      if (!d.ok) return { ok: false, error: d.error }
      state = d.next
      return { ok: true, answer: d.answer }
    },
  }
}

t.test('a move is recorded; a cancel that names replicas is refused before the controller; errors per partition', async (t) => {
  const c = controller()
  const r = await alterPartitionReassignments(c, { topics: [{ name: 'orders', partitions: [{ partition: 0, replicas: [2, 3, 4] }, { partition: 1, replicas: [1] }, { partition: 2, replicas: [1], cancel: true }] }] })
  t.match(r.results, [
    { topic: 'orders', partition: 2, error: { code: ErrorCode.INVALID_REQUEST, message: /a cancel names no replicas/ } },
    { topic: 'orders', partition: 0, error: null },
    { topic: 'orders', partition: 1, error: { code: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION } },
  ])
  t.same(c.state().latest.topic('orders')!.partitionStates[0].reassignment, { adding: [4], removing: [1] })
})

t.test('NOT_CONTROLLER fails the whole request (the forwarding node tries the next controller); other refusals answer each partition', async (t) => {
  const refusing = (code: ErrorCode): Reassignments => ({ alter: async () => { throw new ControllerRequestError(code, 'no') } })
  await t.rejects(alterPartitionReassignments(refusing(ErrorCode.NOT_CONTROLLER), { topics: [{ name: 'orders', partitions: [{ partition: 0, replicas: [1] }] }] }), { code: ErrorCode.NOT_CONTROLLER })
  const timedOut = await alterPartitionReassignments(refusing(ErrorCode.REQUEST_TIMED_OUT), { topics: [{ name: 'orders', partitions: [{ partition: 0, replicas: [1] }] }] })
  t.match(timedOut.results, [{ partition: 0, error: { code: ErrorCode.REQUEST_TIMED_OUT } }])
})

t.test('completion: only a broker, only about itself, and only once its voters are the target', async (t) => {
  const c = controller()
  await alterPartitionReassignments(c, { topics: [{ name: 'orders', partitions: [{ partition: 0, replicas: [2, 3, 4] }] }] })
  const done = (brokerId: number, voters: number[], peer: number | null = brokerId) => completeReassignment(c, { brokerId, topicId: uuidBytes(TOPIC), partition: 0, leaderEpoch: 3, voters }, peer)
  t.match(await done(2, [2, 3, 4], null), { error: { code: ErrorCode.POLICY_VIOLATION, message: /only a broker of this cluster may complete a partition move/ } })
  t.match(await done(2, [2, 3, 4], 3), { error: { code: ErrorCode.INVALID_REQUEST, message: /node 3 may complete a partition move only itself, not broker 2/ } })
  t.match(await completeReassignment(c, { brokerId: 2, topicId: new Uint8Array(2), partition: 0, voters: [2] }, 2), { error: { code: ErrorCode.INVALID_REQUEST, message: /topic_id must be a 16-byte UUID/ } })
  t.match(await done(2, [1, 2, 3, 4]), { error: { code: ErrorCode.INVALID_REPLICA_ASSIGNMENT, message: /the move is not over/ } })
  t.same(await done(2, [2, 3, 4]), { completeReassignment: {} })
  t.same(c.state().latest.topic('orders')!.partitionStates[0].replicas, [2, 3, 4])
  t.match(await done(2, [2, 3, 4]), { error: { code: ErrorCode.NO_REASSIGNMENT_IN_PROGRESS } }, 'a second completion finds the move over')
})
