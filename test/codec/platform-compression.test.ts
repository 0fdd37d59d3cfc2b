// Every codec works in every runtime: lz4, snappy and zstd in WASM (synchronous and async
// paths), gzip through the platform's CompressionStream (async only; the sync path says so).
import t from 'tap'
import { CodecError, loadCodec, supportedCompression } from '../../src/codec/index.js'
import { fixCrc } from './raw-batch.js'

const codec = await loadCodec()
const records = [{ key: new TextEncoder().encode('k'), value: new TextEncoder().encode('v'.repeat(2000)) }]

t.test('the supported list is every codec', async (t) => {
  t.same(supportedCompression().sort(), ['gzip', 'lz4', 'none', 'snappy', 'zstd'])
})

t.test('zstd: sync and async round trips, bounded, and a bogus section is a typed error on both paths', async (t) => {
  const batch = codec.encodeBatch(records, { compression: 'zstd' })
  t.same(codec.decodeBatch(batch).records[0].value, records[0].value)
  const viaAsync = await codec.encodeBatchAsync(records, { compression: 'zstd' })
  t.same((await codec.decodeBatchAsync(viaAsync)).records[0].value, records[0].value)
  await t.rejects(codec.decodeBatchAsync(batch, { maxDecompressedBytes: 100 }), { code: 'DECOMPRESSED_TOO_LARGE' })
  // A batch marked zstd (codec 4) whose section is not a zstd frame.
  const bogus = codec.encodeBatch(records)
  new DataView(bogus.buffer).setInt16(21, 4)
  fixCrc(bogus)
  const err = await codec.decodeBatchAsync(bogus).catch((e: unknown) => e)
  t.ok(err instanceof CodecError && err.code === 'CORRUPT_COMPRESSED_DATA', `typed: ${(err as Error).message}`)
  t.throws(() => codec.decodeBatch(bogus), { code: 'CORRUPT_COMPRESSED_DATA', message: /zstd/ }, 'the sync path decodes zstd (in WASM) too')
})

t.test('gzip: the sync path points to the async one', async (t) => {
  const batch = await codec.encodeBatchAsync(records, { compression: 'gzip' })
  t.same((await codec.decodeBatchAsync(batch)).records[0].value, records[0].value)
  t.throws(() => codec.decodeBatch(batch), { code: 'UNSUPPORTED_COMPRESSION', message: /decodeBatchAsync/ })
  t.throws(() => codec.encodeBatch(records, { compression: 'gzip' }), { code: 'UNSUPPORTED_COMPRESSION' })
})
