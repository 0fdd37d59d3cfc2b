// Hostile zstd input: random mutations of valid frames (bit flips, byte overwrites, truncation,
// splices, insertions and deletions) decode or fail with a CodecError, nothing else. The frame
// is placed at the very end of WASM memory, so a read past its end traps (and fails the test),
// and canary bytes after the output room show no write passes it. Bombs — a tiny frame that
// declares or produces gigabytes — are cut off at the limit with bounded memory.
import t from 'tap'
import fc from 'fast-check'
import { type Codec, CodecError, loadCodec } from '../../src/codec/index.js'
import { wasmError } from '../../src/codec/errors.js'
import { instantiateCodec, Scratch } from '../../src/codec/wasm.js'
import { corpus } from '../../perf/corpus.js'
import { cliCompress, nativeCompress } from './zstd-oracle.js'
import { randomBytes, textBytes } from './samples.js'
import { blockBytes, concat, frame, huffmanLiterals, huffmanTreeAB, le, MAGIC, repeatSequence, rleSequence, skippable } from './zstd-decode-frames.js'

const FUZZ_RUNS = Number(process.env.CODEC_FUZZ_RUNS ?? 5000)
const MiB = 1024 * 1024
const wasm = await instantiateCodec()
const scratch = new Scratch(wasm)
const CANARY = 0xa5
const CANARY_BYTES = 256
const FUZZ_LIMIT = MiB

/**
 * Decodes `f` lying at the very end of WASM memory into output room at the scratch base, with
 * canaries after the room. 'ok', a CodecError code, or what else went wrong.
 */
function decodeAtEnd(f: Uint8Array, limit = FUZZ_LIMIT): string {
  scratch.reserve(limit + CANARY_BYTES + f.length + 8)
  const src = wasm.memory.buffer.byteLength - f.length
  scratch.u8.set(f, src)
  try {
    const cap = wasm.zstdDecodedBound(src, f.length, limit)
    if (cap < 0) throw wasmError(cap, 'fuzz')
    const dst = scratch.base
    scratch.u8.fill(CANARY, dst + cap, dst + cap + CANARY_BYTES)
    const len = wasm.zstdDecompress(src, f.length, dst, cap)
    if (!scratch.u8.subarray(dst + cap, dst + cap + CANARY_BYTES).every((b) => b === CANARY)) return `wrote past its ${cap}-byte room`
    if (len < 0) throw wasmError(len, 'fuzz')
    if (len > cap) return `returned ${len} bytes for ${cap} of room`
    return 'ok'
  } catch (err) {
    return err instanceof CodecError ? err.code : `not a CodecError: ${err}`
  }
}

async function seedFrames(): Promise<Uint8Array[]> {
  const inputs = [textBytes(3000, 1), textBytes(60_000, 2), corpus(200_000), randomBytes(2000, 3), new Uint8Array(140_000)]
  const frames: Uint8Array[] = []
  for (const data of inputs) {
    for (const args of [['-1'], ['-19'], ['-3', '--no-check']]) frames.push(cliCompress(data, args))
    frames.push(await nativeCompress(data, 5))
  }
  const ab = [...huffmanLiterals('abba', huffmanTreeAB()), ...rleSequence(4, 0, 0)]
  frames.push(frame([{ type: 'compressed', body: ab }, { type: 'compressed', body: [...huffmanLiterals('baab', null), ...repeatSequence()] }], { checksum: [...Buffer.from('abbaaaabaabbbb')] }))
  frames.push(concat(skippable([1, 2, 3]), frames[0], frames[4]))
  return frames
}

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'splice'; at: number; from: number; at2: number; len: number }
  | { kind: 'insert'; at: number; bytes: number[] }
  | { kind: 'delete'; at: number; len: number }

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('splice' as const), at: fc.nat(), from: fc.nat(), at2: fc.nat(), len: fc.integer({ min: 1, max: 400 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 16 }) }),
)

function mutate(f: Uint8Array, m: Mutation, pool: Uint8Array[]): Uint8Array {
  const at = f.length === 0 ? 0 : m.at % f.length
  const out = Buffer.from(f)
  switch (m.kind) {
    case 'flip':
      if (out.length > 0) out[at] ^= 1 << m.bit
      return out
    case 'set':
      if (out.length > 0) out[at] = m.value
      return out
    case 'truncate':
      return out.subarray(0, at)
    case 'splice': {
      const other = pool[m.from % pool.length]
      const from = m.at2 % Math.max(1, other.length)
      return Buffer.concat([out.subarray(0, at), other.subarray(from, from + m.len), out.subarray(at)])
    }
    case 'insert':
      return Buffer.concat([out.subarray(0, at), Buffer.from(m.bytes), out.subarray(at)])
    case 'delete':
      return Buffer.concat([out.subarray(0, at), out.subarray(at + m.len)])
  }
}

t.test('mutated frames decode or fail with a CodecError; no read past the input, no write past the room', async (t) => {
  const pool = await seedFrames()
  for (const f of pool) t.equal(decodeAtEnd(f), 'ok', `seed frame of ${f.length} bytes decodes`)
  const outcomes = new Map<string, number>()
  fc.assert(
    fc.property(fc.nat(), fc.array(mutation, { minLength: 1, maxLength: 4 }), (which, ms) => {
      let f: Uint8Array = pool[which % pool.length]
      for (const m of ms) f = mutate(f, m, pool)
      const result = decodeAtEnd(f)
      outcomes.set(result, (outcomes.get(result) ?? 0) + 1)
      return result === 'ok' || result === 'CORRUPT_COMPRESSED_DATA' || result === 'UNSUPPORTED_COMPRESSION' || result === 'DECOMPRESSED_TOO_LARGE'
    }),
    { numRuns: FUZZ_RUNS },
  )
  t.ok((outcomes.get('CORRUPT_COMPRESSED_DATA') ?? 0) > 0, `outcomes: ${JSON.stringify([...outcomes])}`)
})

