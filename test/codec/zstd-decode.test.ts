// zstd decoding in WASM against the reference: every frame the zstd CLI (levels 1, 3, 9, 19,
// with and without checksum, --long=27) and the @mongodb-js/zstd native binding write decodes
// to its input, from 0 B to 8 MiB; hand-built frames cover what the tools rarely write (raw
// and RLE blocks of every header form, skippable and concatenated frames, RLE and repeat
// sequence modes, treeless literals), and the decoder's counters show that every mode ran.
import t from 'tap'
import fc from 'fast-check'
import { CodecError, loadCodec } from '../../src/codec/index.js'
import { instantiateCodec, Scratch } from '../../src/codec/wasm.js'
import { WasmCompression } from '../../src/codec/wasm-compression.js'
import { corpus } from '../../perf/corpus.js'
import { flatHeaders, genBatch } from './oracle.js'
import { fixCrc } from './raw-batch.js'
import { kafkajsZstdBatch } from './zstd-decode-kafkajs.js'
import { cliCompress, nativeCompress } from './zstd-oracle.js'
import { anyInput, boundaryInputs, randomBytes, textBytes } from './samples.js'
import {
  addStats, concat, frame, huffmanLiterals, huffmanTreeAB, noStats, repeatSequence, rleSequence, skippable, takeStats,
  type Stats,
} from './zstd-decode-frames.js'

const codec = await loadCodec()
const wasm = await instantiateCodec()
const zstd = new WasmCompression(wasm, new Scratch(wasm))
const RUNS = Number(process.env.CODEC_PROPERTY_RUNS ?? 200)
const MiB = 1024 * 1024
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b))
const decode = (f: Uint8Array, limit = 64 * MiB) => zstd.decompress('zstd', f, limit)
const seen = noStats()
const outcome = (f: () => unknown): string => {
  try {
    f()
    return 'ok'
  } catch (err) {
    return err instanceof CodecError ? err.code : `not a CodecError: ${err}`
  }
}

t.test('frames the zstd CLI writes decode to their input', async (t) => {
  const zeros = new Uint8Array(MiB)
  const inputs: Array<[string, Uint8Array]> = [
    ['empty', new Uint8Array(0)],
    ['1 byte', Uint8Array.of(42)],
    ['text 1000', textBytes(1000, 3)],
    ['random 200 KiB', randomBytes(200 * 1024, 5)],
    ['zeros 1 MiB', zeros],
    ['corpus 1 MiB', corpus(MiB)],
  ]
  const levels = [['-1'], ['-3'], ['-9'], ['-19'], ['-3', '--no-check'], ['-19', '--no-check'], ['--long=27', '-3'], ['--long=27', '-19']]
  for (const [name, data] of inputs) {
    for (const args of levels) {
      const f = cliCompress(data, args)
      t.ok(same(decode(f), data), `${name}, zstd ${args.join(' ')}: ${f.length} bytes decode to the input`)
      addStats(seen, takeStats(wasm))
    }
  }
  const big = corpus(8 * MiB, 7)
  for (const args of [['-1'], ['-3', '--no-check'], ['--long=27', '-9']]) {
    const f = cliCompress(big, args)
    t.ok(same(decode(f), big), `corpus 8 MiB, zstd ${args.join(' ')}: ${f.length} bytes decode to the input`)
    addStats(seen, takeStats(wasm))
  }
})

t.test('CLI frames of generated inputs (random, text, repetitive) decode to them', async (t) => {
  // Each case spawns the CLI: fewer runs than the in-process properties.
  fc.assert(
    fc.property(anyInput, fc.constantFrom('-1', '-3', '-9', '-19'), fc.boolean(), (data, level, check) => {
      const f = cliCompress(data, check ? [level] : [level, '--no-check'])
      return same(decode(f), data)
    }),
    { numRuns: Math.max(10, Math.floor(RUNS / 4)) },
  )
  addStats(seen, takeStats(wasm))
  t.pass()
})

t.test('frames the native binding writes decode to their input', async (t) => {
  await fc.assert(
    fc.asyncProperty(anyInput, fc.integer({ min: 1, max: 19 }), async (data, level) => {
      const f = await nativeCompress(data, level)
      return same(decode(f), data)
    }),
    { numRuns: RUNS },
  )
  for (const [name, data] of boundaryInputs()) {
    for (const level of [1, 3, 12]) {
      t.ok(same(decode(await nativeCompress(data, level)), data), `${name}, level ${level}`)
    }
  }
  addStats(seen, takeStats(wasm))
})

