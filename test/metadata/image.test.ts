import t from 'tap'
import { MetadataError, MetadataImage, type MetadataRecord } from '../../src/metadata/image.js'
import { configChangeRecords, newTopicRecords } from '../../src/metadata/records.js'
import { topicNameProblem } from '../../src/metadata/topic-name.js'

const id = (n: number) => n.toString(16).padStart(32, '0')
const topic = (name: string, topicId: string, partitions = 1, replicas = [1]): MetadataRecord[] =>
  newTopicRecords({ name, id: topicId, configs: {} }, Array.from({ length: partitions }, () => replicas))
const broker = (brokerId: number, rack = ''): MetadataRecord => ({
  type: 'brokerRegistration', brokerId, incarnationId: id(100 + brokerId), url: `ws://127.0.0.1:${9092 + brokerId}/`, rack, directoryId: id(200 + brokerId),
})

t.test('records build the image; the old image is unchanged', async (t) => {
  const a = MetadataImage.EMPTY.apply([...topic('b', id(2)), ...topic('a', id(1), 3)])
  t.same(a.topics.map((x) => x.name), ['a', 'b'], 'listed by name')
  t.equal(a.topic('a')?.partitions, 3)
  t.equal(a.topicById(id(1))?.name, 'a')
  t.same(a.topic('a')?.partitionStates[2], { replicas: [1], leader: -1, leaderEpoch: -1, isr: [1], isrReported: false }, 'no leader known before a report; the replicas stand for the ISR')
  const b = a.apply([...configChangeRecords(id(1), {}, { 'retention.ms': '1' }), { type: 'removeTopic', topicId: id(2) }])
  t.same(b.topic('a')?.configs, { 'retention.ms': '1' })
  t.equal(b.topic('b'), undefined)
  t.equal(b.topicById(id(2)), undefined)
  t.equal(b.topicCount, 1)
  t.same(a.topic('a')?.configs, {}, 'the earlier image still holds the old configs')
  t.equal(a.topicCount, 2)
  t.equal(MetadataImage.EMPTY.topicCount, 0)
  const c = b.apply(configChangeRecords(id(1), { 'retention.ms': '1' }, { 'cleanup.policy': 'compact' }))
  t.same(c.topic('a')?.configs, { 'cleanup.policy': 'compact' }, 'a config removed goes back to its default, another set')
})

t.test('brokers register fenced, are fenced and unfenced; a new incarnation replaces the old', async (t) => {
  const a = MetadataImage.EMPTY.apply([broker(2, 'b'), broker(1, 'a'), { type: 'unfenceBroker', brokerId: 1 }])
  t.same(a.brokers.map((b) => [b.brokerId, b.fenced, b.rack]), [[1, false, 'a'], [2, true, 'b']])
  const b = a.apply([{ type: 'fenceBroker', brokerId: 1 }, { ...broker(2), incarnationId: id(999) } as MetadataRecord])
  t.equal(b.broker(1)?.fenced, true)
  t.equal(b.broker(2)?.incarnationId, id(999))
  t.equal(b.broker(2)?.rack, '', 'the new registration replaces every field')
  t.equal(a.broker(1)?.fenced, false, 'the earlier image is unchanged')
})

