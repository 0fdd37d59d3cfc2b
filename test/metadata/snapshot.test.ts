// Snapshots (image → records → image) and the records' bytes. The property: whatever history of
// valid batches built an image, its snapshot replayed onto an empty image (directly, and through
// bytes) gives an equal image.
import t from 'tap'
import fc from 'fast-check'
import { MetadataImage, type MetadataRecord } from '../../src/metadata/image.js'
import { decodeRecord, decodeSnapshot, encodeRecord, encodeSnapshot } from '../../src/metadata/record-codec.js'
import { bitacora } from '../../src/protocol/index.js'

const id = (n: number) => n.toString(16).padStart(32, '0')

/** Everything an image holds, through its public getters only (so a snapshot that forgets something shows). */
function contents(image: MetadataImage) {
  return {
    brokers: image.brokers.map((b) => ({ ...b })),
    topics: image.topics.map((topic) => ({ ...topic, configs: { ...topic.configs }, partitionStates: topic.partitionStates.map((p) => ({ ...p })) })),
    producerIds: image.producerIds,
    nextProducerId: image.nextProducerId,
    features: image.features,
  }
}

/** Raw material for one record; `record` turns it into one that fits the image (or null). */
const step = fc.tuple(fc.nat(12), fc.nat(1000), fc.nat(1000), fc.nat(1000))
type Step = [number, number, number, number]

/** A record that fits `image`, chosen by `s` (a history generator, not a fuzzer: misfits are tested elsewhere). */
function record(image: MetadataImage, [kind, a, b, c]: Step, fresh: () => string): MetadataRecord | null {
  const topics = image.topics
  const topic = topics.length > 0 ? topics[a % topics.length] : undefined
  const broker = image.brokers.length > 0 ? image.brokers[a % image.brokers.length] : undefined
  switch (kind) {
    case 0:
    case 1:
      return { type: 'brokerRegistration', brokerId: a % 5, incarnationId: fresh(), url: `ws://127.0.0.1:${9000 + b}/`, rack: ['', 'a', 'b'][c % 3], directoryId: fresh() }
    case 2:
      return broker ? { type: b % 2 ? 'fenceBroker' : 'unfenceBroker', brokerId: broker.brokerId } : null
    case 3:
      return image.topic(`t${b % 8}`) ? null : { type: 'topic', name: `t${b % 8}`, topicId: fresh() }
    case 4: {
      if (!topic) return null
      const replicas = [c % 5, (c + 1 + (b % 4)) % 5].slice(0, 1 + (b % 2))
      return { type: 'partition', topicId: topic.id, index: topic.partitions, replicas }
    }
    case 5: {
      if (!topic || topic.partitions === 0) return null
      const p = topic.partitionStates[b % topic.partitions]
      const leader = c % 3 === 0 ? -1 : p.replicas[c % p.replicas.length]
      // Some reports carry the leader's ISR: the leader, and the other replicas or not.
      const isr = leader === -1 || b % 3 === 0 ? {} : { isr: b % 3 === 1 ? [leader] : [...p.replicas] }
      return { type: 'partitionLeader', topicId: topic.id, partition: b % topic.partitions, leader, leaderEpoch: c % 7, ...isr }
    }
    case 6:
      return topic ? { type: 'topicConfigSet', topicId: topic.id, key: ['retention.ms', 'cleanup.policy', 'x'][b % 3], value: String(c) } : null
    case 7:
      return topic ? { type: 'topicConfigRemoved', topicId: topic.id, key: ['retention.ms', 'cleanup.policy', 'x'][b % 3] } : null
    case 8:
      return topic && c % 3 === 0 ? { type: 'removeTopic', topicId: topic.id } : null
    case 12: {
      // A reassignment: one broker added (if new), the first replica removed (if others stay), or the move ended.
      if (!topic || topic.partitions === 0) return null
      const partition = b % topic.partitions
      const p = topic.partitionStates[partition]
      const added = c % 5
      const replicas = p.replicas.includes(added) ? [...p.replicas] : [...p.replicas, added]
      const adding = p.replicas.includes(added) || b % 3 === 0 ? [] : [added]
      const removing = c % 2 === 1 && replicas.length > 1 && replicas[0] !== added ? [replicas[0]] : []
      return { type: 'partitionReassignment', topicId: topic.id, partition, replicas, adding, removing }
    }
    case 9:
      return { type: 'producerIdBlock', brokerId: a % 5, firstId: image.nextProducerId + (b % 3), size: 1 + c }
    default:
      return { type: 'featureLevel', name: ['metadata.version', 'kraft.version'][b % 2], level: c % 3 }
  }
}

/** Applies the steps in batches (a batch ends after each step whose first number is odd). */
function history(steps: Step[]): MetadataImage {
  let n = 0
  const fresh = () => id(++n)
  let image = MetadataImage.EMPTY
  let batch: MetadataRecord[] = []
  let batchImage = image
  for (const s of steps) {
    const r = record(batchImage, s, fresh)
    if (r) {
      batch.push(r)
      batchImage = batchImage.apply([r])
    }
    if (s[1] % 2 === 1) {
      image = image.apply(batch)
      batch = []
    }
  }
  return image.apply(batch)
}

