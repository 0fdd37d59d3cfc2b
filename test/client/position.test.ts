import t from 'tap'
import { readPartition } from '../../src/client/position.js'
import { loadCodec, type BatchOptions, type Codec } from '../../src/codec/index.js'

const te = new TextEncoder()
const td = new TextDecoder()

let codec: Codec
t.before(async () => {
  codec = await loadCodec()
})

async function batch(baseOffset: number, count: number, options: BatchOptions = {}): Promise<Uint8Array> {
  const records = Array.from({ length: count }, (_, i) => ({
    key: te.encode(`k${baseOffset + i}`), value: te.encode(`v${baseOffset + i}`), timestamp: 1_700_000_000_000 + i,
  }))
  return codec.encodeBatchAsync(records, { ...options, baseOffset })
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

const values = (records: { value: Uint8Array | null }[]) => records.map((r) => td.decode(r.value!))

t.test('records below the requested offset inside the first batch are skipped', async (t) => {
  const bytes = concat(await batch(5, 5), await batch(10, 5))
  const read = await readPartition(codec, 't', 3, 7, bytes)
  t.same(read.records.map((r) => r.offset), [7, 8, 9, 10, 11, 12, 13, 14])
  t.same(values(read.records).slice(0, 2), ['v7', 'v8'])
  t.equal(read.records[0].topic, 't')
  t.equal(read.records[0].partition, 3)
  t.equal(read.records[0].timestamp, 1_700_000_000_002)
  t.equal(read.nextOffset, 15)
  t.equal(read.neededBytes, 0)
})

t.test('batches wholly below the position are skipped without being decoded', async (t) => {
  const read = await readPartition(codec, 't', 0, 5, concat(await batch(0, 5), await batch(5, 2)))
  t.same(read.records.map((r) => r.offset), [5, 6])
  t.equal(read.nextOffset, 7)
})

t.test('a skipped batch is still CRC-checked: a damaged header must not make records vanish', async (t) => {
  const old = await batch(0, 5)
  old[old.length - 1] ^= 0xff
  await t.rejects(readPartition(codec, 't', 0, 5, concat(old, await batch(5, 2))), { code: 'BATCH_BAD_CRC' }, 'below the position')
  const data = await batch(3, 2)
  data[21 + 1] |= 0x20 // the control bit (attributes, inside the CRC): without the check, offsets 3 and 4 would be skipped as a marker
  await t.rejects(readPartition(codec, 't', 0, 3, data), { code: 'BATCH_BAD_CRC' }, 'flagged control by a flipped bit')
  const marker = await batch(3, 1, { control: true })
  marker[marker.length - 1] ^= 0xff
  await t.rejects(readPartition(codec, 't', 0, 3, marker), { code: 'BATCH_BAD_CRC' }, 'a damaged marker')
})

t.test('control batches yield nothing but the position moves past them', async (t) => {
  const bytes = concat(await batch(0, 3), await batch(3, 1, { control: true }), await batch(4, 2))
  const read = await readPartition(codec, 't', 0, 0, bytes)
  t.same(read.records.map((r) => r.offset), [0, 1, 2, 4, 5])
  t.equal(read.nextOffset, 6)
  const onlyMarker = await readPartition(codec, 't', 0, 3, await batch(3, 1, { control: true }))
  t.same(onlyMarker.records, [])
  t.equal(onlyMarker.nextOffset, 4, 'a consumer parked on a marker is not stuck on it')
})

t.test('a partial batch at the end of a fetch is ignored and fetched again later', async (t) => {
  const third = await batch(20, 4)
  const bytes = concat(await batch(10, 5), await batch(15, 5), third.subarray(0, third.length - 3))
  const read = await readPartition(codec, 't', 0, 10, bytes)
  t.equal(read.records.length, 10)
  t.equal(read.nextOffset, 20)
  t.equal(read.neededBytes, 0)
})

t.test('when no whole batch fits, neededBytes tells the next fetch how much to ask for', async (t) => {
  const big = await batch(0, 50)
  const cut = await readPartition(codec, 't', 0, 0, big.subarray(0, 100))
  t.same(cut.records, [])
  t.equal(cut.nextOffset, 0, 'the position stays')
  t.equal(cut.neededBytes, big.length)
  const tiny = await readPartition(codec, 't', 0, 0, big.subarray(0, 5))
  t.equal(tiny.neededBytes, 10, 'not even a length: ask for more')
  const empty = await readPartition(codec, 't', 0, 42, new Uint8Array(0))
  t.same([empty.records, empty.view.count, empty.nextOffset, empty.neededBytes], [[], 0, 42, 0])
})

for (const compression of ['gzip', 'lz4', 'snappy'] as const) {
  t.test(`${compression} batches decode, with the same skipping rules`, async (t) => {
    const bytes = concat(await batch(0, 4, { compression }), await batch(4, 4, { compression }))
    const read = await readPartition(codec, 't', 0, 2, bytes)
    t.same(read.records.map((r) => r.offset), [2, 3, 4, 5, 6, 7])
    t.same(values(read.records), ['v2', 'v3', 'v4', 'v5', 'v6', 'v7'])
    t.equal(read.nextOffset, 8)
  })
}

t.test('null keys and values and headers come through as the producer sent them', async (t) => {
  const bytes = await codec.encodeBatchAsync([
    { key: null, value: null, headers: [{ key: 'h', value: te.encode('x') }, { key: 'n', value: null }] },
    { key: new Uint8Array(0), value: new Uint8Array(0) },
  ], { baseOffset: 100 })
  const read = await readPartition(codec, 't', 0, 100, bytes)
  t.equal(read.records[0].key, null)
  t.equal(read.records[0].value, null)
  t.same(read.records[0].headers.map((h) => [h.key, h.value && td.decode(h.value)]), [['h', 'x'], ['n', null]])
  t.equal(read.records[1].key!.length, 0)
  t.equal(read.records[1].value!.length, 0)
})

t.test('a corrupt batch at or above the position is an error, not silently skipped', async (t) => {
  const bytes = await batch(0, 3)
  bytes[bytes.length - 1] ^= 0xff
  await t.rejects(readPartition(codec, 't', 0, 0, bytes), { code: 'BATCH_BAD_CRC' })
})

t.test('the lazy view reads every field without record objects, and agrees with them', async (t) => {
  const bytes = concat(
    await batch(10, 3),
    await codec.encodeBatchAsync([
      { key: null, value: te.encode('x'), headers: [{ key: 'ñ', value: te.encode('1') }, { key: 'z', value: null }], timestamp: 5 },
      { key: te.encode('k'), value: null, timestamp: 6 },
    ], { baseOffset: 13, compression: 'lz4' }),
    await batch(15, 2, { timestampType: 'LogAppendTime', maxTimestamp: 99 }),
  )
  const read = await readPartition(codec, 't', 4, 11, bytes)
  const v = read.view
  t.equal(v.count, 6, 'the record below the position (10) is not counted')
  t.same(Array.from({ length: v.count }, (_, i) => v.offset(i)), [11, 12, 13, 14, 15, 16])
  t.same(Array.from({ length: v.count }, (_, i) => v.timestamp(i)), [1_700_000_000_001, 1_700_000_000_002, 5, 6, 99, 99])
  t.same([td.decode(v.value(0)!), v.value(3), v.valueLength(3), v.valueLength(2)], ['v11', null, -1, 1])
  t.same([v.key(2), td.decode(v.key(3)!)], [null, 'k'])
  t.same(v.headers(2).map((h) => [h.key, h.value && td.decode(h.value)]), [['ñ', '1'], ['z', null]])
  t.same(v.headers(0), [])
  // Backwards and random access find their batch too.
  t.same([5, 0, 3, 1].map((i) => v.offset(i)), [16, 11, 14, 12])
  t.throws(() => v.offset(6), RangeError)
  t.throws(() => v.value(-1), RangeError)
  const objects = v.records
  t.equal(objects, v.records, 'records are built once')
  t.same(objects.map((r) => [r.topic, r.partition, r.offset, r.timestamp, r.value && td.decode(r.value)]), Array.from({ length: 6 }, (_, i) => ['t', 4, v.offset(i), v.timestamp(i), v.value(i) && td.decode(v.value(i)!)]))
})