t.test('records that do not fit the image are refused whole, naming the record and the problem', async (t) => {
  const a = MetadataImage.EMPTY.apply([broker(1), ...topic('a', id(1), 2, [1, 2])])
  const refused = (records: MetadataRecord[], pattern: RegExp, what: string) => {
    t.throws(() => a.apply(records), { name: 'MetadataError', message: pattern }, what)
  }
  refused(topic('a', id(9)), /topic "a" already exists/, 'a name taken')
  refused(topic('c', id(1)), /topic id .* is taken/, 'an id taken')
  refused(topic('a/b', id(9)), /may only contain/, 'an illegal name')
  refused(topic('c', 'not-a-uuid'), /32 lowercase hex digits/, 'a malformed id')
  refused([{ type: 'removeTopic', topicId: id(7) }], /no topic has id/, 'removing an unknown topic')
  refused([{ type: 'removeTopic', topicId: id(1) }, { type: 'partition', topicId: id(1), index: 2, replicas: [1] }], /record 2 of 2 \(partition\): no topic has id .* removed/, 'a partition of a removed topic')
  refused([{ type: 'partition', topicId: id(1), index: 3, replicas: [1] }], /its next is 2, not 3/, 'a gap in partition indexes')
  refused([{ type: 'partition', topicId: id(1), index: 2, replicas: [1, 1] }], /name a broker twice/, 'a replica twice')
  refused([{ type: 'partition', topicId: id(1), index: 2, replicas: [] }], /1\.\.16 replicas/, 'no replica')
  refused([{ type: 'partitionLeader', topicId: id(1), partition: 0, leader: 3, leaderEpoch: 1 }], /broker 3 is not a replica of a-0/, 'a leader outside the replicas')
  refused([{ type: 'partitionLeader', topicId: id(1), partition: 5, leader: 1, leaderEpoch: 1 }], /has no partition 5/, 'a leader of a partition that does not exist')
  refused([{ type: 'fenceBroker', brokerId: 4 }], /no broker 4 is registered/, 'fencing an unknown broker')
  refused([{ ...broker(3), url: '' } as MetadataRecord], /broker URL/, 'a registration without a URL')
  refused([{ type: 'topicConfigSet', topicId: id(8), key: 'retention.ms', value: '1' }], /no topic has id/, 'a config of an unknown topic')
  refused([{ type: 'producerIdBlock', brokerId: 1, firstId: 0, size: 0 }], /block size/, 'an empty producer id block')
  refused([{ type: 'featureLevel', name: 'x', level: -1 }], /feature level/, 'a negative feature level')
  const ids = a.apply([{ type: 'producerIdBlock', brokerId: 1, firstId: 0, size: 1000 }])
  t.throws(() => ids.apply([{ type: 'producerIdBlock', brokerId: 2, firstId: 999, size: 1000 }]), /below 1000 were handed out already/, 'overlapping producer ids')
  t.throws(() => a.apply([...topic('c', id(3)), { type: 'removeTopic', topicId: id(7) }]), MetadataError)
  t.equal(a.topic('c'), undefined, 'a refused batch changes nothing')
  const recreated = a.apply([{ type: 'removeTopic', topicId: id(1) }, ...topic('a', id(2))])
  t.equal(recreated.topic('a')?.id, id(2), 'a name is free again once its topic is removed, in the same batch too')
  t.equal(recreated.topic('a')?.partitions, 1)
})

t.test('a leader report older than the recorded epoch is ignored', async (t) => {
  const a = MetadataImage.EMPTY.apply(topic('a', id(1), 1, [1, 2, 3]))
  const leader = (leader: number, leaderEpoch: number): MetadataRecord => ({ type: 'partitionLeader', topicId: id(1), partition: 0, leader, leaderEpoch })
  const state = (image: MetadataImage) => {
    const p = image.topic('a')!.partitionStates[0]
    return [p.leader, p.leaderEpoch]
  }
  t.same(state(a.apply([leader(2, 5)])), [2, 5])
  t.same(state(a.apply([leader(2, 5), leader(3, 4)])), [2, 5], 'an older epoch loses')
  t.same(state(a.apply([leader(2, 5), leader(3, 5)])), [2, 5], 'the same epoch cannot change its leader')
  t.same(state(a.apply([leader(2, 5), leader(-1, 5)])), [2, 5], '"no leader" does not erase a known leader of the same epoch')
  t.same(state(a.apply([leader(-1, 5), leader(3, 5)])), [3, 5], 'the leader of an epoch follows "none known yet"')
  t.same(state(a.apply([leader(2, 5), leader(-1, 6)])), [-1, 6], 'a newer epoch without a leader')
  const { changes } = a.apply([leader(2, 5)]).replay([leader(3, 4)])
  t.same([...changes.changedTopicIds], [], 'an ignored report changes nothing')
})

