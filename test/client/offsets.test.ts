// ListOffsets across a leader move, with the client's real metadata cache and topic router and
// the brokers replaced at their one I/O boundary (Broker.request): a NOT_LEADER_OR_FOLLOWER
// answer naming a newer leader is followed at once, each query carries the epoch the cache
// knows, and a new leader's OFFSET_NOT_AVAILABLE (its high watermark not caught up) is retried.
// test/integration/client-failover.test.ts runs the same across a real failover.
import t from 'tap'
import { RetryPolicy } from '../../src/client/backoff.js'
import type { Cluster } from '../../src/client/cluster.js'
import { Deadline } from '../../src/client/deadline.js'
import { MetadataCache } from '../../src/client/metadata.js'
import { LATEST, listOffsets } from '../../src/client/offsets.js'
import { Sleeper } from '../../src/client/sleep.js'
import { TopicRouter } from '../../src/client/topic-router.js'
import { ErrorCode, type bitacora } from '../../src/protocol/index.js'

t.test('a hint of a newer leader is followed at once; the new leader is asked in its epoch until its offsets are available', async (t) => {
  const metadata = new MetadataCache(60_000)
  metadata.update({
    brokers: [{ id: 1, url: 'ws://127.0.0.1:1/' }, { id: 2, url: 'ws://127.0.0.1:2/' }],
    topics: [{ name: 't', topicId: new Uint8Array(16).fill(1), partitions: [{ index: 0, leaderId: 1, leaderEpoch: 3 }] }],
  }, Date.now())
  const asked: Array<[number, number | null | undefined]> = []
  const answers: Record<number, Array<bitacora.ListOffsetsResponse.IPartitionResult>> = {
    1: [{ error: { code: ErrorCode.NOT_LEADER_OR_FOLLOWER }, leaderHint: 2, leaderHintEpoch: 4 }],
    2: [{ error: { code: ErrorCode.OFFSET_NOT_AVAILABLE } }, { error: null, offset: 42, leaderEpoch: 4 }],
  }
  const broker = (id: number) => ({
    request: async (_api: string, body: bitacora.IListOffsetsRequest) => {
      asked.push([id, body.topics![0].partitions![0].currentLeaderEpoch])
      const answer = answers[id].shift() ?? { error: { code: ErrorCode.NOT_LEADER_OR_FOLLOWER } }
      return { topics: [{ name: 't', partitions: [{ index: 0, offset: -1, ...answer }] }] }
    },
  })
  const brokers = new Map([[1, broker(1)], [2, broker(2)]])
  const cluster = { now: () => Date.now(), brokerById: (id: number) => brokers.get(id), ensureTopics: async () => undefined, metadata } as unknown as Cluster
  const retry = new RetryPolicy({ initialMs: 10, maxMs: 10 })
  const sleeper = new Sleeper()
  const router = new TopicRouter(cluster, retry, sleeper, () => false)
  const [answer] = await listOffsets(cluster, router, retry, sleeper, [{ topic: 't', partition: 0, timestamp: LATEST }], Deadline.after(5_000, 'apiTimeoutMs', Date.now()))
  t.equal(answer.offset, 42)
  t.same(asked, [[1, 3], [2, 4], [2, 4]], 'broker 1 in epoch 3, then the hinted leader in epoch 4, again after OFFSET_NOT_AVAILABLE')
  t.equal(metadata.leaderOf('t', 0), 2)
})
