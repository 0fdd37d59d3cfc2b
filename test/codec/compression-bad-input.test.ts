// Damaged and hostile compressed data: every kind of damage to an LZ4 frame or a Snappy
// stream gets a typed error; decompression bombs are refused under the limit, before memory
// is committed when the data declares its size; random mutations never trap or escape as
// anything but a CodecError. Frames are built here by hand, checksums by xxhashjs.
import t from 'tap'
import fc from 'fast-check'
import { createRequire } from 'node:module'
import { Codec, CodecError, loadCodec } from '../../src/codec/index.js'
import { instantiateCodec } from '../../src/codec/wasm.js'
import { fixCrc } from './raw-batch.js'
import { textBytes } from './samples.js'

const require = createRequire(import.meta.url)
const xxhashjs = require('xxhashjs') as { h32(b: Buffer, seed: number): { toNumber(): number } }
const xxh32 = (b: Uint8Array) => xxhashjs.h32(Buffer.from(b), 0).toNumber()

const codec = await loadCodec()
const RUNS = Number(process.env.CODEC_PROPERTY_RUNS ?? 200)
const MiB = 1024 * 1024

const outcome = (f: () => unknown): string => {
  try {
    f()
    return 'ok'
  } catch (err) {
    return err instanceof CodecError ? err.code : `not a CodecError: ${err}`
  }
}
const message = (f: () => unknown): string => {
  try {
    f()
    return 'ok'
  } catch (err) {
    return (err as Error).message
  }
}
const u32le = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24]
const u64le = (n: number) => [...u32le(n % 2 ** 32), ...u32le(Math.floor(n / 2 ** 32))]

interface FrameSpec {
  flg?: number // default 0x60: version 01, independent blocks
  bd?: number // default 0x40: 64 KiB blocks
  contentSize?: number
  dictId?: number
  blocks: Array<{ data: number[]; raw?: boolean; checksum?: number }>
  contentChecksum?: number
}
/** An LZ4 frame from parts; flags follow the parts given unless `flg` overrides them. */
function frame(s: FrameSpec): Uint8Array {
  let flg = s.flg ?? 0x60 | (s.contentSize !== undefined ? 0x08 : 0) | (s.dictId !== undefined ? 0x01 : 0)
  if (s.flg === undefined && s.blocks.some((b) => b.checksum !== undefined)) flg |= 0x10
  if (s.flg === undefined && s.contentChecksum !== undefined) flg |= 0x04
  const descriptor = [flg, s.bd ?? 0x40, ...(s.contentSize !== undefined ? u64le(s.contentSize) : []), ...(s.dictId !== undefined ? u32le(s.dictId) : [])]
  const hc = (xxh32(new Uint8Array(descriptor)) >>> 8) & 0xff
  const blocks = s.blocks.flatMap((b) => [
    ...u32le((b.data.length | (b.raw ? 0x80000000 : 0)) >>> 0),
    ...b.data,
    ...(b.checksum !== undefined ? u32le(b.checksum) : []),
  ])
  const tail = s.contentChecksum !== undefined ? u32le(s.contentChecksum) : []
  return new Uint8Array([0x04, 0x22, 0x4d, 0x18, ...descriptor, hc, ...blocks, 0, 0, 0, 0, ...tail])
}

/** An LZ4 block that decodes to n zero bytes (n >= 10): one literal, one long match, 5 literals. */
function zerosBlock(n: number): number[] {
  const extra = n - 1 - 5 - 4 - 15
  return [0x1f, 0, 1, 0, ...new Array(Math.floor(extra / 255)).fill(255), extra % 255, 0x50, 0, 0, 0, 0, 0]
}

const hello = [...new TextEncoder().encode('hello, hello, hello, hello!')]
const helloBlock = { data: [0xf0, hello.length - 15, ...hello] } // all literals

