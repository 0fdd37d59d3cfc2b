// Platform codecs: gzip everywhere; zstd decompression where the runtime has it (Node >= 22.15
// through node:zlib, or a 'zstd' stream format), and elsewhere a typed error naming the codec.
// (zstd compression is WASM: test/codec/zstd-encode.test.ts.)
import t from 'tap'
import { CodecError, loadCodec, supportedCompression } from '../../src/codec/index.js'
import { fixCrc } from './raw-batch.js'

const codec = await loadCodec()
const records = [{ key: new TextEncoder().encode('k'), value: new TextEncoder().encode('v'.repeat(2000)) }]

t.test('the supported list always has the WASM codecs and gzip', async (t) => {
  t.match(supportedCompression(), ['none', 'gzip', 'snappy', 'lz4'])
})

t.test('zstd: a round trip where supported, a typed error naming it where not', async (t) => {
  if (supportedCompression().includes('zstd')) {
    const batch = await codec.encodeBatchAsync(records, { compression: 'zstd' })
    const decoded = await codec.decodeBatchAsync(batch)
    t.same(decoded.records[0].value, records[0].value)
    await t.rejects(codec.decodeBatchAsync(batch, { maxDecompressedBytes: 100 }), { code: 'DECOMPRESSED_TOO_LARGE' })
  } else {
    const batch = codec.encodeBatch(records, { compression: 'zstd' })
    await t.rejects(codec.decodeBatchAsync(batch), { code: 'UNSUPPORTED_COMPRESSION', message: /'zstd'/ })
  }
  // A batch marked zstd (codec 4) with a bogus section: unsupported or corrupt, never a crash.
  const batch = codec.encodeBatch(records)
  new DataView(batch.buffer).setInt16(21, 4)
  fixCrc(batch)
  const err = await codec.decodeBatchAsync(batch).catch((e: unknown) => e)
  t.ok(err instanceof CodecError && ['UNSUPPORTED_COMPRESSION', 'CORRUPT_COMPRESSED_DATA'].includes(err.code), `typed: ${(err as Error).message}`)
  t.throws(() => codec.decodeBatch(batch), { code: 'UNSUPPORTED_COMPRESSION', message: /decodeBatchAsync/ }, 'the sync path points to the async one')
})
