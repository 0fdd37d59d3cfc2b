// The zstd encoder in WASM, checked by two independent decoders: Debian's zstd CLI (the
// reference library; it verifies the content checksum) and the @mongodb-js/zstd native
// binding. Round trips of the perf corpus, fast-check inputs and fixed sizes up to 8 MiB;
// the compressed size against the binding's level 1; each encoder path, shown by walking
// the frames we write; zstd record batches.
import t, { type Test } from 'tap'
import fc from 'fast-check'
import { loadCodec, readBatchHeader } from '../../src/codec/index.js'
import { corpus, corpusPart, CORPUS_KINDS } from '../../perf/corpus.js'
import { anyInput, boundaryInputs, randomBytes, textBytes } from './samples.js'
import { cliDecompress, nativeCompress, nativeDecompress } from './zstd-oracle.js'
import { walkFrame, type WalkedBlock } from './zstd-frame-walker.js'

const codec = await loadCodec()
const RUNS = Number(process.env.CODEC_PROPERTY_RUNS ?? 100)
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b))
const zstd = (data: Uint8Array) => codec.compress('zstd', data)
const BLOCK = 128 * 1024

/** Both oracles decode `frame` to `data`. */
async function bothDecode(frame: Uint8Array, data: Uint8Array): Promise<boolean> {
  return same(cliDecompress(frame), data) && same(await nativeDecompress(frame), data)
}

t.test('the reference CLI and the native binding decode what we write', async (t) => {
  const fixed: Array<[string, Uint8Array]> = [
    ...boundaryInputs(),
    ['corpus 1 MiB', corpus()],
    ['text 8 MiB', textBytes(8 * 1024 * 1024, 3)],
    ['random 8 MiB', randomBytes(8 * 1024 * 1024, 5)],
    ['text, one byte past a block', textBytes(BLOCK + 1, 2)],
    ['text, exactly two blocks', textBytes(2 * BLOCK, 4)],
  ]
  for (const [name, data] of fixed) {
    const frame = zstd(data)
    t.ok(await bothDecode(frame, data), `${name}: ${data.length} → ${frame.length} bytes`)
  }
  const samples = fc.sample(anyInput, { numRuns: RUNS, seed: 22 })
  let bad = 0
  for (const data of samples) if (!(await bothDecode(zstd(data), data))) bad++
  t.equal(bad, 0, `${samples.length} generated inputs round trip through both decoders`)
})

t.test('the compressed corpus is within 10 % of the native binding at level 1', async (t) => {
  // The target. Native frames carry no checksum (4 bytes less than ours).
  const parts: Array<[string, Uint8Array]> = [...CORPUS_KINDS.map((k): [string, Uint8Array] => [k, corpusPart(k, 256 * 1024)]), ['whole corpus', corpus()]]
  for (const [name, data] of parts) {
    const ours = zstd(data).length
    const native = (await nativeCompress(data, 1)).length
    t.ok(ours <= native * 1.1, `${name}: ours ${ours} bytes, native level 1 ${native} (${(ours / native).toFixed(3)})`)
  }
})

t.test('the frame: single segment with the content size, checksum on, blocks of at most 128 KiB', async (t) => {
  for (const n of [0, 255, 256, 65791, 65792, 3 * BLOCK + 5]) {
    const data = textBytes(n, n + 3)
    const frame = zstd(data)
    const walked = walkFrame(frame)
    t.match(walked, { singleSegment: true, checksum: true, contentSize: n, length: frame.length }, `${n} bytes`)
    t.equal(walked.blocks.length, Math.max(1, Math.ceil(n / BLOCK)), `${n} bytes: one block per 128 KiB`)
    t.ok(walked.blocks.every((b, i) => b.last === (i === walked.blocks.length - 1)), 'only the final block is marked last')
  }
  t.match(walkFrame(zstd(new Uint8Array(0))).blocks, [{ type: 'raw', size: 0, last: true }], 'empty input: one empty raw block')
})

/** Every block of every frame, with each frame's bytes round-tripped by both oracles. */
async function blocksOf(t: Test, inputs: Uint8Array[]): Promise<WalkedBlock[]> {
  const blocks: WalkedBlock[] = []
  for (const data of inputs) {
    const frame = zstd(data)
    t.ok(await bothDecode(frame, data), `${data.length} bytes round trip`)
    blocks.push(...walkFrame(frame).blocks)
  }
  return blocks
}