t.test('hand-built raw and RLE blocks with every frame header form', async (t) => {
  const content = [...Buffer.from('hello, '), ...new Array(300).fill(0x7a)]
  const blocks = [{ type: 'raw' as const, data: content.slice(0, 7) }, { type: 'rle' as const, byte: 0x7a, size: 300 }]
  const forms = [
    {},
    { checksum: content },
    { contentSize: { bytes: 2 as const, value: content.length } },
    { contentSize: { bytes: 4 as const, value: content.length }, checksum: content },
    { contentSize: { bytes: 8 as const, value: content.length } },
    { singleSegment: true, contentSize: { bytes: 2 as const, value: content.length } },
    { window: 0x00 }, // a 1 KiB window: blocks stay within it
    { dictionary: { bytes: 4 as const, id: 0 } }, // dictionary id 0 means none
  ]
  for (const o of forms) t.ok(same(decode(frame(blocks, o)), Uint8Array.from(content)), JSON.stringify(o))
  const small = frame([{ type: 'raw', data: [1, 2, 3] }], { singleSegment: true, contentSize: { bytes: 1, value: 3 } })
  t.same([...decode(small)], [1, 2, 3], 'single segment with a 1-byte content size')
  t.same([...decode(frame([{ type: 'raw', data: [] }], { checksum: [] }))], [], 'an empty frame')
  addStats(seen, takeStats(wasm))
})

t.test('skippable frames are passed over; concatenated frames decode one after the other', async (t) => {
  const a = textBytes(5000, 1)
  const b = randomBytes(3000, 2)
  const fa = cliCompress(a, ['-3'])
  const fb = cliCompress(b, ['-19', '--no-check'])
  const hand = frame([{ type: 'rle', byte: 9, size: 10 }], { checksum: new Array(10).fill(9) })
  const all = concat(skippable([1, 2, 3]), fa, skippable([], 0xf), fb, hand, skippable(new Array(100).fill(7), 5))
  t.ok(same(decode(all), concat(a, b, new Uint8Array(10).fill(9))), 'skippable, CLI, skippable, CLI, hand-built, skippable')
  const stats = takeStats(wasm)
  t.equal(stats.frames, 3)
  t.equal(stats.skippableFrames, 3)
  addStats(seen, stats)
  t.equal(outcome(() => decode(skippable([1, 2]))), 'ok', 'only a skippable frame: empty output')
})

t.test('RLE and repeat sequence modes, direct Huffman weights and treeless literals', async (t) => {
  // Block 1: Huffman literals "abba" (direct weights), then one sequence in RLE mode:
  // 4 literals, repeat offset 1 (= 1), match length 3. Block 2: treeless literals "baab" and the
  // same sequence with every table repeated. Block 3: RLE literals "ccccc" and no sequences.
  // Block 4: raw; block 5: RLE.
  const block1 = [...huffmanLiterals('abba', huffmanTreeAB()), ...rleSequence(4, 0, 0)]
  const block2 = [...huffmanLiterals('baab', null), ...repeatSequence()]
  const block3 = [(5 << 3) | 1, 0x63, 0]
  const expected = Buffer.from('abbaaaa' + 'baabbbb' + 'ccccc' + 'xyz' + 'qqqq')
  const f = frame(
    [
      { type: 'compressed', body: block1 }, { type: 'compressed', body: block2 }, { type: 'compressed', body: block3 },
      { type: 'raw', data: [...Buffer.from('xyz')] }, { type: 'rle', byte: 0x71, size: 4 },
    ],
    { checksum: [...expected], contentSize: { bytes: 4, value: expected.length } },
  )
  t.equal(Buffer.from(decode(f)).toString(), expected.toString())
  const stats = takeStats(wasm)
  t.match(stats, { tablesRle: 3, tablesRepeat: 3, literalsTreeless: 1, literalsHuffman1: 1, literalsRle: 1, huffmanDirectWeights: 1, checksums: 1 })
  addStats(seen, stats)
  // A block that repeats a table or a Huffman tree no earlier block of the frame defined.
  const noTable = frame([{ type: 'compressed', body: [0, ...repeatSequence()] }])
  t.equal(outcome(() => decode(noTable)), 'CORRUPT_COMPRESSED_DATA', 'repeat mode in the first block')
  const noTree = frame([{ type: 'compressed', body: [...huffmanLiterals('ab', null), 0] }])
  t.equal(outcome(() => decode(noTree)), 'CORRUPT_COMPRESSED_DATA', 'treeless literals in the first block')
  // A new frame forgets the previous frame's tables.
  t.equal(outcome(() => decode(concat(f, noTable))), 'CORRUPT_COMPRESSED_DATA', 'tables do not cross frames')
})

