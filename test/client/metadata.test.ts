import t from 'tap'
import { MetadataCache } from '../../src/client/metadata.js'
import { ErrorCode, type bitacora } from '../../src/protocol/index.js'

function response(topics: bitacora.ITopicMetadata[]): bitacora.IMetadataResponse {
  return {
    brokers: [{ id: 1, url: 'ws://a:1' }, { id: 2, url: 'ws://b:2' }, { id: 3, url: 'ws://c:3' }],
    clusterId: 'c1',
    controllerId: 1,
    topics,
  }
}

const events: bitacora.ITopicMetadata = {
  name: 'events',
  topicId: new Uint8Array(16).fill(7),
  partitions: [
    { index: 1, leaderId: 2, leaderEpoch: 5, replicas: [1, 2, 3], inSyncReplicas: [2, 3] },
    { index: 0, leaderId: 1, leaderEpoch: 4, replicas: [1, 2, 3], inSyncReplicas: [1, 2, 3] },
    { index: 2, leaderId: -1, leaderEpoch: 9, replicas: [1, 2, 3], inSyncReplicas: [], error: { code: ErrorCode.LEADER_NOT_AVAILABLE } },
  ],
}

t.test('routes each partition to its leader broker', async (t) => {
  const cache = new MetadataCache(60_000)
  cache.update(response([events]), 1000)
  t.equal(cache.clusterId, 'c1')
  t.equal(cache.partitionCount('events'), 3)
  t.equal(cache.leaderOf('events', 0), 1)
  t.equal(cache.leaderOf('events', 1), 2)
  t.equal(cache.leaderOf('events', 2), -1)
  t.equal(cache.leaderOf('events', 9), -1)
  t.equal(cache.leaderOf('nope', 0), -1)
  t.equal(cache.leaderAddress('events', 1)?.url, 'ws://b:2')
  t.equal(cache.leaderAddress('events', 2), undefined)
  t.same(cache.availablePartitions('events'), [0, 1], 'leaderless partitions are not offered to keyless records')
  t.equal(cache.topic('events')!.partitions[2].error?.code, 'LEADER_NOT_AVAILABLE')
})

t.test('needs a refresh when unknown, stale, errored or older than maxAge', async (t) => {
  const cache = new MetadataCache(60_000)
  t.ok(cache.needsRefresh('events', 0))
  cache.update(response([events, { name: 'ghost', error: { code: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION } }]), 1000)
  t.notOk(cache.needsRefresh('events', 1000))
  t.notOk(cache.needsRefresh('events', 60_999))
  t.ok(cache.needsRefresh('events', 61_000))
  t.ok(cache.needsRefresh('ghost', 1000), 'a topic with an error is fetched again')
  t.equal(cache.topic('ghost')!.error?.retriable, true)
  cache.markStale('events')
  t.ok(cache.needsRefresh('events', 1000))
  cache.update(response([events]), 2000)
  t.notOk(cache.needsRefresh('events', 2000))
})

t.test('a leader hint is taken only when it names a known broker in a newer epoch', async (t) => {
  const cache = new MetadataCache(60_000)
  cache.update(response([events]), 0)
  t.equal(cache.applyLeaderHint('events', 0, { leaderId: 3, leaderEpoch: 5 }), true)
  t.equal(cache.leaderOf('events', 0), 3)
  t.equal(cache.leaderEpochOf('events', 0), 5, 'the hint brings its epoch: the next fetch carries it')
  t.notOk(cache.needsRefresh('events', 0), 'a good hint saves the metadata round trip')
  t.equal(cache.applyLeaderHint('events', 0, { leaderId: 1, leaderEpoch: 5 }), false, 'same epoch: nothing new (one leader per epoch)')
  t.equal(cache.leaderOf('events', 0), 3)
  t.ok(cache.needsRefresh('events', 0), 'a hint not taken asks for a refresh')
  cache.update(response([events]), 0)
  t.equal(cache.leaderOf('events', 0), 3, 'a Metadata answer older than the hint taken does not undo it')
  t.equal(cache.applyLeaderHint('events', 1, { leaderId: 1, leaderEpoch: 4 }), false, 'an older epoch (a lagging broker) is ignored')
  t.equal(cache.applyLeaderHint('events', 1, { leaderId: 2, leaderEpoch: 6 }), true, 'the broker that answered, in a new epoch (FENCED_LEADER_EPOCH)')
  t.equal(cache.applyLeaderHint('events', 1, { leaderId: 42, leaderEpoch: 9 }), false, 'unknown broker id')
  t.equal(cache.applyLeaderHint('events', 1, { leaderId: -1, leaderEpoch: 9 }), false, 'no leader in that epoch yet')
  t.equal(cache.applyLeaderHint('events', 1, { leaderId: 3, leaderEpoch: null }), false, 'a hint without an epoch (an older broker)')
  t.equal(cache.leaderOf('events', 1), 2)
  t.equal(cache.applyLeaderHint('nope', 0, { leaderId: 1, leaderEpoch: 1 }), false)
  cache.update(response([{ ...events, partitions: [{ index: 0, leaderId: 1 }] }].map((e) => ({ ...e, topicId: new Uint8Array(16).fill(9) }))), 0)
  t.equal(cache.leaderEpochOf('events', 0), -1)
  t.equal(cache.applyLeaderHint('events', 0, { leaderId: 2, leaderEpoch: 0 }), true, 'any epoch is newer than an unknown one')
})

