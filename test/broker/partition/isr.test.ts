// In-sync replicas and min.insync.replicas on real replicas (test/broker/partition/cluster.ts:
// three PartitionReplicas over simulated disks, one process): the leader's ISR drops a follower
// cut off for longer than the lag time and takes it back once it caught up; an acks=all wait for
// more replicas than a majority is not released by the HW alone; Produce refuses with
// NOT_ENOUGH_REPLICAS, appending nothing, while the ISR is below min.insync.replicas, and answers
// NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR shrank under a waiting batch.
import t from 'tap'
import { produce } from '../../../src/broker/api/produce.js'
import { DEFAULT_LIMITS } from '../../../src/broker/limits.js'
import { AppendOrder } from '../../../src/broker/partition/append-order.js'
import { InSyncReplicas, isrOfStatus } from '../../../src/broker/partition/isr.js'
import type { PartitionReplica } from '../../../src/broker/partition/replica.js'
import { MetadataImage } from '../../../src/metadata/image.js'
import { newTopicRecords } from '../../../src/metadata/records.js'
import { ErrorCode } from '../../../src/protocol/index.js'
import { Cluster, codec, turn } from './cluster.js'

const TICK_MS = 50
const LAG_MS = 1_000
const LAG_TICKS = LAG_MS / TICK_MS
const TOPIC_ID = '1'.padStart(32, '0')

async function threeReplicas(t: { teardown(fn: () => unknown): void }) {
  const c = await Cluster.start({ voters: 3 })
  t.teardown(() => c.stopAll())
  const leader = await c.electLeader()
  const leaderId = c.leaderId()!
  const [a, b] = c.ids.filter((id) => id !== leaderId)
  await c.until('every follower fetched', () => leader.status().progress!.every((p) => p.fetchOffset >= 0))
  return { c, leader, leaderId, followers: [a, b] as const }
}

const isr = (r: PartitionReplica) => isrOfStatus(r.status(), LAG_TICKS)

/** The real ISR view over the cluster's replicas, for a topic `t` with `configs`. */
function isrView(c: Cluster, configs: Record<string, string>) {
  const image = MetadataImage.EMPTY.apply(newTopicRecords({ name: 't', id: TOPIC_ID, configs }, [[1, 2, 3]]))
  const lookup = {
    replica: (topicId: string, p: number) => (topicId === TOPIC_ID && p === 0 ? c.leader() : undefined),
    partition: (topic: string, p: number) => (topic === 't' && p === 0 ? c.leader() : undefined),
    led: () => [],
  }
  return { image, lookup, view: new InSyncReplicas(lookup, () => image, TICK_MS) }
}

/** A Produce of one batch to `t`, the cluster ticking (its only clock) until it is answered. */
async function produceTo(c: Cluster, configs: Record<string, string>, o: { timeoutMs?: number; acks?: number } = {}) {
  const { image, lookup, view } = isrView(c, configs)
  const records = codec.encodeBatch([{ value: new TextEncoder().encode('v'), timestamp: Date.now() }])
  const req = { acks: o.acks ?? -1, timeoutMs: o.timeoutMs ?? 30_000, topics: [{ name: 't', partitions: [{ index: 0, records }] }] }
  let answered = false
  const answer = produce({ image: () => image, partitions: lookup, codec, limits: DEFAULT_LIMITS, isr: view }, req, new AppendOrder())
    .finally(() => (answered = true))
  while (!answered) await c.tick()
  return (await answer).topics![0].partitions![0]
}

t.test('a follower cut off for longer than the lag time leaves the ISR, and rejoins once caught up', async (t) => {
  const { c, leader, leaderId, followers: [cut, other] } = await threeReplicas(t)
  t.same(isr(leader), [1, 2, 3], 'all three in sync')
  c.isolate(cut)
  await c.produce(leader, 3)
  await c.until('the cut-off follower leaves the ISR', () => !isr(leader).includes(cut), 10 * LAG_TICKS)
  t.same(isr(leader), [leaderId, other].sort(), 'the leader and the follower that kept up')
  c.healAll()
  await c.until('it rejoins', () => isr(leader).includes(cut), 10 * LAG_TICKS)
  const progress = leader.status().progress!.find((p) => p.id === cut)!
  t.equal(progress.flushedOffset, leader.log.logEndOffset, "it rejoined with the leader's log end flushed")
})

