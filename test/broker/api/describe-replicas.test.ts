// DescribeQuorum naming data partitions (api/describe-replicas.ts) against a real three-replica
// partition (test/broker/partition/cluster.ts): the leader answers its epoch, HW, log start, ISR
// and each replica's log end, flushed offset and lag; a follower answers NOT_LEADER_OR_FOLLOWER
// naming the leader; an unknown partition UNKNOWN_TOPIC_OR_PARTITION; too many partitions in one
// request INVALID_REQUEST.
import t from 'tap'
import { describeReplicas } from '../../../src/broker/api/describe-replicas.js'
import { DESCRIBE_REPLICAS_PARTITIONS_MAX } from '../../../src/broker/limits.js'
import { InSyncReplicas } from '../../../src/broker/partition/isr.js'
import type { PartitionReplica } from '../../../src/broker/partition/replica.js'
import { MetadataImage } from '../../../src/metadata/image.js'
import { newTopicRecords } from '../../../src/metadata/records.js'
import { ErrorCode, type bitacora } from '../../../src/protocol/index.js'
import { Cluster } from '../partition/cluster.js'

const TOPIC_ID = '1'.padStart(32, '0')
const image = MetadataImage.EMPTY.apply(newTopicRecords({ name: 't', id: TOPIC_ID, configs: {} }, [[1, 2, 3]]))

/** The API as broker `r` serves it (its one replica of t-0). */
function on(r: PartitionReplica) {
  const lookup = {
    replica: (topicId: string, p: number) => (topicId === TOPIC_ID && p === 0 ? r : undefined),
    partition: (topic: string, p: number) => (topic === 't' && p === 0 ? r : undefined),
    led: () => [],
  }
  const deps = { image: () => image, partitions: lookup, isr: new InSyncReplicas(lookup, () => image, 50) }
  return (topics: Array<{ name: string; partitions?: number[] }>) => describeReplicas(deps, { topics })
}

type PartitionQuorum = bitacora.DescribeQuorumResponse.IPartitionQuorum
const partitionsOf = (answer: ReturnType<ReturnType<typeof on>>): PartitionQuorum[] => ('describeQuorum' in answer ? answer.describeQuorum.partitions ?? [] : [])

t.test('the leader describes each replica; a follower names the leader; an unknown partition is said so', async (t) => {
  const c = await Cluster.start({ voters: 3 })
  t.teardown(() => c.stopAll())
  const leader = await c.electLeader()
  const leaderId = c.leaderId()!
  await c.produce(leader, 5)
  // A follower reports what it flushed on the fetch after the flush, which may come after the
  // fetch that reached the log end: wait for both.
  await c.until('every follower fetched and flushed the leader\'s log end', () =>
    leader.status().progress!.every((p) => p.fetchOffset === leader.log.logEndOffset && p.flushedOffset === leader.log.logEndOffset))
  const [p] = partitionsOf(on(leader)([{ name: 't' }]))
  const end = leader.log.logEndOffset
  t.match(p, { topic: 't', partition: 0, error: null, leaderId, leaderEpoch: leader.leaderEpoch, highWatermark: leader.highWatermark, logStartOffset: 0, isr: [1, 2, 3] })
  t.same(p.voters!.map((v) => [v.nodeId, v.logEndOffset, v.lag]), [1, 2, 3].map((id) => [id, end, 0]), 'every replica at the leader\'s log end')
  t.ok(p.voters!.every((v) => v.flushedOffset === end), 'and flushed it')

  const followerId = c.ids.find((id) => id !== leaderId)!
  const [f] = partitionsOf(on(c.get(followerId))([{ name: 't', partitions: [0] }]))
  t.match(f, { leaderId, error: { code: ErrorCode.NOT_LEADER_OR_FOLLOWER, message: new RegExp(`broker ${leaderId} leads it`) } })
  const [u] = partitionsOf(on(leader)([{ name: 'nope', partitions: [0] }]))
  t.match(u, { error: { code: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION } })
  const tooMany = on(leader)([{ name: 't', partitions: Array.from({ length: DESCRIBE_REPLICAS_PARTITIONS_MAX + 1 }, () => 0) }])
  t.match(tooMany, { error: { code: ErrorCode.INVALID_REQUEST } })
})
