// Our RecordBatch v2 against kafkajs's, an independent implementation: byte-identical
// uncompressed batches for the same fields, and gzip, lz4 and snappy batches (kafkajs with
// its documented plug-ins) that decode both ways.
import t from 'tap'
import fc from 'fast-check'
import { loadCodec, type DecodedBatch } from '../../src/codec/index.js'
import {
  flatHeaders, genBatch, kafkajsDecode, kafkajsEncode, maxTimestampOf, toRecordInputs,
  type GenBatch, type KafkajsDecoded,
} from './oracle.js'

const codec = await loadCodec()
const RUNS = Number(process.env.CODEC_PROPERTY_RUNS ?? 200)

const optionsOf = (b: GenBatch) => ({
  baseOffset: b.baseOffset,
  partitionLeaderEpoch: b.partitionLeaderEpoch,
  producerId: b.producerId,
  producerEpoch: b.producerEpoch,
  baseSequence: b.baseSequence,
  transactional: b.transactional,
  baseTimestamp: b.baseTimestamp,
  maxTimestamp: maxTimestampOf(b),
})

const hex = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b).toString('hex'))

/** Asserts our decoding of a batch equals what was generated. */
function sameAsGenerated(decoded: DecodedBatch, b: GenBatch): boolean {
  const h = decoded.header
  if (h.baseOffset !== b.baseOffset || h.producerId !== b.producerId || h.baseSequence !== b.baseSequence) return false
  if (h.recordCount !== b.records.length || h.transactional !== b.transactional) return false
  return decoded.records.every((r, i) => {
    const g = b.records[i]
    const headers = flatHeaders(g.headers)
    return (
      r.offset === b.baseOffset + i &&
      r.timestamp === b.baseTimestamp + g.timestampDelta &&
      hex(r.key) === hex(g.key) &&
      hex(r.value) === hex(g.value) &&
      r.headers.length === headers.length &&
      r.headers.every((x, j) => x.key === headers[j].key && hex(x.value) === hex(headers[j].value))
    )
  })
}

/** Asserts kafkajs's decoding of our batch equals what was generated. */
function kafkajsSawGenerated(d: KafkajsDecoded, b: GenBatch): boolean {
  if (d.firstOffset !== String(b.baseOffset) || d.producerId !== String(b.producerId)) return false
  return d.records.every((r, i) => {
    const g = b.records[i]
    const flat = Object.entries(r.headers).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => [k, hex(x)]))
    return (
      r.offset === String(b.baseOffset + i) &&
      r.timestamp === String(b.baseTimestamp + g.timestampDelta) &&
      hex(r.key) === hex(g.key) &&
      hex(r.value) === hex(g.value) &&
      JSON.stringify(flat) === JSON.stringify(flatHeaders(g.headers).map((h) => [h.key, hex(h.value)]))
    )
  })
}

t.test('uncompressed batches are byte-identical to kafkajs', async (t) => {
  await fc.assert(
    fc.asyncProperty(genBatch(), async (b) => {
      const ours = codec.encodeBatch(toRecordInputs(b), optionsOf(b))
      const theirs = await kafkajsEncode(b)
      return Buffer.from(ours).equals(Buffer.from(theirs))
    }),
    { numRuns: RUNS },
  )
  t.pass(`${RUNS} generated batches identical`)
})

t.test('we decode kafkajs batches and kafkajs decodes ours', async (t) => {
  await fc.assert(
    fc.asyncProperty(genBatch(), async (b) => {
      const theirs = await kafkajsEncode(b)
      const ours = codec.encodeBatch(toRecordInputs(b), optionsOf(b))
      return sameAsGenerated(codec.decodeBatch(theirs), b) && kafkajsSawGenerated(await kafkajsDecode(ours), b)
    }),
    { numRuns: RUNS },
  )
  t.pass()
})

t.test('gzip batches decode both ways', async (t) => {
  await fc.assert(
    fc.asyncProperty(genBatch(50, 400), async (b) => {
      const theirs = await kafkajsEncode(b, 'gzip')
      const ours = await codec.encodeBatchAsync(toRecordInputs(b), { ...optionsOf(b), compression: 'gzip' })
      return (
        sameAsGenerated(await codec.decodeBatchAsync(theirs), b) &&
        kafkajsSawGenerated(await kafkajsDecode(ours), b) &&
        (await codec.validateBatchAsync(ours)).compression === 'gzip'
      )
    }),
    { numRuns: Math.ceil(RUNS / 4) },
  )
  const gz = await codec.encodeBatchAsync([{ value: new Uint8Array(10) }], { compression: 'gzip' })
  t.throws(() => codec.validateBatch(gz), { code: 'UNSUPPORTED_COMPRESSION', message: /validateBatchAsync/ },
    'the synchronous path points to the async one for gzip')
})

for (const compression of ['lz4', 'snappy'] as const) {
  t.test(`${compression} batches decode both ways, through kafkajs's plug-in`, async (t) => {
    await fc.assert(
      fc.asyncProperty(genBatch(50, 400), async (b) => {
        const theirs = await kafkajsEncode(b, compression)
        const ours = codec.encodeBatch(toRecordInputs(b), { ...optionsOf(b), compression })
        return (
          sameAsGenerated(codec.decodeBatch(theirs), b) &&
          sameAsGenerated(await codec.decodeBatchAsync(theirs), b) &&
          sameAsGenerated(codec.decodeBatch(ours), b) &&
          kafkajsSawGenerated(await kafkajsDecode(ours), b) &&
          codec.validateBatch(theirs).compression === compression &&
          (await codec.validateBatchAsync(ours)).compression === compression
        )
      }),
      { numRuns: Math.ceil(RUNS / 4) },
    )
    t.pass()
  })
}

t.test('compressible batches shrink, and encodeBatchAsync agrees with encodeBatch', async (t) => {
  const records = Array.from({ length: 500 }, (_, i) => ({
    key: new TextEncoder().encode(`user-${i % 17}`),
    value: new TextEncoder().encode(JSON.stringify({ user: i % 17, page: `/items/${i % 31}`, action: 'view', ts: 1_700_000_000_000 + i })),
    timestamp: 1_700_000_000_000 + i,
  }))
  const plain = codec.encodeBatch(records)
  for (const compression of ['lz4', 'snappy'] as const) {
    const packed = codec.encodeBatch(records, { compression })
    t.ok(packed.length < plain.length / 3, `${compression}: ${plain.length} -> ${packed.length} bytes`)
    t.same(await codec.encodeBatchAsync(records, { compression }), packed)
    const decoded = codec.decodeBatch(packed)
    t.equal(decoded.records.length, 500)
    t.same(decoded.records[499].value, records[499].value)
  }
})