t.test('a follower that keeps up under steady appends stays in the ISR', async (t) => {
  const { c, leader } = await threeReplicas(t)
  for (let i = 0; i < 5 * LAG_TICKS; i++) {
    void c.produce(leader, 2)
    await c.tick()
    t.same(isr(leader), [1, 2, 3], `tick ${i}`) // (tap collapses passing asserts)
  }
})

t.test('acks=all with min.insync.replicas=3 waits for all three flushes: the HW (a majority) is not enough', async (t) => {
  const { c, leader, followers: [cut] } = await threeReplicas(t)
  c.isolate(cut)
  const info = await c.produce(leader, 1)
  let released = false
  const waiting = leader.committed(info.nextOffset, 30_000, 3).then(() => (released = true))
  await c.until('the HW passes the batch (a majority flushed it)', () => leader.highWatermark >= info.nextOffset)
  for (let i = 0; i < 5; i++) await c.tick()
  t.notOk(released, 'not released while only two replicas have it')
  c.healAll()
  await c.until('released once the third flushed it', () => released)
  await waiting
  t.ok(await leader.committed(info.nextOffset, 1_000, 3).then(() => true), 'a later wait for the same offset resolves at once')
})

t.test('min.insync.replicas=3: the last flush report releases the wait at once, though its fetch is parked without a Ready', async (t) => {
  // A long parked wait: without the check after every input, the wait would end only when the
  // third replica's parked fetch expires (50 ticks) and its answer makes a Ready.
  const c = await Cluster.start({ voters: 3, raft: { fetchMaxWaitTicks: 50, fetchRetryTicks: 60 }, electionTimeoutTicks: 100 })
  t.teardown(() => c.stopAll())
  const leader = await c.electLeader()
  await c.until('every follower fetched the log end', () => leader.status().progress!.every((p) => p.fetchOffset === leader.log.logEndOffset))
  const info = await c.produce(leader, 1)
  let released = false
  void leader.committed(info.nextOffset, 30_000, 3).then(() => (released = true))
  for (let i = 0; i < 200 && !released; i++) await turn() // messages flow; no tick
  t.ok(released, 'released without a tick')
})

t.test('Produce: NOT_ENOUGH_REPLICAS before appending while the ISR is below min.insync.replicas; acks=1 unaffected', async (t) => {
  const { c, leader, followers: [cut] } = await threeReplicas(t)
  const configs = { 'min.insync.replicas': '3', 'replica.lag.time.max.ms': String(LAG_MS) }
  t.match(await produceTo(c, configs), { error: null }, 'accepted with all three in sync')
  c.isolate(cut)
  await c.until('the cut-off follower leaves the ISR', () => !isr(leader).includes(cut), 10 * LAG_TICKS)
  const logEnd = leader.log.logEndOffset
  const refused = await produceTo(c, configs)
  t.equal(refused.error?.code, ErrorCode.NOT_ENOUGH_REPLICAS)
  t.match(refused.error?.message, /2 in-sync replica\(s\) .*fewer than min\.insync\.replicas=3; nothing appended/)
  t.equal(leader.log.logEndOffset, logEnd, 'nothing appended')
  t.match(await produceTo(c, configs, { acks: 1 }), { error: null }, 'acks=1 ignores min.insync.replicas, as Kafka')
  t.match(await produceTo(c, { ...configs, 'min.insync.replicas': '2' }), { error: null }, 'min.insync.replicas=2: two in sync suffice')
})

t.test('Produce: NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR shrinks under a waiting batch', async (t) => {
  const { c, leader, followers: [cut] } = await threeReplicas(t)
  const configs = { 'min.insync.replicas': '3', 'replica.lag.time.max.ms': String(LAG_MS) }
  c.isolate(cut) // still in the ISR: cut off for less than the lag time
  t.same(isr(leader), [1, 2, 3])
  // The cluster ticks until the answer, so the follower leaves the ISR (20 ticks) before the
  // timeout (1.5 s of 4-turn ticks).
  const result = await produceTo(c, configs, { timeoutMs: 1_500 })
  t.notOk(isr(leader).includes(cut), 'it left the ISR meanwhile')
  t.equal(result.error?.code, ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND, result.error?.message ?? '')
})
