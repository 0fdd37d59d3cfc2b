// Leadership balance, decided (controller/decisions/leader-balance.ts): which partitions a
// preferred election moves, and when the balancer moves them on its own.
import t from 'tap'
import { imbalanceDue, preferredElections } from '../../../src/broker/controller/decisions/leader-balance.js'
import { MetadataImage, type MetadataRecord } from '../../../src/metadata/image.js'

const ID = 'cd'.repeat(16)
function image(leaders: number[], fenced: number[] = []): MetadataImage {
  const records: MetadataRecord[] = [1, 2, 3].map((brokerId) => ({
    type: 'brokerRegistration', brokerId, incarnationId: `${brokerId}`.repeat(32), url: `ws://127.0.0.1:${9091 + brokerId}/`, rack: '', directoryId: `${brokerId + 3}`.repeat(32),
  }))
  for (const brokerId of [1, 2, 3]) if (!fenced.includes(brokerId)) records.push({ type: 'unfenceBroker', brokerId })
  records.push({ type: 'topic', name: 'orders', topicId: ID })
  leaders.forEach((leader, index) => {
    records.push({ type: 'partition', topicId: ID, index, replicas: [index + 1, ((index + 1) % 3) + 1] })
    if (leader >= 0) records.push({ type: 'partitionLeader', topicId: ID, partition: index, leader, leaderEpoch: 1 })
  })
  return MetadataImage.EMPTY.apply(records)
}

t.test('a preferred election moves partitions led by another replica to their first, when it can lead', async (t) => {
  const i = image([1, 3, -1], [])
  t.same(preferredElections(i, null).map((e) => e.kind), ['notNeeded', 'move', 'unavailable'])
  t.match(preferredElections(i, null)[1], { kind: 'move', leader: 3, preferred: 2, ref: { topic: 'orders', partition: 1, topicId: ID } })
  t.match(preferredElections(i, null)[2], { why: /no leader is known/ })
  t.match(preferredElections(image([1, 3, 1], [2]), [{ topic: 'orders', partitions: [1] }]), [{ kind: 'unavailable', why: /broker 2, is fenced/ }])
  t.match(preferredElections(i, [{ topic: 'orders', partitions: [7] }, { topic: 'nope', partitions: null }]), [
    { kind: 'unknown', why: /has partitions 0..2, not 7/ }, { kind: 'unknown', topic: 'nope', why: /no topic named "nope"/ },
  ])
})

t.test('the balancer moves a partition once it has been led by another replica for the delay, and forgets one balanced again', async (t) => {
  const off = image([2, 2, 3])
  let r = imbalanceDue(off, new Map(), 1_000, 3_000)
  t.same(r.due, [], 'just seen: not due yet')
  t.same([...r.since], [[`${ID}/0`, 1_000]])
  r = imbalanceDue(off, r.since, 3_999, 3_000)
  t.same(r.due, [])
  r = imbalanceDue(off, r.since, 4_000, 3_000)
  t.match(r.due, [{ kind: 'move', leader: 2, preferred: 1 }], 'due after the delay')
  r = imbalanceDue(image([1, 2, 3]), r.since, 5_000, 3_000)
  t.same([...r.since], [], 'balanced again: forgotten')
  r = imbalanceDue(off, r.since, 6_000, 3_000)
  t.same(r.due, [], 'an imbalance that comes back counts anew')
})
