// Fetch, ListOffsets and Produce against a real three-replica partition (test/broker/partition/
// cluster.ts: PartitionReplicas over simulated disks, wired in one process): a replica that does
// not lead answers NOT_LEADER_OR_FOLLOWER naming the leader and its epoch (KIP-951), and a
// request carrying the leader epoch its client knows is fenced by it (KIP-320):
// FENCED_LEADER_EPOCH when older (with the hint), UNKNOWN_LEADER_EPOCH when newer, unchecked
// when absent or -1.
import t from 'tap'
import { fetch } from '../../../src/broker/api/fetch.js'
import { listOffsets } from '../../../src/broker/api/list-offsets.js'
import { produce } from '../../../src/broker/api/produce.js'
import { DEFAULT_LIMITS } from '../../../src/broker/limits.js'
import { AppendOrder } from '../../../src/broker/partition/append-order.js'
import { ReadBufferPool, ReadLease } from '../../../src/broker/partition/read-buffers.js'
import type { PartitionReplica } from '../../../src/broker/partition/replica.js'
import { MetadataImage } from '../../../src/metadata/image.js'
import { newTopicRecords } from '../../../src/metadata/records.js'
import { ErrorCode } from '../../../src/protocol/index.js'
import { Cluster, codec } from '../partition/cluster.js'

const pool = new ReadBufferPool()
const image = MetadataImage.EMPTY.apply(newTopicRecords({ name: 't', id: '1'.padStart(32, '0'), configs: {} }, [[1, 2, 3]]))

function on(r: PartitionReplica) {
  const partitions = { partition: (topic: string, index: number) => (topic === 't' && index === 0 ? r : undefined) }
  return {
    fetch: async (currentLeaderEpoch?: number | null) => {
      const lease = new ReadLease(pool)
      const req = { maxWaitMs: 0, topics: [{ name: 't', partitions: [{ index: 0, fetchOffset: 0, currentLeaderEpoch }] }] }
      const res = await fetch({ partitions, limits: DEFAULT_LIMITS }, req, new AbortController().signal, lease)
      lease.release()
      return res.topics![0].partitions![0]
    },
    latest: async (currentLeaderEpoch?: number | null) =>
      (await listOffsets(partitions, { topics: [{ name: 't', partitions: [{ index: 0, timestamp: -1, currentLeaderEpoch }] }] })).topics![0].partitions![0],
    produce: async () => {
      const records = codec.encodeBatch([{ value: new TextEncoder().encode('v'), timestamp: Date.now() }])
      const req = { acks: 1, topics: [{ name: 't', partitions: [{ index: 0, records }] }] }
      // acks=1: min.insync.replicas is not consulted, so no ISR is known here.
      return (await produce({ image: () => image, partitions, codec, limits: DEFAULT_LIMITS, isr: { of: () => null } }, req, new AppendOrder())).topics![0].partitions![0]
    },
  }
}

async function threeReplicas(t: { teardown(fn: () => unknown): void }) {
  const c = await Cluster.start({ voters: 3 })
  t.teardown(() => c.stopAll())
  const leader = await c.electLeader()
  const leaderId = c.leaderId()!
  const followerId = c.ids.find((id) => id !== leaderId)!
  await c.until('the follower knows the leader', () => c.get(followerId).leaderId === leaderId)
  return { c, leader, leaderId, epoch: leader.leaderEpoch, follower: c.get(followerId) }
}

t.test('a follower answers NOT_LEADER_OR_FOLLOWER with the leader and its epoch, on fetch, list offsets and produce', async (t) => {
  const { leaderId, epoch, follower } = await threeReplicas(t)
  const hint = { error: { code: ErrorCode.NOT_LEADER_OR_FOLLOWER }, leaderHint: leaderId, leaderHintEpoch: epoch }
  t.match(await on(follower).fetch(epoch), hint, 'fetch')
  t.match(await on(follower).latest(epoch), hint, 'list offsets (it used to answer without a hint)')
  t.match(await on(follower).produce(), hint, 'produce')
})

t.test("fetch and list offsets are fenced by the client's leader epoch", async (t) => {
  const { leader, leaderId, epoch } = await threeReplicas(t)
  for (const [what, ask] of [['fetch', on(leader).fetch], ['list offsets', on(leader).latest]] as const) {
    t.equal((await ask(epoch)).error, null, `${what}: the current epoch is served`)
    t.equal((await ask(-1)).error, null, `${what}: -1 is not checked`)
    t.equal((await ask(undefined)).error, null, `${what}: an absent epoch (old clients, raw reads) is not checked`)
    t.match(await ask(epoch - 1), { error: { code: ErrorCode.FENCED_LEADER_EPOCH }, leaderHint: leaderId, leaderHintEpoch: epoch }, `${what}: an older epoch is fenced, with the hint`)
    const newer = await ask(epoch + 1)
    t.equal(newer.error?.code, ErrorCode.UNKNOWN_LEADER_EPOCH, `${what}: a newer epoch than the replica knows`)
    t.notOk(newer.leaderHint, `${what}: no hint from a replica that lags`)
  }
})

t.test('after the leader moves, a client of the old epoch is fenced by the new leader and told its epoch', async (t) => {
  const { c, leaderId, epoch } = await threeReplicas(t)
  await c.stop(leaderId) // resigns: the others elect a successor
  await c.until('a new leader', () => c.leader() !== undefined && c.leaderId() !== leaderId && c.leader()!.leaderReady)
  const next = c.leader()!
  t.ok(next.leaderEpoch > epoch)
  t.match(await on(next).fetch(epoch), { error: { code: ErrorCode.FENCED_LEADER_EPOCH }, leaderHint: c.leaderId(), leaderHintEpoch: next.leaderEpoch })
  t.equal((await on(next).fetch(next.leaderEpoch)).error, null)
})
