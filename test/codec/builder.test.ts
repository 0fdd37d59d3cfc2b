// RecordBatchBuilder + Codec.encodeStaged: records staged one at a time encode to exactly the
// bytes encodeBatch makes from the same records, for every codec the builder path serves.
import t from 'tap'
import fc from 'fast-check'
import { loadCodec, RecordBatchBuilder, utf8Length, type CompressionCodec, type RecordInput } from '../../src/codec/index.js'

const codec = await loadCodec()
const bytes = (s: string) => new TextEncoder().encode(s)

function staged(records: RecordInput[], builder = new RecordBatchBuilder(8)): RecordBatchBuilder {
  for (const r of records) builder.append(r.key ?? null, r.value, r.headers, r.timestamp!)
  return builder
}

const record = fc.record({
  key: fc.option(fc.uint8Array({ maxLength: 40 }), { nil: null }),
  value: fc.option(fc.uint8Array({ maxLength: 3000 }), { nil: null }),
  headers: fc.array(fc.record({ key: fc.string({ maxLength: 8, unit: 'binary' }), value: fc.option(fc.uint8Array({ maxLength: 8 }), { nil: null }) }), { maxLength: 3 }),
  timestamp: fc.integer({ min: 0, max: 2 ** 45 }),
})

t.test('staged records encode to the same bytes as encodeBatch (random records, lone surrogates in header keys)', async (t) => {
  fc.assert(
    fc.property(fc.array(record, { minLength: 1, maxLength: 200 }), fc.constantFrom<CompressionCodec>('none', 'lz4', 'snappy'), (records, compression) => {
      const expected = codec.encodeBatch(records, { compression })
      const got = codec.encodeStaged(staged(records), { compression })
      return Buffer.compare(expected, got) === 0
    }),
    { numRuns: 120 },
  )
  t.pass()
})

t.test("an allocate option receives the encoded batch: the same bytes, in the allocator's buffer, every codec", async (t) => {
  const records = Array.from({ length: 50 }, (_, i) => ({ key: bytes(`k${i}`), value: bytes(`value ${i}`.repeat(i % 9)), timestamp: 1_000 + i }))
  for (const compression of ['none', 'lz4', 'snappy', 'gzip'] as const) {
    const expected = await codec.encodeStagedAsync(staged(records), { compression })
    const arena = new Uint8Array(64 * 1024).fill(0xee)
    const got = await codec.encodeStagedAsync(staged(records), { compression, allocate: (n) => arena.subarray(0, n) })
    t.equal(got.buffer, arena.buffer, `${compression}: written into the allocator's buffer`)
    t.ok(Buffer.compare(got, expected) === 0, `${compression}: the same bytes`)
  }
  t.throws(() => codec.encodeStaged(staged(records), { allocate: (n) => new Uint8Array(n - 1) }), RangeError, 'an allocator giving the wrong size is refused')
})

t.test('gzip through encodeStagedAsync decodes back to the records', async (t) => {
  const records: RecordInput[] = [
    { key: bytes('k'), value: bytes('one'), headers: [{ key: 'ñ', value: null }], timestamp: 1000 },
    { key: null, value: null, timestamp: 999 },
    { value: new Uint8Array(0), timestamp: 1005 },
  ]
  const batch = await codec.encodeStagedAsync(staged(records), { compression: 'gzip' })
  const { header, records: out } = await codec.decodeBatchAsync(batch)
  t.equal(header.compression, 'gzip')
  t.equal(header.baseTimestamp, 1000, 'the first record sets baseTimestamp')
  t.equal(header.maxTimestamp, 1005)
  t.same(out.map((r) => r.timestamp), [1000, 999, 1005])
  t.same(out.map((r) => r.value && [...r.value]), [[...bytes('one')], null, []])
  t.equal(out[1].key, null)
  t.same(out[0].headers.map((h) => [h.key, h.value]), [['ñ', null]])
})

t.test('the builder grows from a small buffer, bounds its bytes, and gives its buffer up once', async (t) => {
  const b = new RecordBatchBuilder(16, 1000)
  for (let i = 0; i < 9; i++) b.append(null, new Uint8Array(80), undefined, i)
  t.equal(b.count, 9)
  t.equal(b.stagedBytes, 9 * (20 + 80))
  t.ok(b.capacityBytes >= b.stagedBytes && b.capacityBytes <= 1000)
  t.throws(() => b.append(null, new Uint8Array(200), undefined, 9), { code: 'BATCH_TOO_LARGE' })
  t.equal(b.count, 9, 'a refused record stages nothing')
  const batch = codec.encodeStaged(b)
  t.equal(codec.decodeBatch(batch).records.length, 9)
  const buf = b.release()
  t.ok(buf.length >= 900)
  t.equal(b.count, 0)
  const reused = new RecordBatchBuilder(16, 1000, buf)
  t.equal(reused.capacityBytes, buf.length, 'a released buffer is taken as it is')
  reused.append(bytes('k'), bytes('v'), undefined, 5)
  t.same(codec.decodeBatch(codec.encodeStaged(reused)).records.map((r) => [r.timestamp, r.value![0]]), [[5, 'v'.charCodeAt(0)]])
})

t.test('encodeStaged refuses an empty builder and a baseTimestamp other than the first record\'s', async (t) => {
  t.throws(() => codec.encodeStaged(new RecordBatchBuilder()), { code: 'INVALID_ARGUMENT' })
  const b = staged([{ value: bytes('x'), timestamp: 50 }])
  t.throws(() => codec.encodeStaged(b, { baseTimestamp: 10 }), { code: 'INVALID_ARGUMENT' })
  t.equal(codec.validateBatch(codec.encodeStaged(b, { baseTimestamp: 50 })).baseTimestamp, 50)
})

t.test('utf8Length is what TextEncoder writes', async (t) => {
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 50 }), (s) => utf8Length(s) === new TextEncoder().encode(s).length), { numRuns: 500 })
  for (const s of ['', 'a', 'ñ', '😀', '\ud800', '\udc00x', '\ud800\ud800\udc00']) t.equal(utf8Length(s), new TextEncoder().encode(s).length, JSON.stringify(s))
})
