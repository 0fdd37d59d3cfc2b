// The metadata mode's fold of a log's payloads into an image (what the controller-state rule
// compares with): whole batches in order, control records skipped, and a batch cut short or
// one that does not fit named rather than half applied.
import t from 'tap'
import { MetadataImage, type MetadataRecord } from '../../src/metadata/image.js'
import { foldPayloads, imageEncoding, MetadataPayloads } from '../../src/sim/metadata-machine.js'

const id = (n: number) => n.toString(16).padStart(32, '0')
const topic: MetadataRecord[] = [
  { type: 'topic', name: 'orders', topicId: id(1) },
  { type: 'partition', topicId: id(1), index: 0, replicas: [1] },
  { type: 'topicConfigSet', topicId: id(1), key: 'retention.ms', value: '1000' },
]
const registration: MetadataRecord = { type: 'brokerRegistration', brokerId: 1, incarnationId: id(2), url: 'ws://127.0.0.1:9092/', rack: '', directoryId: id(3) }

function payloads(): MetadataPayloads {
  const p = new MetadataPayloads()
  p.addBatch(10, topic) // payloads 10, 11, 12
  p.addBatch(13, [registration])
  p.addBatch(14, [{ type: 'topic', name: 'orders', topicId: id(4) }]) // the name is taken once 10.. applied
  return p
}

t.test('batches are replayed whole and in order; LeaderChange and voter records (payload <= 0) are skipped', async (t) => {
  const image = foldPayloads(MetadataImage.EMPTY, [-1, 10, 11, 12, -3, 13], payloads())
  t.type(image, MetadataImage)
  const want = MetadataImage.EMPTY.apply(topic).apply([registration])
  t.equal(imageEncoding(image as MetadataImage), imageEncoding(want))
})

t.test('a batch cut short is named, not applied in part', async (t) => {
  t.match(foldPayloads(MetadataImage.EMPTY, [10, 11], payloads()), /payloads 10\.\. is cut short/)
  t.match(foldPayloads(MetadataImage.EMPTY, [11, 12], payloads()), /payload 11 does not start a batch/)
  t.match(foldPayloads(MetadataImage.EMPTY, [99], payloads()), /payload 99 does not start a batch/)
})

t.test('a batch that does not fit the image before it is named', async (t) => {
  t.match(foldPayloads(MetadataImage.EMPTY, [10, 11, 12, 14], payloads()), /payloads 14\.\. does not fit .*already exists/)
  t.type(foldPayloads(MetadataImage.EMPTY, [14], payloads()), MetadataImage, 'it fits an image without the first topic')
})