t.test('LZ4: hand-built frames with every option decode; each kind of damage is typed', async (t) => {
  const lz4 = (f: Uint8Array, limit?: number) => outcome(() => codec.decompress('lz4', f, { maxDecompressedBytes: limit }))
  const sum = xxh32(new Uint8Array(hello))
  t.equal(lz4(frame({ blocks: [helloBlock] })), 'ok', 'baseline')
  t.equal(lz4(frame({ blocks: [{ data: hello, raw: true }] })), 'ok', 'uncompressed block')
  t.equal(lz4(frame({ contentSize: hello.length, blocks: [{ ...helloBlock, checksum: xxh32(new Uint8Array(helloBlock.data)) }], contentChecksum: sum })),
    'ok', 'content size, block checksum, content checksum')
  t.equal(lz4(frame({ flg: 0x40, blocks: [helloBlock, { data: [0x0f, 27, 0, 10, 0x50, 1, 2, 3, 4, 5] }] })), 'ok', 'a linked block matching into the previous block')
  t.equal(lz4(frame({ blocks: [helloBlock, { data: [0x0f, 27, 0, 10, 0x50, 1, 2, 3, 4, 5] }] })), 'CORRUPT_COMPRESSED_DATA', 'the same match in an independent block')

  const good = frame({ blocks: [helloBlock] })
  for (let cut = 0; cut < good.length; cut++) {
    const r = lz4(good.subarray(0, cut))
    if (r !== 'CORRUPT_COMPRESSED_DATA') t.fail(`prefix of ${cut} bytes: ${r}`)
  }
  t.pass('every truncation is CORRUPT_COMPRESSED_DATA')
  t.match(message(() => codec.decompress('lz4', good.subarray(0, good.length - 2))), /truncated/)
  const damaged = (at: number, value: number) => {
    const f = good.slice()
    f[at] = value
    return f
  }
  t.match(message(() => codec.decompress('lz4', damaged(0, 0x05))), /magic/, 'bad magic')
  t.match(message(() => codec.decompress('lz4', frame({ flg: 0xa0, blocks: [helloBlock] }))), /descriptor/, 'version 10')
  t.match(message(() => codec.decompress('lz4', frame({ flg: 0x62, blocks: [helloBlock] }))), /descriptor/, 'reserved FLG bit')
  t.match(message(() => codec.decompress('lz4', frame({ bd: 0x30, blocks: [helloBlock] }))), /descriptor/, 'block size id 3')
  t.match(message(() => codec.decompress('lz4', frame({ bd: 0x41, blocks: [helloBlock] }))), /descriptor/, 'reserved BD bits')
  t.match(message(() => codec.decompress('lz4', damaged(6, good[6] ^ 1))), /header checksum/, 'header checksum byte')
  t.match(message(() => codec.decompress('lz4', frame({ blocks: [{ ...helloBlock, checksum: 1 }] }))), /block checksum/)
  t.match(message(() => codec.decompress('lz4', frame({ blocks: [helloBlock], contentChecksum: sum ^ 1 }))), /content checksum/)
  t.match(message(() => codec.decompress('lz4', frame({ contentSize: hello.length + 1, blocks: [helloBlock] }))), /content size/)
  const huge = good.slice()
  new DataView(huge.buffer).setUint32(7, 0x10001, true)
  t.match(message(() => codec.decompress('lz4', huge)), /block size exceeds/, 'block size over the 64 KiB maximum')
  t.equal(lz4(frame({ dictId: 7, blocks: [helloBlock] })), 'UNSUPPORTED_COMPRESSION', 'a dictionary id')
  t.equal(lz4(frame({ blocks: [{ data: [0x1f, 0, 0, 0, 0x50, 1, 2, 3, 4, 5] }] })), 'CORRUPT_COMPRESSED_DATA', 'match offset 0')
  t.equal(lz4(frame({ blocks: [{ data: [0x1f, 0, 2, 0, 0x50, 1, 2, 3, 4, 5] }] })), 'CORRUPT_COMPRESSED_DATA', 'match before the output start')
  t.equal(lz4(frame({ blocks: [{ data: [0xf0, 255, 255, 255] }] })), 'CORRUPT_COMPRESSED_DATA', 'literal run past the block')
  t.equal(lz4(frame({ blocks: [{ data: [0x10, 1, 0x00] }] })), 'CORRUPT_COMPRESSED_DATA', 'a sequence cut after its literals')
})

