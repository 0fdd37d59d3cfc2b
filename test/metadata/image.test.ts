import t from 'tap'
import { MetadataError, MetadataImage, type TopicImage } from '../../src/metadata/image.js'
import { topicNameProblem } from '../../src/metadata/topic-name.js'

const topic = (name: string, id: string, partitions = 1): TopicImage => ({ name, id, partitions, configs: {} })

t.test('records build the image; the old image is unchanged', async (t) => {
  const a = MetadataImage.EMPTY.apply([{ type: 'topic', topic: topic('b', 'id-b') }, { type: 'topic', topic: topic('a', 'id-a', 3) }])
  t.same(a.topics.map((x) => x.name), ['a', 'b'], 'listed by name')
  t.equal(a.topic('a')?.partitions, 3)
  const b = a.apply([{ type: 'topicConfigs', id: 'id-a', configs: { 'retention.ms': '1' } }, { type: 'removeTopic', id: 'id-b' }])
  t.same(b.topic('a')?.configs, { 'retention.ms': '1' })
  t.equal(b.topic('b'), undefined)
  t.equal(b.topicCount, 1)
  t.same(a.topic('a')?.configs, {}, 'the earlier image still holds the old configs')
  t.equal(a.topicCount, 2)
  t.equal(MetadataImage.EMPTY.topicCount, 0)
})

t.test('records that do not fit the image are refused whole', async (t) => {
  const a = MetadataImage.EMPTY.apply([{ type: 'topic', topic: topic('a', 'id-a') }])
  t.throws(() => a.apply([{ type: 'topic', topic: topic('a', 'other') }]), MetadataError, 'a name taken')
  t.throws(() => a.apply([{ type: 'topic', topic: topic('c', 'id-a') }]), MetadataError, 'an id taken')
  t.throws(() => a.apply([{ type: 'removeTopic', id: 'nope' }]), MetadataError)
  t.throws(() => a.apply([{ type: 'topic', topic: topic('c', 'id-c') }, { type: 'topicConfigs', id: 'nope', configs: {} }]), MetadataError)
  t.equal(a.topic('c'), undefined, 'a failed batch changes nothing')
  const recreated = a.apply([{ type: 'removeTopic', id: 'id-a' }, { type: 'topic', topic: topic('a', 'id-a2') }])
  t.equal(recreated.topic('a')?.id, 'id-a2', 'a name is free again once its topic is removed')
})

t.test("topic names follow Kafka's rule", async (t) => {
  t.equal(topicNameProblem('a'.repeat(249)), null)
  t.match(topicNameProblem('a'.repeat(250)), /1\.\.249/)
  t.match(topicNameProblem(''), /1\.\.249/)
  t.match(topicNameProblem('..'), /cannot be/)
  t.match(topicNameProblem('a/b'), /may only contain/)
  t.equal(topicNameProblem('Orders_v2.eu-west'), null)
})
