// Malformed batches: each kind of damage gets its typed error with a stable code; random
// mutations of valid batches never escape as anything but a CodecError, never trap, and
// never make the codec's memory grow past what the input's size justifies.
import t from 'tap'
import fc from 'fast-check'
import { CodecError, loadCodec, type Codec } from '../../src/codec/index.js'
import { fixCrc, rawBatch, rawRecord, varint } from './raw-batch.js'

const codec = await loadCodec()
const valid = codec.encodeBatch([
  { key: new Uint8Array([1, 2, 3]), value: new Uint8Array(40).fill(7), headers: [{ key: 'h', value: new Uint8Array([9]) }] },
  { key: null, value: new Uint8Array(5) },
  { value: null },
])

const code = (f: () => unknown) => {
  try {
    f()
    return 'ok'
  } catch (err) {
    return err instanceof CodecError ? err.code : `not a CodecError: ${err}`
  }
}
const mutate = (f: (b: Uint8Array, v: DataView) => void, recrc = false) => {
  const b = valid.slice()
  f(b, new DataView(b.buffer))
  if (recrc) fixCrc(b)
  return b
}
const section = (records: number[][]) => records.flat()

t.test('framing damage', async (t) => {
  t.equal(code(() => codec.decodeBatch(valid.subarray(0, 5))), 'BATCH_TRUNCATED', 'shorter than the length prefix')
  t.equal(code(() => codec.decodeBatch(valid.subarray(0, 40))), 'BATCH_TRUNCATED', 'header cut')
  t.equal(code(() => codec.decodeBatch(valid.subarray(0, valid.length - 1))), 'BATCH_TRUNCATED', 'last byte missing')
  t.equal(code(() => codec.decodeBatch(mutate((_, v) => v.setInt32(8, 10)))), 'BATCH_BAD_LENGTH', 'batchLength below the header size')
  t.equal(code(() => codec.decodeBatch(mutate((_, v) => v.setInt32(8, 2 ** 31 - 1)))), 'BATCH_TOO_LARGE', 'absurd batchLength')
  t.equal(code(() => codec.decodeBatch(mutate((b) => (b[16] = 1)))), 'BATCH_BAD_MAGIC')
  t.equal(code(() => codec.decodeBatch(mutate((b) => (b[17] ^= 1)))), 'BATCH_BAD_CRC', 'CRC field flipped')
  t.equal(code(() => codec.decodeBatch(mutate((b) => (b[70] ^= 0x10)))), 'BATCH_BAD_CRC', 'record byte flipped')
  t.equal(code(() => codec.decodeBatch(mutate((_, v) => v.setInt16(21, 5), true))), 'UNSUPPORTED_COMPRESSION', 'codec id 5')
})

t.test('counts', async (t) => {
  t.equal(code(() => codec.decodeBatch(mutate((_, v) => v.setInt32(57, -1), true))), 'RECORD_COUNT_INVALID', 'negative count')
  t.equal(code(() => codec.decodeBatch(mutate((_, v) => { v.setInt32(57, 2 ** 31 - 1); v.setInt32(23, 2 ** 31 - 2) }, true))),
    'RECORD_COUNT_INVALID', 'absurd count that agrees with lastOffsetDelta')
  t.equal(code(() => codec.decodeBatch(mutate((_, v) => v.setInt32(57, 2), true))), 'RECORD_COUNT_MISMATCH', 'count != lastOffsetDelta + 1')
  t.equal(code(() => codec.decodeBatch(mutate((_, v) => { v.setInt32(57, 4); v.setInt32(23, 3) }, true))),
    'RECORD_TRUNCATED', 'more records declared than present')
  t.equal(code(() => codec.decodeBatch(mutate((_, v) => { v.setInt32(57, 2); v.setInt32(23, 1) }, true))),
    'RECORDS_TRAILING_BYTES', 'fewer records declared than present')
})