t.test('Snappy: each kind of damage is typed', async (t) => {
  const snappy = (b: number[]) => outcome(() => codec.decompress('snappy', new Uint8Array(b)))
  t.equal(snappy([5, 4 << 2, 1, 2, 3, 4, 5]), 'ok', 'baseline raw: 5 literal bytes')
  t.equal(snappy([9, 4 << 2, 1, 2, 3, 4, 5, 0x01, 5]), 'ok', 'copy-1 element')
  t.equal(snappy([]), 'CORRUPT_COMPRESSED_DATA', 'empty')
  t.equal(snappy([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), 'CORRUPT_COMPRESSED_DATA', '6-byte length varint')
  t.equal(snappy([0xff, 0xff, 0xff, 0xff, 0x1f]), 'CORRUPT_COMPRESSED_DATA', 'length over 2^32')
  t.equal(snappy([5, 4 << 2, 1, 2, 3]), 'CORRUPT_COMPRESSED_DATA', 'literal cut short')
  t.equal(snappy([6, 4 << 2, 1, 2, 3, 4, 5]), 'CORRUPT_COMPRESSED_DATA', 'fewer bytes than declared')
  t.equal(snappy([4, 4 << 2, 1, 2, 3, 4, 5]), 'CORRUPT_COMPRESSED_DATA', 'more bytes than declared')
  t.equal(snappy([9, 4 << 2, 1, 2, 3, 4, 5, 0x01, 0]), 'CORRUPT_COMPRESSED_DATA', 'copy offset 0')
  t.equal(snappy([9, 4 << 2, 1, 2, 3, 4, 5, 0x01, 6]), 'CORRUPT_COMPRESSED_DATA', 'copy before the output start')
  t.equal(snappy([9, 4 << 2, 1, 2, 3, 4, 5, 0x03, 1, 0]), 'CORRUPT_COMPRESSED_DATA', 'copy-4 element cut short')
  t.equal(snappy([70, 63 << 2, 70]), 'CORRUPT_COMPRESSED_DATA', '4-byte literal length cut short')
  const xerial = [0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]
  t.equal(snappy([...xerial, 0, 0, 0, 7, 5, 4 << 2, 1, 2, 3, 4, 5]), 'ok', 'baseline xerial chunk')
  t.equal(snappy([...xerial, 0, 0, 0, 8, 5, 4 << 2, 1, 2, 3, 4, 5]), 'CORRUPT_COMPRESSED_DATA', 'chunk length past the end')
  t.equal(snappy([...xerial, 0, 0, 0]), 'CORRUPT_COMPRESSED_DATA', 'chunk length cut short')
})

function memoryBytes(c: Codec): number {
  return (c as unknown as { wasm: { memory: WebAssembly.Memory } }).wasm.memory.buffer.byteLength
}

t.test('bombs are refused under the limit, before memory is committed when sizes are declared', async (t) => {
  const fresh = new Codec(await instantiateCodec())
  const before = memoryBytes(fresh)
  const limit = 1 * MiB
  const tooLarge = (codecName: 'lz4' | 'snappy', data: Uint8Array) =>
    outcome(() => fresh.decompress(codecName, data, { maxDecompressedBytes: limit }))

  const declared = frame({ contentSize: 2 ** 40, bd: 0x70, blocks: [{ data: zerosBlock(4 * MiB) }] })
  t.equal(tooLarge('lz4', declared), 'DECOMPRESSED_TOO_LARGE', 'LZ4 frame declaring a 1 TiB content size')
  // The frame itself is copied into the module first; no room for output is reserved.
  const inputPages = Math.ceil(declared.length / 65536) * 65536
  t.ok(memoryBytes(fresh) <= before + inputPages, `refused without reserving output (memory grew by ${memoryBytes(fresh) - before} bytes for a ${declared.length}-byte frame)`)
  // 100 MiB of zeros in 25 blocks of 4 MiB, ~16 KiB each, no content size: memory grows by at
  // most the input and the limit.
  const undeclared = frame({ bd: 0x70, blocks: Array.from({ length: 25 }, () => ({ data: zerosBlock(4 * MiB) })) })
  t.equal(tooLarge('lz4', undeclared), 'DECOMPRESSED_TOO_LARGE', 'LZ4 frame without a content size')
  t.ok(memoryBytes(fresh) <= before + undeclared.length + limit + 64 * 1024,
    `memory grew by ${memoryBytes(fresh) - before} bytes for a ${undeclared.length}-byte input and a ${limit}-byte limit`)
  const two = frame({ bd: 0x70, blocks: [{ data: zerosBlock(4 * MiB) }, { data: zerosBlock(4 * MiB) }] })
  const decoded = codec.decompress('lz4', two, { maxDecompressedBytes: 8 * MiB })
  t.ok(decoded.length === 8 * MiB && decoded.every((b) => b === 0), 'the same blocks under a large enough limit decode')

  const fresh2 = new Codec(await instantiateCodec())
  const before2 = memoryBytes(fresh2)
  t.equal(outcome(() => fresh2.decompress('snappy', new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f, 0]), { maxDecompressedBytes: limit })),
    'DECOMPRESSED_TOO_LARGE', 'raw Snappy declaring 4 GiB')
  const chunk = [0x80, 0x80, 0x20, 0] // declares 512 KiB, holds nothing
  const xerial = new Uint8Array([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1, ...[0, 0, 0, 4, ...chunk], ...[0, 0, 0, 4, ...chunk], ...[0, 0, 0, 4, ...chunk]])
  t.equal(outcome(() => fresh2.decompress('snappy', xerial, { maxDecompressedBytes: limit })), 'DECOMPRESSED_TOO_LARGE', 'xerial chunks summing past the limit')
  t.equal(memoryBytes(fresh2), before2, 'both refused without growing memory')

  const records = [{ value: new Uint8Array(200_000) }]
  for (const compression of ['lz4', 'snappy'] as const) {
    const batch = codec.encodeBatch(records, { compression })
    t.equal(outcome(() => codec.decodeBatch(batch, { maxDecompressedBytes: 100_000 })), 'DECOMPRESSED_TOO_LARGE', `${compression} batch over the limit`)
    t.equal(outcome(() => codec.validateBatch(batch, { maxDecompressedBytes: 100_000 })), 'DECOMPRESSED_TOO_LARGE', `${compression} batch, validate`)
    await t.rejects(codec.decodeBatchAsync(batch, { maxDecompressedBytes: 100_000 }), { code: 'DECOMPRESSED_TOO_LARGE' })
    t.equal(outcome(() => codec.decodeBatch(batch, { maxDecompressedBytes: 300_000 })), 'ok', `${compression} batch under the limit`)
  }
})

