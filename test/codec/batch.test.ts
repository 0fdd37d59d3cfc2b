// Round trips and header handling of the codec beyond what kafkajs can check.
import t from 'tap'
import fc from 'fast-check'
import {
  loadCodec, readBatchHeader, splitBatches, stampBatch, type RecordInput,
} from '../../src/codec/index.js'
import { rawBatch, rawRecord } from './raw-batch.js'

const codec = await loadCodec()
const bytes = (s: string) => new TextEncoder().encode(s)
const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b))

t.test('null and empty keys, values and header values stay distinct', async (t) => {
  const records: RecordInput[] = [
    { key: null, value: null, timestamp: 5 },
    { key: new Uint8Array(0), value: new Uint8Array(0), timestamp: 5 },
    { value: bytes('v'), headers: [{ key: 'a', value: null }, { key: '', value: new Uint8Array(0) }, { key: 'ñandú', value: bytes('x') }], timestamp: 5 },
  ]
  const { records: out } = codec.decodeBatch(codec.encodeBatch(records))
  t.equal(out[0].key, null)
  t.equal(out[0].value, null)
  t.same([...out[1].key!], [])
  t.same([...out[1].value!], [])
  t.equal(out[1].key === null, false)
  t.same(out[2].headers.map((h) => [h.key, text(h.value)]), [['a', null], ['', ''], ['ñandú', 'x']])
})

t.test('decoded keys and values are views into the input, not copies', async (t) => {
  const batch = codec.encodeBatch([{ key: bytes('k'), value: bytes('value'), timestamp: 1 }])
  const { records } = codec.decodeBatch(batch)
  t.equal(records[0].value!.buffer, batch.buffer)
  batch[batch.length - 2] = 'X'.charCodeAt(0)
  t.equal(text(records[0].value), 'valuX', 'a change to the input shows through the view')
})

t.test('random records round-trip', async (t) => {
  const record = fc.record({
    key: fc.option(fc.uint8Array({ maxLength: 64 }), { nil: null }),
    value: fc.option(fc.uint8Array({ maxLength: 2000 }), { nil: null }),
    headers: fc.array(fc.record({ key: fc.string({ maxLength: 8 }), value: fc.option(fc.uint8Array({ maxLength: 8 }), { nil: null }) }), { maxLength: 3 }),
    timestamp: fc.integer({ min: 0, max: 2 ** 45 }),
  })
  fc.assert(
    fc.property(fc.array(record, { minLength: 1, maxLength: 300 }), (records) => {
      const out = codec.decodeBatch(codec.encodeBatch(records)).records
      return out.every((r, i) =>
        JSON.stringify([r.key && [...r.key], r.value && [...r.value], r.headers.map((h) => [h.key, h.value && [...h.value]]), r.timestamp]) ===
        JSON.stringify([records[i].key && [...records[i].key!], records[i].value && [...records[i].value!], records[i].headers.map((h) => [h.key, h.value && [...h.value]]), records[i].timestamp]))
    }),
    { numRuns: 150 },
  )
  t.pass()
})

t.test('batch flags: control, transactional, LogAppendTime', async (t) => {
  const batch = codec.encodeBatch([{ value: bytes('a'), timestamp: 10 }, { value: bytes('b'), timestamp: 7 }], {
    control: true, transactional: true, timestampType: 'LogAppendTime', maxTimestamp: 99,
  })
  const { header, records } = codec.decodeBatch(batch)
  t.ok(header.control && header.transactional)
  t.equal(header.timestampType, 'LogAppendTime')
  t.same(records.map((r) => r.timestamp), [99, 99], 'LogAppendTime records carry the batch max timestamp')
  t.equal(header.baseTimestamp, 10, 'base timestamp defaults to the first record (Kafka Java producer)')
})

t.test('stampBatch sets baseOffset and leader epoch in place and keeps the CRC valid', async (t) => {
  const batch = codec.encodeBatch([{ value: bytes('a') }, { value: bytes('b') }])
  stampBatch(batch, 1_000_000_000_123, 7)
  const header = codec.validateBatch(batch)
  t.equal(header.baseOffset, 1_000_000_000_123)
  t.equal(header.partitionLeaderEpoch, 7)
  t.equal(header.nextOffset, 1_000_000_000_125)
  t.same(codec.decodeBatch(batch).records.map((r) => r.offset), [1_000_000_000_123, 1_000_000_000_124])
  t.throws(() => stampBatch(batch, 2 ** 60, 0), { code: 'INVALID_ARGUMENT' })
})

t.test('splitBatches finds every batch in a concatenation', async (t) => {
  const a = codec.encodeBatch([{ value: bytes('a') }])
  const b = codec.encodeBatch([{ value: bytes('bb') }, { value: null }])
  const all = new Uint8Array([...a, ...b])
  t.same(splitBatches(all), [[0, a.length], [a.length, a.length + b.length]])
  const cut = all.subarray(0, all.length - 3)
  t.throws(() => splitBatches(cut), { code: 'BATCH_TRUNCATED' })
  t.same(splitBatches(cut, true), [[0, a.length]], 'a fetch may end mid-batch')
  t.same(splitBatches(new Uint8Array(0)), [])
  t.throws(() => splitBatches(new Uint8Array(20)), { code: 'BATCH_BAD_LENGTH' })
})

t.test('compacted batches: offset gaps pass only when not contiguous', async (t) => {
  const section = [...rawRecord({ offsetDelta: 0, value: [1] }), ...rawRecord({ offsetDelta: 3, value: [2] })]
  const batch = rawBatch(section, { count: 2, lastOffsetDelta: 5, baseOffset: 100 })
  t.throws(() => codec.decodeBatch(batch), { code: 'RECORD_COUNT_MISMATCH' })
  const { header, records } = codec.decodeBatch(batch, { contiguous: false })
  t.same(records.map((r) => r.offset), [100, 103])
  t.equal(header.nextOffset, 106, 'the next offset follows lastOffsetDelta, not the last record')
  const backwards = rawBatch([...rawRecord({ offsetDelta: 2 }), ...rawRecord({ offsetDelta: 1 })], { count: 2, lastOffsetDelta: 5 })
  t.throws(() => codec.decodeBatch(backwards, { contiguous: false }), { code: 'RECORD_BAD_OFFSET_DELTA' })
})

t.test('readBatchHeader reads every field', async (t) => {
  const batch = codec.encodeBatch([{ value: bytes('x'), timestamp: 1234 }], {
    baseOffset: 42, partitionLeaderEpoch: 3, producerId: 9_000_000_000, producerEpoch: 2, baseSequence: 17,
  })
  t.match(readBatchHeader(batch), {
    baseOffset: 42, partitionLeaderEpoch: 3, magic: 2, producerId: 9_000_000_000, producerEpoch: 2,
    baseSequence: 17, recordCount: 1, lastOffsetDelta: 0, baseTimestamp: 1234, maxTimestamp: 1234,
    compression: 'none', sizeBytes: batch.length,
  })
  t.throws(() => readBatchHeader(batch.subarray(0, 60)), { code: 'BATCH_TRUNCATED' })
})

t.test('encodeBatch refuses what it cannot encode', async (t) => {
  t.throws(() => codec.encodeBatch([]), { code: 'INVALID_ARGUMENT' })
  t.throws(() => codec.encodeBatch([{ value: null }], { compression: 'gzip' }), { code: 'UNSUPPORTED_COMPRESSION' })
  t.throws(() => codec.encodeBatch([{ value: new Uint8Array(33 * 1024 * 1024) }]), { code: 'BATCH_TOO_LARGE' })
})