t.test('mutations inside the compressed blocks only (header intact) reach the literals and sequences decoders', async (t) => {
  const pool = await seedFrames()
  // Single frames (no skippable prefix); past the longest frame header and its first block header.
  const compressed = pool.filter((f) => f[0] === MAGIC[0] && f.length > 200 && f.length < 100_000)
  const skip = 18 + 3
  fc.assert(
    fc.property(fc.nat(), fc.nat(), fc.integer({ min: 0, max: 7 }), fc.nat({ max: 3 }), (which, at, bit, more) => {
      const f = Buffer.from(compressed[which % compressed.length])
      f[skip + (at % (f.length - skip))] ^= 1 << bit
      if (more > 0) f[skip + ((at * 7919) % (f.length - skip))] ^= 1 << ((bit + more) & 7)
      const result = decodeAtEnd(f)
      return result === 'ok' || result === 'CORRUPT_COMPRESSED_DATA' || result === 'DECOMPRESSED_TOO_LARGE'
    }),
    { numRuns: FUZZ_RUNS },
  )
  t.pass()
})

t.test('random bytes behind a valid frame header', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 3000 }), fc.boolean(), (body, compressedBlock) => {
      // A compressed block header claiming the random body, or the random bytes as blocks.
      const head = [...MAGIC, 0x04, 0x48]
      const f = compressedBlock
        ? Uint8Array.from([...head, ...blockBytes({ type: 'compressed', body: [...body] }, true), 0, 0, 0, 0])
        : Uint8Array.from([...head, ...body])
      const result = decodeAtEnd(f)
      return result === 'ok' || result === 'CORRUPT_COMPRESSED_DATA' || result === 'DECOMPRESSED_TOO_LARGE' || result === 'UNSUPPORTED_COMPRESSION'
    }),
    { numRuns: FUZZ_RUNS },
  )
  t.pass()
})

function memoryBytes(c: Codec): number {
  return (c as unknown as { wasm: { memory: WebAssembly.Memory } }).wasm.memory.buffer.byteLength
}

t.test('bombs stop at the limit; declared ones before any memory is reserved', async (t) => {
  const limit = 32 * MiB
  // Content size 2^40 declared: refused by the bound pass, memory untouched.
  {
    const c = await loadCodec()
    const before = memoryBytes(c)
    const f = Uint8Array.from([...MAGIC, 0xc4, 0x48, ...le(2 ** 40, 8), ...blockBytes({ type: 'rle', byte: 0, size: 128 * 1024 }, true), 0, 0, 0, 0])
    t.throws(() => c.decompress('zstd', f, { maxDecompressedBytes: limit }), { code: 'DECOMPRESSED_TOO_LARGE' }, 'a declared terabyte')
    t.equal(memoryBytes(c), before, 'refused without growing memory')
  }
  // A window of 2^41 bytes: refused whatever the data.
  t.equal(decodeAtEnd(frame([{ type: 'raw', data: [1] }], { window: 31 << 3 })), 'UNSUPPORTED_COMPRESSION', 'a 2 TiB window')
  // 2 GiB in RLE blocks of 128 KiB (4 bytes each), no content size: 64 KiB of input.
  {
    const c = await loadCodec()
    const blocks = new Array(16384).fill(0).map((_, i) => Buffer.from(blockBytes({ type: 'rle', byte: 0x41, size: 128 * 1024 }, i === 16383)))
    const f = concat(Uint8Array.from([...MAGIC, 0x00, 0x88]), ...blocks)
    const before = memoryBytes(c)
    t.throws(() => c.decompress('zstd', f, { maxDecompressedBytes: limit }), { code: 'DECOMPRESSED_TOO_LARGE' }, `a ${f.length}-byte frame of 2 GiB`)
    t.ok(memoryBytes(c) <= before + f.length + limit + 64 * 1024, `memory grew by ${memoryBytes(c) - before} bytes for a ${limit}-byte limit`)
  }
  // 512 MiB from compressed blocks of 13 bytes: one literal and one match of 65539 bytes each.
  {
    const c = await loadCodec()
    const body = [(1 << 3) | 1, 0x41, ...rleSequence(1, 0, 52).slice(0, 5), 0x00, 0x00, 0x01]
    const one = frame([{ type: 'compressed', body }])
    t.equal(Buffer.from(c.decompress('zstd', one)).toString(), 'A'.repeat(65540), 'one block: 65540 bytes')
    const n = 8192
    const blocks = new Array(n).fill(0).map((_, i) => Buffer.from(blockBytes({ type: 'compressed', body }, i === n - 1)))
    const f = concat(Uint8Array.from([...MAGIC, 0x00, 0x88]), ...blocks)
    const before = memoryBytes(c)
    t.throws(() => c.decompress('zstd', f, { maxDecompressedBytes: limit }), { code: 'DECOMPRESSED_TOO_LARGE' }, `a ${f.length}-byte frame of 512 MiB`)
    t.ok(memoryBytes(c) <= before + f.length + limit + 64 * 1024, `memory grew by ${memoryBytes(c) - before} bytes for a ${limit}-byte limit`)
    const fits = Math.floor(limit / 65540)
    const exact = concat(Uint8Array.from([...MAGIC, 0x00, 0x88]), ...blocks.slice(0, fits - 1), Buffer.from(blockBytes({ type: 'compressed', body }, true)))
    t.equal(c.decompress('zstd', exact, { maxDecompressedBytes: limit }).length, fits * 65540, `${fits} such blocks fit the limit and decode`)
  }
})