t.test('random mutations of compressed batches: a CodecError or a valid decode, nothing else', async (t) => {
  const fresh = new Codec(await instantiateCodec())
  const records = Array.from({ length: 40 }, (_, i) => ({ key: textBytes(8, i + 1), value: textBytes(300, i + 50), headers: [{ key: 'h', value: textBytes(5, i) }] }))
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bits: fc.integer({ min: 1, max: 255 }) }),
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('int32' as const), at: fc.nat(), value: fc.integer() }),
  )
  for (const compression of ['lz4', 'snappy'] as const) {
    const valid = fresh.encodeBatch(records, { compression })
    let decodedOk = 0
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (mutations) => {
        let b: Uint8Array = valid.slice()
        for (const m of mutations) {
          // Damage the compressed section (after the 61-byte header), where the decoders work.
          const at = 61 + (m.at % (b.length - 60))
          if (m.kind === 'flip' && at < b.length) b[at] ^= m.bits
          else if (m.kind === 'cut') b = b.slice(0, at)
          else if (m.kind === 'int32' && at + 4 <= b.length) new DataView(b.buffer).setInt32(at, m.value)
        }
        new DataView(b.buffer).setInt32(8, b.length - 12)
        fixCrc(b)
        const r = outcome(() => fresh.decodeBatch(b, { maxDecompressedBytes: 4 * MiB }))
        if (r === 'ok') decodedOk++
        return !r.startsWith('not a CodecError') && r !== 'CODEC_INTERNAL'
      }),
      { numRuns: Number(process.env.CODEC_FUZZ_RUNS ?? 1500) },
    )
    t.pass(`${compression}: mutations survived (${decodedOk} still decoded)`)
  }
  t.ok(memoryBytes(fresh) <= 16 * MiB, `codec memory stayed bounded (${memoryBytes(fresh)} bytes)`)
})