t.test('replay says what a batch changed', async (t) => {
  const a = MetadataImage.EMPTY.apply([broker(1), ...topic('a', id(1)), ...topic('b', id(2))])
  const { image, changes } = a.replay([
    { type: 'removeTopic', topicId: id(1) }, ...topic('a', id(3)), ...topic('tmp', id(4)), { type: 'removeTopic', topicId: id(4) }, { type: 'unfenceBroker', brokerId: 1 },
  ])
  t.same([...changes.changedTopicIds], [id(3)], 'created; a topic created and removed in the batch is not there')
  t.same(changes.removedTopics.map((x) => [x.name, x.id]), [['a', id(1)]], 'removed, as it was')
  t.same([...changes.changedBrokerIds], [1])
  t.equal(image.topic('b'), a.topic('b'), 'an untouched topic is shared between images')
})

t.test('configs keep keys that look like object internals as keys', async (t) => {
  const a = MetadataImage.EMPTY.apply([...topic('a', id(1)), { type: 'topicConfigSet', topicId: id(1), key: '__proto__', value: 'x' }])
  const configs = a.topic('a')!.configs
  t.equal(Object.getPrototypeOf(configs), Object.prototype)
  t.same(Object.keys(configs), ['__proto__'])
  const b = a.apply([{ type: 'topicConfigRemoved', topicId: id(1), key: '__proto__' }])
  t.same(Object.keys(b.topic('a')!.configs), [])
})

t.test("topic names follow Kafka's rule", async (t) => {
  t.equal(topicNameProblem('a'.repeat(249)), null)
  t.match(topicNameProblem('a'.repeat(250)), /1\.\.249/)
  t.match(topicNameProblem(''), /1\.\.249/)
  t.match(topicNameProblem('..'), /cannot be/)
  t.match(topicNameProblem('a/b'), /may only contain/)
  t.equal(topicNameProblem('Orders_v2.eu-west'), null)
})

t.test("a leader's ISR report: recorded ascending, changed within its epoch, reset by a new epoch, refused when it cannot be", async (t) => {
  const base = MetadataImage.EMPTY.apply(topic('a', id(1), 1, [2, 1, 3]))
  const leader = (leaderEpoch: number, l: number, isr?: number[]): MetadataRecord => ({
    type: 'partitionLeader', topicId: id(1), partition: 0, leader: l, leaderEpoch, ...(isr ? { isr } : {}),
  })
  const state = (image: MetadataImage) => image.topic('a')!.partitionStates[0]
  t.match(state(base), { isr: [1, 2, 3], isrReported: false }, 'the replicas stand for the ISR until one is reported')
  const reported = base.apply([leader(1, 2, [3, 2, 1])])
  t.match(state(reported), { leader: 2, leaderEpoch: 1, isr: [1, 2, 3], isrReported: true })
  const shrunk = reported.apply([leader(1, 2, [2, 3])])
  t.same(state(shrunk).isr, [2, 3], 'the same leader and epoch: its new ISR')
  t.same(state(shrunk.apply([leader(0, 1, [1])])).isr, [2, 3], 'an older epoch is stale, its ISR too')
  t.same(state(shrunk.apply([leader(1, 2)])).isr, [2, 3], 'a report that says no ISR keeps the recorded one')
  t.match(state(shrunk.apply([leader(2, 3)])), { leader: 3, isr: [1, 2, 3], isrReported: false }, 'a new epoch without an ISR: unknown again')
  t.throws(() => shrunk.apply([leader(1, 2, [1, 3])]), { name: 'MetadataError', message: /lacks its leader 2/ })
  t.throws(() => shrunk.apply([leader(1, 2, [2, 9])]), { name: 'MetadataError', message: /ISR member 9 is not a replica/ })
  t.throws(() => shrunk.apply([leader(1, -1, [2])]), { name: 'MetadataError', message: /without a leader/ })
})