t.test('replaying a snapshot gives an equal image (directly and through bytes)', async (t) => {
  let nonTrivial = 0
  fc.assert(
    fc.property(fc.array(step, { minLength: 10, maxLength: 150 }), (steps) => {
      const image = history(steps)
      if (image.topicCount > 0 && image.brokers.length > 0) nonTrivial++
      const snapshot = image.toRecords()
      const direct = MetadataImage.EMPTY.apply(snapshot)
      const decoded = decodeSnapshot(encodeSnapshot(image))
      t.same(decoded, snapshot, 'the bytes stand for the same records')
      const viaBytes = MetadataImage.EMPTY.apply(decoded)
      t.same(contents(direct), contents(image))
      t.same(contents(viaBytes), contents(image))
      t.same(direct.toRecords(), snapshot, 'a snapshot of the replayed image is the same snapshot')
      // Equal images must write equal bytes, whatever history built them (the simulator compares
      // nodes' images by these bytes; a config key set after others once came last in one image
      // and in key order in the image replayed from its snapshot).
      const bytes = encodeSnapshot(image)
      t.ok(Buffer.from(encodeSnapshot(viaBytes)).equals(bytes) && Buffer.from(encodeSnapshot(direct)).equals(bytes), 'the replayed image writes the same snapshot bytes')
    }),
    { numRuns: 300 },
  )
  t.ok(nonTrivial >= 150, `at least half the histories hold brokers and topics (${nonTrivial} of 300)`)
})

t.test('every record type survives its bytes', async (t) => {
  const records: MetadataRecord[] = [
    { type: 'brokerRegistration', brokerId: 3, incarnationId: id(1), url: 'ws://127.0.0.1:9094/', rack: 'eu-1a', directoryId: id(2) },
    { type: 'fenceBroker', brokerId: 3 },
    { type: 'unfenceBroker', brokerId: 0 },
    { type: 'topic', name: 'orders', topicId: id(0xabcdef) },
    { type: 'partition', topicId: id(0xabcdef), index: 7, replicas: [3, 1, 2] },
    { type: 'partitionLeader', topicId: id(0xabcdef), partition: 7, leader: -1, leaderEpoch: 12 },
    { type: 'topicConfigSet', topicId: id(0xabcdef), key: 'retention.ms', value: '' },
    { type: 'topicConfigRemoved', topicId: id(0xabcdef), key: 'retention.ms' },
    { type: 'removeTopic', topicId: 'ff'.repeat(16) },
    { type: 'producerIdBlock', brokerId: 2, firstId: 2 ** 52, size: 1000 },
    { type: 'featureLevel', name: 'metadata.version', level: 0 },
    { type: 'partitionReassignment', topicId: id(0xabcdef), partition: 7, replicas: [3, 1, 2, 4], adding: [4], removing: [3] },
  ]
  for (const r of records) t.same(decodeRecord(encodeRecord(r)), r, r.type)
})

t.test('bytes that are not a record are refused with a MetadataError naming the problem', async (t) => {
  t.throws(() => decodeRecord(Uint8Array.of(0x0a, 0x05, 0x08)), { name: 'MetadataError', message: /not a metadata record/ }, 'truncated')
  t.throws(() => decodeRecord(new Uint8Array(0)), { name: 'MetadataError', message: /no type this node knows/ }, 'an empty record')
  const unknownField = Uint8Array.of(0x78, 0x01) // field 15, varint: a record type of a newer version
  t.throws(() => decodeRecord(unknownField), { name: 'MetadataError', message: /newer version/ })
  const shortId = bitacora.MetadataRecord.encode({ removeTopic: { topicId: new Uint8Array(15) } }).finish()
  t.throws(() => decodeRecord(shortId), { name: 'MetadataError', message: /topic id must be 16 bytes, got 15/ })
  t.throws(() => decodeSnapshot(Uint8Array.of(0x0a, 0xff)), { name: 'MetadataError', message: /not a metadata snapshot/ })
  const topic = { name: 'a', topicId: new Uint8Array(16), replicaCounts: [2, 1], replicas: [1, 2, 3], leaders: [-1, -1], leaderEpochs: [-1, -1] }
  const snapshot = (t: object) => bitacora.MetadataSnapshot.encode({ topics: [{ ...topic, ...t }] }).finish()
  t.same(decodeSnapshot(snapshot({})).map((r) => r.type), ['topic', 'partition', 'partition'], 'a well-formed topic')
  t.throws(() => decodeSnapshot(snapshot({ replicaCounts: [2, 2] })), { name: 'MetadataError', message: /partition 1's replicas run past the 3 listed/ })
  t.throws(() => decodeSnapshot(snapshot({ replicaCounts: [1, 1] })), { name: 'MetadataError', message: /1 replicas belong to no partition/ })
  t.throws(() => decodeSnapshot(snapshot({ leaders: [-1] })), { name: 'MetadataError', message: /2 partitions but 1 leaders/ })
  t.throws(() => decodeSnapshot(snapshot({ topicId: new Uint8Array(3) })), { name: 'MetadataError', message: /topic id must be 16 bytes/ })
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      try {
        MetadataImage.EMPTY.apply(decodeSnapshot(bytes))
      } catch (err) {
        if ((err as Error).name !== 'MetadataError') throw err
      }
    }),
    { numRuns: 2000 },
  )
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      try {
        decodeRecord(bytes)
      } catch (err) {
        if ((err as Error).name !== 'MetadataError') throw err
      }
    }),
    { numRuns: 2000 },
  )
})
