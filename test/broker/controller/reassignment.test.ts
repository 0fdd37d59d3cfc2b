// Partition reassignment, decided (controller/decisions/reassignment.ts) and stepped
// (reassignment-steps.ts): which moves are recorded and how, cancels, completion, and the order
// in which a leader changes its voters.
import t from 'tap'
import { alterPartitionReassignments, completeReassignment } from '../../../src/broker/controller/decisions/reassignment.js'
import { nextReassignStep, type MoveView } from '../../../src/broker/controller/decisions/reassignment-steps.js'
import { ControllerState, type DecisionContext } from '../../../src/broker/controller/decisions/state.js'
import { MetadataImage, targetReplicas, type MetadataRecord } from '../../../src/metadata/image.js'
import { ErrorCode } from '../../../src/protocol/index.js'
import type { ReplicaProgress } from '../../../src/raft/types.js'

const ID = 'ab'.repeat(16)
const CONFIG = { leaseMs: 9_000, defaultPartitions: 1, defaultReplicationFactor: 3, partitionsPerTopicMax: 100, topicsMax: 100, producerIdBlockSize: 1_000 }

function state(brokers = [1, 2, 3, 4]): ControllerState {
  const records: MetadataRecord[] = brokers.map((brokerId) => ({
    type: 'brokerRegistration', brokerId, incarnationId: `${brokerId}`.repeat(32), url: `ws://127.0.0.1:${9091 + brokerId}/`, rack: '', directoryId: (brokerId + 100).toString(16).repeat(16),
  }))
  records.push({ type: 'topic', name: 'orders', topicId: ID }, { type: 'partition', topicId: ID, index: 0, replicas: [1, 2, 3] })
  records.push({ type: 'partitionLeader', topicId: ID, partition: 0, leader: 1, leaderEpoch: 4 })
  return ControllerState.elected(CONFIG, MetadataImage.EMPTY.apply(records), 10, 0)
}

let logEnd = 100
const ctx = (): DecisionContext => ({ nowMs: 0, logEnd: logEnd++, newUuid: () => 'ff'.repeat(16) })

t.test('a move is recorded as old and new replicas together, with those added and removed; the target is the rest', async (t) => {
  const d = alterPartitionReassignments(state(), [{ topic: 'orders', partition: 0, replicas: [2, 3, 4] }], ctx())
  if (!d.ok) throw new Error(d.error.message)
  t.same(d.answer, [{ topic: 'orders', partition: 0, error: null }])
  t.same(d.records, [{ type: 'partitionReassignment', topicId: ID, partition: 0, replicas: [2, 3, 4, 1], adding: [4], removing: [1] }])
  const p = d.next.latest.topic('orders')!.partitionStates[0]
  t.same(p.reassignment, { adding: [4], removing: [1] })
  t.same(targetReplicas(p), [2, 3, 4])
  t.equal(p.leader, 1, 'the leader recorded stays: it is still a replica')
})

t.test('bad targets are refused one by one with typed errors; the valid ones are recorded', async (t) => {
  const answer = (replicas: number[] | null, topic = 'orders', partition = 0) => {
    const d = alterPartitionReassignments(state(), [{ topic, partition, replicas }], ctx())
    if (!d.ok) throw new Error(d.error.message)
    return d.answer[0].error
  }
  t.match(answer([1], 'nope'), { code: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, message: /no topic named "nope"/ })
  t.match(answer([1], 'orders', 3), { code: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, message: /has no partition 3/ })
  t.match(answer([1, 1, 2]), { code: ErrorCode.INVALID_REPLICA_ASSIGNMENT, message: /name a broker twice/ })
  t.match(answer([1, 2, 9]), { code: ErrorCode.INVALID_REPLICA_ASSIGNMENT, message: /broker 9 is not registered/ })
  t.match(answer([]), { code: ErrorCode.INVALID_REPLICA_ASSIGNMENT, message: /1\.\.16 replicas, 0 were given/ })
  t.match(answer(Array.from({ length: 17 }, (_, i) => i + 1)), { code: ErrorCode.INVALID_REPLICA_ASSIGNMENT, message: /17 were given/ })
  const eight = [1, 2, 3, 4, 5, 6, 7, 8]
  const wide = (replicas: number[]) => {
    const d = alterPartitionReassignments(state(eight), [{ topic: 'orders', partition: 0, replicas }], ctx())
    if (!d.ok) throw new Error(d.error.message)
    return d.answer[0].error
  }
  t.match(wide([4, 5, 6, 7, 8]), { code: ErrorCode.INVALID_REPLICA_ASSIGNMENT, message: /together \(8\) would exceed 7, the most voters/ }, 'old and new together must fit a Raft group')
  t.equal(wide([3, 4, 5, 6, 7]), null, '7 together fit')
  const d = alterPartitionReassignments(state(), [
    { topic: 'orders', partition: 0, replicas: [1, 2, 9] },
    { topic: 'orders', partition: 0, replicas: [1, 2, 4] },
    { topic: 'nope', partition: 0, replicas: [1] },
  ], ctx())
  if (!d.ok) throw new Error(d.error.message)
  t.match(d.answer.map((o) => o.error), [{ code: ErrorCode.INVALID_REPLICA_ASSIGNMENT }, { code: ErrorCode.INVALID_REQUEST, message: /appears twice/ }, { code: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }])
  t.equal(d.records.length, 0, 'nothing valid, nothing recorded')
  const mixed = alterPartitionReassignments(state(), [{ topic: 'nope', partition: 0, replicas: [1] }, { topic: 'orders', partition: 0, replicas: [1, 2, 4] }], ctx())
  if (!mixed.ok) throw new Error(mixed.error.message)
  t.match(mixed.answer.map((o) => o.error), [{ code: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }, null])
  t.equal(mixed.records.length, 1, 'the valid move is recorded')
})