t.test('each encoder path, seen in the frames it writes', async (t) => {
  // Block 1: random (stored raw). Block 2: block 1 again with every 256th byte changed to 'z'
  // (never already 'z'): each 'z' is the only literal between two matches at the same
  // offset, so the literals are one byte repeated, and every match is 255 bytes long.
  const random = randomBytes(BLOCK, 11)
  for (let i = 255; i < BLOCK; i += 256) if (random[i] === 0x7a) random[i] = 0x79
  const patched = random.slice()
  for (let i = 255; i < BLOCK; i += 256) patched[i] = 0x7a
  const rleLiterals = Buffer.concat([random, patched])
  // Literals spread over all 256 byte values but skewed: Huffman codes them, and only the
  // FSE-compressed weights can describe symbols above 128.
  const skewed = randomBytes(20_000, 3).map((b) => Math.floor((b / 256) ** 3 * 256))
  // A small alphabet (bytes 0..11): 4-bit weights are shorter than an FSE description.
  const smallAlphabet = randomBytes(20_000, 4).map((b) => (b % 3 === 0 ? 0 : b % 12))
  // Symbol i appearing fib(i) times, shuffled: an unconstrained Huffman code would be 20+ bits
  // deep, so the 11-bit limit has to reshape it (the decoders check the result).
  const fib = [1, 1]
  while (fib.length < 24) fib.push(fib[fib.length - 1] + fib[fib.length - 2])
  const deep = Uint8Array.from(fib.flatMap((count, symbol) => Array<number>(count).fill(symbol * 9)))
  const order = randomBytes(deep.length * 4, 12)
  for (let i = deep.length - 1; i > 0; i--) {
    const j = (order[4 * i] | (order[4 * i + 1] << 8) | (order[4 * i + 2] << 16)) % (i + 1)
    ;[deep[i], deep[j]] = [deep[j], deep[i]]
  }
  // Random data with repeated pieces: matches, but literals Huffman cannot shrink.
  const piece = randomBytes(3000, 8)
  const rawLiterals = Buffer.concat([piece, randomBytes(2000, 9), piece, randomBytes(2000, 10), piece])
  const blocks = await blocksOf(t, [
    corpus(), textBytes(200), new TextEncoder().encode('hello hello hello, world: hello hello!'),
    new Uint8Array(200_000).fill(7), rleLiterals, skewed, smallAlphabet, deep, rawLiterals, randomBytes(5000, 1),
  ])
  const some = (what: string, ok: (b: WalkedBlock) => boolean) => t.ok(blocks.some(ok), what)
  some('compressed block', (b) => b.type === 'compressed')
  some('raw block (incompressible)', (b) => b.type === 'raw' && b.size > 0)
  some('RLE block (one byte repeated)', (b) => b.type === 'rle' && b.size === BLOCK)
  some('Huffman literals, 4 streams, direct weights', (b) => b.literals?.type === 'huffman' && b.literals.streams === 4 && b.literals.weights === 'direct')
  some('Huffman literals, 1 stream', (b) => b.literals?.type === 'huffman' && b.literals.streams === 1)
  some('Huffman literals, FSE-compressed weights', (b) => b.literals?.type === 'huffman' && b.literals.weights === 'fse')
  some('raw literals in a compressed block', (b) => b.literals?.type === 'raw' && b.literals.regenerated > 1000)
  some('RLE literals', (b) => b.literals?.type === 'rle' && b.literals.regenerated > 100)
  some('predefined sequence tables', (b) => b.sequences?.ll === 'predefined' && b.sequences.of === 'predefined' && b.sequences.ml === 'predefined')
  some('FSE tables of the block', (b) => b.sequences?.ll === 'fse' && b.sequences.of === 'fse' && b.sequences.ml === 'fse')
  some('RLE sequence mode', (b) => b.sequences?.ml === 'rle')
  some('a block with no sequences', (b) => b.type === 'compressed' && b.sequences?.count === 0)
  t.notOk(blocks.some((b) => b.literals?.type === 'treeless' || [b.sequences?.ll, b.sequences?.of, b.sequences?.ml].includes('repeat')),
    'no repeat modes (every block carries its own tables)')
})

t.test('a zstd record batch: attribute codec 4, the records section one zstd frame', async (t) => {
  const records = Array.from({ length: 500 }, (_, i) => ({ key: textBytes(10, i + 1), value: textBytes(300, i + 7) }))
  const plain = codec.encodeBatch(records)
  const batch = codec.encodeBatch(records, { compression: 'zstd' })
  const header = readBatchHeader(batch)
  t.equal(header.compression, 'zstd')
  t.equal(header.attributes & 7, 4)
  const section = batch.subarray(61)
  t.equal(walkFrame(section).length, section.length, 'the section is exactly one frame, no wrapper')
  t.ok(same(cliDecompress(section), plain.subarray(61)), 'it decodes to the uncompressed batch\'s records section')
  t.ok(section.length < plain.length / 2, `compressed: ${plain.length - 61} → ${section.length} bytes`)
  t.ok(codec.batchCrcMatches(batch), 'CRC over the compressed batch')
})
