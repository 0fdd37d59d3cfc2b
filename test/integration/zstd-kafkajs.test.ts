// zstd batches written by kafkajs (with a zstd plug-in over the @mongodb-js/zstd native binding:
// the records section is one zstd frame, attribute codec 4) go through a real broker, which
// validates them by decoding in WASM, and come back exactly through our consumer; a corrupt
// zstd section is refused with INVALID_RECORD, one needing a dictionary with
// UNSUPPORTED_COMPRESSION_TYPE, and nothing is appended.
import t from 'tap'
import fc from 'fast-check'
import { createClient, type ConsumerRecord } from '../../src/client/node.js'
import { ErrorCode } from '../../src/protocol/index.js'
import { flatHeaders, genBatch, type GenBatch } from '../codec/oracle.js'
import { fixCrc, rawBatch, rawRecord } from '../codec/raw-batch.js'
import { textBytes } from '../codec/samples.js'
import { frame } from '../codec/zstd-decode-frames.js'
import { kafkajsZstdBatch } from '../codec/zstd-decode-kafkajs.js'
import { connect, startBroker, type RawClient } from './broker-process.js'

const BATCHES = 40
const hex = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b).toString('hex'))

const broker = await startBroker(t)
const admin = await connect(broker.url)
t.teardown(() => admin.close())
await admin.call({ createTopics: { topics: [{ name: 'zstd', partitions: 1 }] } })

async function produce(c: RawClient, records: Uint8Array) {
  const r = await c.call({ produce: { acks: -1, topics: [{ name: 'zstd', partitions: [{ index: 0, records }] }] } })
  return r.produce!.topics![0].partitions![0]
}

async function consume(expected: number): Promise<ConsumerRecord[]> {
  const client = createClient({ brokers: [broker.url], clientId: 'zstd-consumer' })
  const consumer = await client.consumer({ autoOffsetReset: 'earliest', maxWaitMs: 200 })
  consumer.assign([{ topic: 'zstd', partition: 0 }])
  const out: ConsumerRecord[] = []
  const deadline = Date.now() + 60_000
  for await (const r of consumer.records()) {
    out.push({ ...r, key: r.key?.slice() ?? null, value: r.value?.slice() ?? null, headers: r.headers.map((h) => ({ key: h.key, value: h.value?.slice() ?? null })) })
    if (out.length >= expected || Date.now() > deadline) break
  }
  consumer.close()
  await client.close()
  return out
}

t.test('kafkajs zstd batches through the broker and back exactly', async (t) => {
  // Plain producer batches (no idempotence, not transactional): what the broker accepts today.
  const generated: GenBatch[] = fc
    .sample(genBatch(30, 400), { seed: 22, numRuns: BATCHES })
    .map((b) => ({ ...b, producerId: -1, producerEpoch: -1, baseSequence: -1, transactional: false }))
  // And one large batch: 4000 text records, a frame of many 128 KiB blocks.
  const big = textBytes(600_000, 3)
  generated.push({
    records: Array.from({ length: 4000 }, (_, i) => ({ key: null, value: big.subarray(i * 150, (i + 1) * 150), headers: {}, timestampDelta: i })),
    baseOffset: 0, baseTimestamp: Date.now(), partitionLeaderEpoch: -1, producerId: -1, producerEpoch: -1, baseSequence: -1, transactional: false,
  })
  const c = await connect(broker.url)
  // The partition's log may start with the leader's control batch: offsets run on from the first append.
  let first = -1
  let offset = 0
  const expected: Array<{ timestamp: number; key: string | null; value: string | null; headers: string }> = []
  for (const [i, b] of generated.entries()) {
    const batch = await kafkajsZstdBatch(b, 1 + (i % 19))
    t.equal(batch[22] & 7, 4, 'attribute codec 4')
    const result = await produce(c, batch)
    if (result.error !== null) {
      t.fail(`batch ${i}: ${JSON.stringify(result.error)}`)
      continue
    }
    if (first < 0) first = offset = Number(result.baseOffset ?? 0)
    t.equal(Number(result.baseOffset ?? 0), offset, `batch ${i} appended at ${offset}`)
    offset += b.records.length
    for (const r of b.records) {
      const headers = JSON.stringify(flatHeaders(r.headers).map((h) => [h.key, hex(h.value)]))
      expected.push({ timestamp: b.baseTimestamp + r.timestampDelta, key: hex(r.key), value: hex(r.value), headers })
    }
  }
  c.close()
  const consumed = await consume(expected.length)
  t.equal(consumed.length, expected.length, 'every record came back')
  let mismatches = 0
  consumed.forEach((r, i) => {
    const want = expected[i]
    const headers = JSON.stringify(r.headers.map((h) => [h.key, hex(h.value)]))
    if (r.offset !== first + i || r.timestamp !== want.timestamp || hex(r.key) !== want.key || hex(r.value) !== want.value || headers !== want.headers) mismatches++
  })
  t.equal(mismatches, 0, 'offsets, timestamps, keys, values and headers all match')
})

t.test('a corrupt zstd section and one that needs a dictionary are refused; nothing is appended', async (t) => {
  const [b] = fc.sample(genBatch(10, 200), { seed: 5, numRuns: 1 })
  const batch = await kafkajsZstdBatch({ ...b, producerId: -1, producerEpoch: -1, baseSequence: -1, transactional: false })
  const c = await connect(broker.url)
  const before = await c.call({ listOffsets: { topics: [{ name: 'zstd', partitions: [{ index: 0, timestamp: -1 }] }] } })
  const damaged = batch.slice()
  damaged[61] ^= 0xff // the frame's magic number
  fixCrc(damaged)
  t.equal((await produce(c, damaged)).error?.code, ErrorCode.INVALID_RECORD, 'bad zstd magic')
  const needsDictionary = rawBatch(frame([{ type: 'raw', data: rawRecord({ offsetDelta: 0, value: [1] }) }], { dictionary: { bytes: 4, id: 77 } }), {
    count: 1, lastOffsetDelta: 0, attributes: 4,
  })
  t.equal((await produce(c, needsDictionary)).error?.code, ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, 'a dictionary id')
  const after = await c.call({ listOffsets: { topics: [{ name: 'zstd', partitions: [{ index: 0, timestamp: -1 }] }] } })
  t.equal(after.listOffsets!.topics![0].partitions![0].offset, before.listOffsets!.topics![0].partitions![0].offset, 'nothing appended')
  c.close()
})