t.test('records section damage under a valid CRC', async (t) => {
  const one = (r: number[], h = { count: 1, lastOffsetDelta: 0 }) => code(() => codec.decodeBatch(rawBatch(r, h)))
  t.equal(one(rawRecord({ offsetDelta: 0, value: [1, 2] })), 'ok', 'the hand-built baseline is valid')
  t.equal(one([...varint(50), 0, 0, 0, 0, 0, 0, 0]), 'RECORD_TRUNCATED', 'record length past the section')
  t.equal(one([...varint(-3), 0, 0, 0, 0, 0, 0]), 'RECORD_BAD_LENGTH', 'negative record length')
  t.equal(one([0, 0, 0]), 'RECORD_COUNT_INVALID', 'a section too small for its record count')
  t.equal(one([0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0, 0, 0, 0]), 'VARINT_OVERFLOW', '6-byte record length')
  t.equal(one(rawRecord({ offsetDelta: 1 })), 'RECORD_BAD_OFFSET_DELTA', 'first offset delta 1')
  // Key length 100 inside a 7-byte record.
  t.equal(one([...varint(6), 0, 0, 0, ...varint(100), 0, 0]), 'RECORD_BAD_LENGTH', 'key longer than its record')
  t.equal(one([...varint(6), 0, 0, 0, ...varint(-2), 0, 0]), 'RECORD_BAD_LENGTH', 'key length -2')
  t.equal(one(rawRecord({ offsetDelta: 0, headers: [[null, [1]]] })), 'HEADER_KEY_NULL')
  t.equal(one([...varint(6), 0, 0, 0, 1, 1, ...varint(-1)]), 'HEADER_COUNT_INVALID', 'negative header count')
  t.equal(one([...varint(6), 0, 0, 0, 1, 1, ...varint(40)]), 'HEADER_COUNT_INVALID', 'header count past the record')
  // A record whose declared length is one more than its fields use.
  const r = rawRecord({ offsetDelta: 0, value: [5] })
  t.equal(one([r[0] + 2, ...r.slice(1), 0]), 'RECORD_BAD_LENGTH', 'record length disagrees with its fields')
  t.equal(one([...rawRecord({ offsetDelta: 0 }), 0]), 'RECORDS_TRAILING_BYTES', 'a stray byte after the last record')
  t.equal(one(section([rawRecord({ offsetDelta: 0 })]), { count: 1, lastOffsetDelta: 0 }), 'ok')
})

t.test('the async paths report the same codes, and gzip damage is typed too', async (t) => {
  await t.rejects(codec.decodeBatchAsync(mutate((b) => (b[17] ^= 1))), { code: 'BATCH_BAD_CRC' })
  const gz = await codec.encodeBatchAsync([{ value: new Uint8Array(1000) }], { compression: 'gzip' })
  const broken = gz.slice()
  broken[broken.length - 6] ^= 0xff // inside the gzip trailer's CRC
  fixCrc(broken)
  await t.rejects(codec.decodeBatchAsync(broken), { code: 'CORRUPT_COMPRESSED_DATA' })
  await t.rejects(codec.decodeBatchAsync(gz, { maxDecompressedBytes: 500 }), { code: 'DECOMPRESSED_TOO_LARGE' },
    'a section that inflates past the limit is refused')
})

function memoryBytes(c: Codec): number {
  return (c as unknown as { wasm: { memory: WebAssembly.Memory } }).wasm.memory.buffer.byteLength
}

t.test('random mutations of valid batches: a CodecError or a valid decode, nothing else', async (t) => {
  const before = memoryBytes(codec)
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bits: fc.integer({ min: 1, max: 255 }) }),
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
    fc.record({ kind: fc.constant('int32' as const), at: fc.nat(), value: fc.integer() }),
  )
  let decodedOk = 0
  fc.assert(
    fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.boolean(), (mutations, recrc) => {
      let b: Uint8Array = valid.slice()
      for (const m of mutations) {
        const at = m.at % (b.length + 1)
        if (m.kind === 'flip' && at < b.length) b[at] ^= m.bits
        else if (m.kind === 'cut') b = b.slice(0, at)
        else if (m.kind === 'insert') b = new Uint8Array([...b.subarray(0, at), ...m.bytes, ...b.subarray(at)])
        else if (m.kind === 'int32' && at + 4 <= b.length) new DataView(b.buffer).setInt32(at, m.value)
      }
      // Re-computing the CRC lets damage reach the records-section checks.
      if (recrc && b.length >= 61) fixCrc(b)
      const outcome = code(() => codec.decodeBatch(b))
      if (outcome === 'ok') decodedOk++
      return !outcome.startsWith('not a CodecError') && !outcome.startsWith('CODEC_INTERNAL')
    }),
    { numRuns: Number(process.env.CODEC_FUZZ_RUNS ?? 5000) },
  )
  t.pass(`mutations survived (${decodedOk} still decoded)`)
  t.ok(memoryBytes(codec) <= Math.max(before, 4 * 1024 * 1024), `codec memory stayed bounded (${memoryBytes(codec)} bytes)`)
})