t.test('a later response replaces topics; brokers are replaced only by a non-empty list', async (t) => {
  const cache = new MetadataCache(60_000)
  cache.update(response([events]), 0)
  cache.update({ topics: [{ name: 'events', partitions: [{ index: 0, leaderId: 3 }] }] }, 5)
  t.equal(cache.partitionCount('events'), 1)
  t.equal(cache.leaderOf('events', 0), 3)
  t.equal(cache.broker(3)?.url, 'ws://c:3')
})

t.test('an answer with an older leader epoch for a partition is ignored; a re-created topic is taken whole', async (t) => {
  const cache = new MetadataCache(60_000)
  cache.update(response([events]), 0)
  const lagging: bitacora.ITopicMetadata = {
    ...events,
    partitions: [
      { index: 0, leaderId: 3, leaderEpoch: 3, replicas: [1, 2, 3] }, // older than 4: a node that missed the election
      { index: 1, leaderId: 3, leaderEpoch: 6, replicas: [1, 2, 3] }, // newer than 5
      { index: 2, leaderId: 2, leaderEpoch: 9, replicas: [1, 2, 3] }, // same epoch: the answer wins
    ],
  }
  cache.update(response([lagging]), 10)
  t.equal(cache.leaderOf('events', 0), 1, 'the older answer did not move partition 0')
  t.equal(cache.topic('events')!.partitions[0].leaderEpoch, 4)
  t.equal(cache.leaderOf('events', 1), 3)
  t.equal(cache.leaderOf('events', 2), 2)
  t.same(cache.availablePartitions('events'), [0, 1, 2])
  const recreated = { ...lagging, topicId: new Uint8Array(16).fill(8) }
  cache.update(response([recreated]), 20)
  t.equal(cache.leaderOf('events', 0), 3, 'a new topic id starts over: its epochs are its own')
})

t.test('brokers carry their fenced state', async (t) => {
  const cache = new MetadataCache(60_000)
  cache.update({ brokers: [{ id: 1, url: 'ws://a:1' }, { id: 2, url: 'ws://b:2', fenced: true }] }, 0)
  t.equal(cache.broker(1)?.fenced, false)
  t.equal(cache.broker(2)?.fenced, true)
})

t.test('holes in the partition list become leaderless partitions', async (t) => {
  const cache = new MetadataCache(60_000)
  cache.update(response([{ name: 'holey', partitions: [{ index: 2, leaderId: 1 }] }]), 0)
  t.equal(cache.partitionCount('holey'), 3)
  t.same(cache.availablePartitions('holey'), [2])
})

t.test('the number of cached topics is bounded; the least recently updated goes first', async (t) => {
  const cache = new MetadataCache(60_000, 2)
  cache.update(response([{ name: 'a', partitions: [] }]), 1)
  cache.update(response([{ name: 'b', partitions: [] }]), 2)
  cache.update(response([{ name: 'c', partitions: [] }]), 3)
  t.same(cache.topicNames().sort(), ['b', 'c'])
  cache.forget('b')
  t.same(cache.topicNames(), ['c'])
})