t.test('a partition being moved refuses another move, but may be cancelled: the move is reversed', async (t) => {
  const first = alterPartitionReassignments(state(), [{ topic: 'orders', partition: 0, replicas: [2, 3, 4] }], ctx())
  if (!first.ok) throw new Error(first.error.message)
  const again = alterPartitionReassignments(first.next, [{ topic: 'orders', partition: 0, replicas: [1, 2, 4] }], ctx())
  if (!again.ok) throw new Error(again.error.message)
  t.match(again.answer[0].error, { code: ErrorCode.REASSIGNMENT_IN_PROGRESS, message: /being moved to 2,3,4 already/ }, 'checked against the uncommitted move too')
  const cancel = alterPartitionReassignments(first.next, [{ topic: 'orders', partition: 0, replicas: null }], ctx())
  if (!cancel.ok) throw new Error(cancel.error.message)
  t.same(cancel.records, [{ type: 'partitionReassignment', topicId: ID, partition: 0, replicas: [2, 3, 4, 1], adding: [1], removing: [4] }])
  t.same(targetReplicas(cancel.next.latest.topic('orders')!.partitionStates[0]), [2, 3, 1], 'back to the brokers it started on')
  const nothing = alterPartitionReassignments(state(), [{ topic: 'orders', partition: 0, replicas: null }], ctx())
  if (!nothing.ok) throw new Error(nothing.error.message)
  t.match(nothing.answer[0].error, { code: ErrorCode.NO_REASSIGNMENT_IN_PROGRESS })
})

t.test('the same brokers in another order only change the preferred order; the same list changes nothing', async (t) => {
  const d = alterPartitionReassignments(state(), [{ topic: 'orders', partition: 0, replicas: [3, 1, 2] }], ctx())
  if (!d.ok) throw new Error(d.error.message)
  t.same(d.records, [{ type: 'partitionReassignment', topicId: ID, partition: 0, replicas: [3, 1, 2], adding: [], removing: [] }])
  t.equal(d.next.latest.topic('orders')!.partitionStates[0].reassignment, undefined, 'no move under way')
  const same = alterPartitionReassignments(state(), [{ topic: 'orders', partition: 0, replicas: [1, 2, 3] }], ctx())
  if (!same.ok) throw new Error(same.error.message)
  t.same(same.records, [])
})

t.test('completion: only once the reported voters are the target; then the target is the replicas, and a leader not among them is forgotten', async (t) => {
  const moved = alterPartitionReassignments(state(), [{ topic: 'orders', partition: 0, replicas: [2, 3, 4] }], ctx())
  if (!moved.ok) throw new Error(moved.error.message)
  const early = completeReassignment(moved.next, { topicId: ID, partition: 0, leader: 1, leaderEpoch: 4, voters: [1, 2, 3, 4] }, ctx())
  t.match(early, { ok: false, error: { code: ErrorCode.INVALID_REPLICA_ASSIGNMENT, message: /moves to 2,3,4, but its voters are 1,2,3,4/ } })
  const done = completeReassignment(moved.next, { topicId: ID, partition: 0, leader: 2, leaderEpoch: 5, voters: [4, 3, 2] }, ctx())
  if (!done.ok) throw new Error(done.error.message)
  const p = done.next.latest.topic('orders')!.partitionStates[0]
  t.same(p.replicas, [2, 3, 4], 'in the target order')
  t.equal(p.reassignment, undefined)
  t.equal(p.leader, -1, 'broker 1 no longer leads it (broker 2 reports its own epoch)')
  const twice = completeReassignment(done.next, { topicId: ID, partition: 0, leader: 2, leaderEpoch: 5, voters: [2, 3, 4] }, ctx())
  t.match(twice, { ok: false, error: { code: ErrorCode.NO_REASSIGNMENT_IN_PROGRESS } })
})