t.test('what the decoder refuses, with the code that says why', async (t) => {
  const raw = [{ type: 'raw' as const, data: [1, 2, 3] }]
  const cases: Array<[string, Uint8Array, string, RegExp]> = [
    ['a dictionary id', frame(raw, { dictionary: { bytes: 2, id: 77 } }), 'UNSUPPORTED_COMPRESSION', /dictionary/],
    ['a 256 MiB window', frame(raw, { window: 18 << 3 }), 'UNSUPPORTED_COMPRESSION', /window/],
    ['the reserved header bit', frame(raw, { reservedBit: true }), 'CORRUPT_COMPRESSED_DATA', /reserved/],
    ['the reserved block type', frame([{ type: 'reserved', body: [0] }]), 'CORRUPT_COMPRESSED_DATA', /block type/],
    ['a wrong checksum', frame(raw, { checksum: [1, 2, 4] }), 'CORRUPT_COMPRESSED_DATA', /checksum/],
    ['a wrong content size', frame(raw, { contentSize: { bytes: 4, value: 4 } }), 'CORRUPT_COMPRESSED_DATA', /content size/],
    ['data larger than its content size', frame(raw, { contentSize: { bytes: 4, value: 2 } }), 'CORRUPT_COMPRESSED_DATA', /content size/],
    ['a block over the 1 KiB window', frame([{ type: 'rle', byte: 0, size: 1025 }], { window: 0 }), 'CORRUPT_COMPRESSED_DATA', /block maximum/],
    ['trailing garbage', concat(frame(raw), Uint8Array.of(1, 2, 3, 4)), 'CORRUPT_COMPRESSED_DATA', /magic/],
    ['no frame at all', new Uint8Array(0), 'CORRUPT_COMPRESSED_DATA', /truncated/],
    ['an LZ4 frame', Uint8Array.of(0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82, 0, 0, 0, 0), 'CORRUPT_COMPRESSED_DATA', /magic/],
  ]
  for (const [what, f, code, message] of cases) {
    t.throws(() => decode(f), { code, message }, what)
  }
  // Every truncation of a real frame is refused.
  const f = cliCompress(textBytes(3000, 9), ['-19'])
  const codes = new Set<string>()
  for (let n = 0; n < f.length; n++) codes.add(outcome(() => decode(f.subarray(0, n))))
  t.same([...codes], ['CORRUPT_COMPRESSED_DATA'], 'every prefix of a frame')
})

t.test('bounded: output never passes the limit, and declared sizes are checked first', async (t) => {
  const data = textBytes(100_000, 4)
  const f = cliCompress(data, ['-3'])
  t.equal(outcome(() => decode(f, data.length)), 'ok', 'exactly the limit')
  t.throws(() => decode(f, data.length - 1), { code: 'DECOMPRESSED_TOO_LARGE' }, 'one byte under it, with a declared content size')
  const undeclared = await nativeCompress(data, 3) // the native binding's streaming frames declare no size
  t.throws(() => decode(undeclared, data.length - 1), { code: 'DECOMPRESSED_TOO_LARGE' }, 'one byte under it, undeclared')
  t.ok(same(decode(undeclared, data.length), data))
})

t.test('zstd batches decode synchronously in WASM (the module the browser bundle embeds too)', async (t) => {
  const value = textBytes(20_000, 2)
  const records = [{ key: new TextEncoder().encode('k'), value }, { value: null }]
  const plain = codec.encodeBatch(records)
  const section = cliCompress(plain.subarray(61), ['-3'])
  const batch = new Uint8Array(61 + section.length)
  batch.set(plain.subarray(0, 61))
  batch.set(section, 61)
  const view = new DataView(batch.buffer)
  view.setInt32(8, batch.length - 12)
  view.setInt16(21, 4)
  fixCrc(batch)
  const decoded = codec.decodeBatch(batch)
  t.equal(decoded.header.compression, 'zstd')
  t.ok(same(decoded.records[0].value ?? new Uint8Array(0), value))
  t.equal(decoded.records[1].value, null)
  t.same(codec.validateBatch(batch).recordCount, 2)
  t.throws(() => codec.decodeBatch(batch, { maxDecompressedBytes: 1000 }), { code: 'DECOMPRESSED_TOO_LARGE' })
  t.ok(same(codec.decompress('zstd', section), plain.subarray(61)), 'codec.decompress("zstd")')
})

t.test('kafkajs zstd batches (a plug-in over the native binding) decode to what was generated', async (t) => {
  const hex = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b).toString('hex'))
  await fc.assert(
    fc.asyncProperty(genBatch(50, 400), fc.integer({ min: 1, max: 19 }), async (b, level) => {
      const decoded = codec.decodeBatch(await kafkajsZstdBatch(b, level))
      return (
        decoded.header.compression === 'zstd' &&
        decoded.header.baseOffset === b.baseOffset &&
        decoded.records.length === b.records.length &&
        decoded.records.every((r, i) => {
          const g = b.records[i]
          const headers = flatHeaders(g.headers)
          return (
            r.timestamp === b.baseTimestamp + g.timestampDelta &&
            hex(r.key) === hex(g.key) &&
            hex(r.value) === hex(g.value) &&
            JSON.stringify(r.headers.map((h) => [h.key, hex(h.value)])) === JSON.stringify(headers.map((h) => [h.key, hex(h.value)]))
          )
        })
      )
    }),
    { numRuns: RUNS },
  )
  t.pass()
})

t.test('every decoder mode ran somewhere above', async (t) => {
  const missing = Object.entries(seen as Stats).filter(([, n]) => n === 0).map(([name]) => name)
  t.same(missing, [], `counters: ${JSON.stringify(seen)}`)
})