const progress = (id: number, fetchOffset: number, ticksSinceFetch = 1, voter = false): ReplicaProgress => ({ id, directoryId: undefined, voter, fetchOffset, ticksSinceFetch, flushedOffset: fetchOffset, ticksSinceCaughtUp: ticksSinceFetch })
const view = (v: Partial<MoveView>): MoveView => ({
  self: 1, voters: [1, 2, 3], target: [2, 3, 4], highWatermark: 50, recentTicks: 10,
  progress: [progress(2, 50, 1, true), progress(3, 50, 1, true), progress(4, 50)], ...v,
})

t.test('steps: add caught-up replicas first, then remove others, then hand over and remove itself, then complete', async (t) => {
  t.same(nextReassignStep(view({ progress: [progress(4, 20)] })), { kind: 'wait', why: 'replica 4 is catching up (or down)' }, 'behind the HW')
  t.same(nextReassignStep(view({ progress: [progress(4, 50, 99)] })), { kind: 'wait', why: 'replica 4 is catching up (or down)' }, 'not heard from lately')
  t.same(nextReassignStep(view({})), { kind: 'add', id: 4 })
  t.same(nextReassignStep(view({ voters: [1, 2, 3, 4] })), { kind: 'transfer', to: 2 }, 'the leader goes: hand over first')
  t.same(nextReassignStep(view({ self: 2, voters: [1, 2, 3, 4] })), { kind: 'remove', id: 1 })
  t.same(nextReassignStep(view({ self: 2, voters: [2, 3, 4] })), { kind: 'complete' })
  t.same(nextReassignStep(view({ voters: [1, 2, 3, 4], progress: [progress(2, 3, 1, true), progress(3, 50, 99, true)] })),
    { kind: 'wait', why: 'no other target voter has caught up to take over leadership' })
  t.same(nextReassignStep(view({ target: [1, 2], voters: [1, 2, 3] })), { kind: 'remove', id: 3 }, 'shrinking needs no add')
})

t.test('the image refuses a reassignment record that does not fit, naming the problem', async (t) => {
  const image = state().latest
  const r = (adding: number[], removing: number[], replicas = [1, 2, 3, 4], partition = 0): MetadataRecord => ({ type: 'partitionReassignment', topicId: ID, partition, replicas, adding, removing })
  t.throws(() => image.apply([r([5], [])]), { name: 'MetadataError', message: /adding names broker 5, not among the replicas/ })
  t.throws(() => image.apply([r([4], [4])]), { message: /broker 4 is both added and removed/ })
  t.throws(() => image.apply([r([], [1, 2, 3, 4])]), { message: /may not remove every replica/ })
  t.throws(() => image.apply([r([4, 4], [])]), { message: /adding \[4, 4\] names a broker twice/ })
  t.throws(() => image.apply([r([], [], [1, 2], 1)]), { message: /has no partition 1/ })
  const moved = image.apply([r([4], [1])])
  t.same(moved.topic('orders')!.partitionStates[0], { replicas: [1, 2, 3, 4], leader: 1, leaderEpoch: 4, isr: [1, 2, 3], isrReported: false, reassignment: { adding: [4], removing: [1] } })
  const reported = moved.apply([{ type: 'partitionLeader', topicId: ID, partition: 0, leader: 4, leaderEpoch: 5 }])
  t.same(reported.topic('orders')!.partitionStates[0].reassignment, { adding: [4], removing: [1] }, 'a leader report keeps the move')
  t.same(moved.apply([r([], [], [2, 3, 4])]).topic('orders')!.partitionStates[0], { replicas: [2, 3, 4], leader: -1, leaderEpoch: 4, isr: [2, 3, 4], isrReported: false }, 'over: the old leader is forgotten')
  const withIsr = moved.apply([{ type: 'partitionLeader', topicId: ID, partition: 0, leader: 1, leaderEpoch: 4, isr: [1, 2] }])
  t.same(withIsr.apply([r([], [], [2, 3, 4])]).topic('orders')!.partitionStates[0].isr, [2], 'a removed replica leaves the reported ISR with the move')
})
