// LZ4 frames in WASM against independent implementations: the `lz4` npm package (kafkajs-lz4
// uses it), lz4-napi (lz4_flex) and Debian's `lz4` command-line tool with every frame option
// it can set; round trips over generated inputs of all sizes; xxHash32 against xxhashjs.
import t from 'tap'
import fc from 'fast-check'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadCodec } from '../../src/codec/index.js'
import { instantiateCodec, Scratch } from '../../src/codec/wasm.js'
import { anyInput, boundaryInputs, randomBytes, textBytes } from './samples.js'

const require = createRequire(import.meta.url)
const lz4js = require('lz4') as { encode(b: Buffer, o?: object): Buffer; decode(b: Buffer): Buffer }
const lz4napi = require('lz4-napi') as { compressFrameSync(b: Buffer): Buffer; decompressFrameSync(b: Buffer): Buffer }
const xxhashjs = require('xxhashjs') as { h32(b: Buffer, seed: number): { toNumber(): number } }

const codec = await loadCodec()
const RUNS = Number(process.env.CODEC_PROPERTY_RUNS ?? 200)
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b))

t.test('xxHash32 matches xxhashjs', async (t) => {
  const wasm = await instantiateCodec()
  const scratch = new Scratch(wasm)
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(), (data, seed) => {
      const ptr = scratch.reserve(data.length)
      scratch.u8.set(data, ptr)
      return wasm.xxh32(ptr, data.length, seed) >>> 0 === xxhashjs.h32(Buffer.from(data), seed).toNumber()
    }),
    { numRuns: RUNS * 5 },
  )
  t.pass()
})

t.test('round trips, and the lz4 package and lz4-napi read our frames', async (t) => {
  fc.assert(
    fc.property(anyInput, (data) => {
      const frame = codec.compress('lz4', data)
      return (
        same(codec.decompress('lz4', frame), data) &&
        same(lz4js.decode(Buffer.from(frame)), data) &&
        same(lz4napi.decompressFrameSync(Buffer.from(frame)), data)
      )
    }),
    { numRuns: RUNS },
  )
  for (const [name, data] of boundaryInputs()) {
    const frame = codec.compress('lz4', data)
    t.ok(same(codec.decompress('lz4', frame), data), `${name}: round trip`)
    t.ok(same(lz4napi.decompressFrameSync(Buffer.from(frame)), data), `${name}: lz4-napi decodes it`)
    // The lz4 package decodes in JavaScript: slow on the multi-MiB inputs, which lz4-napi covers.
    if (data.length < 1024 * 1024) t.ok(same(lz4js.decode(Buffer.from(frame)), data), `${name}: lz4 package decodes it`)
  }
})

t.test('we write frames as Kafka does: independent 64 KiB blocks, no checksums', async (t) => {
  const frame = codec.compress('lz4', textBytes(200_000))
  t.same([...frame.subarray(0, 7)], [0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82], 'magic, FLG 0x60, BD 0x40, header checksum')
  const stored = codec.compress('lz4', randomBytes(1000))
  t.equal(new DataView(stored.buffer).getUint32(7, true), (0x80000000 | 1000) >>> 0, 'incompressible data goes in an uncompressed block')
  t.same([...codec.compress('lz4', new Uint8Array(0))], [0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82, 0, 0, 0, 0], 'empty input: header and end mark')
})

t.test('we read frames written by the lz4 package with its options, and by lz4-napi', async (t) => {
  const inputs = [new Uint8Array(0), textBytes(300_000), randomBytes(70_000), textBytes(2_500_000, 3)]
  // Not blockChecksum: the package's JavaScript build writes it with writeInt32LE and fails on
  // half of all checksums (a truncated frame). Block checksums are covered by the lz4 tool.
  const options = [{}, { streamChecksum: false }, { blockMaxSize: 64 * 1024 }, { blockMaxSize: 256 * 1024 }, { highCompression: true }]
  for (const data of inputs) {
    // The package compresses in JavaScript: the largest input gets the default options only.
    for (const o of data.length > 1024 * 1024 ? [{}] : options) {
      const frame = lz4js.encode(Buffer.from(data), o)
      t.ok(same(codec.decompress('lz4', frame), data), `lz4 package ${JSON.stringify(o)}, ${data.length} bytes`)
    }
    t.ok(same(codec.decompress('lz4', lz4napi.compressFrameSync(Buffer.from(data))), data), `lz4-napi frame, ${data.length} bytes`)
  }
})

t.test("Debian's lz4 tool reads our frames and we read its frames, with every frame option", async (t) => {
  const setup = spawnSync('bash', ['scripts/setup-system.sh', 'lz4'], { encoding: 'utf8' })
  if (setup.status !== 0 || spawnSync('lz4', ['--version']).status !== 0) {
    t.fail(`the lz4 command-line tool is missing and could not be installed (bash scripts/setup-system.sh lz4): ${setup.stderr}`)
    return
  }
  const dir = mkdtempSync(join(tmpdir(), 'bitacora-lz4-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const lz4 = (args: string[]) => {
    const r = spawnSync('lz4', ['-q', '-f', ...args], { encoding: 'buffer' })
    if (r.status !== 0) throw new Error(`lz4 ${args.join(' ')} failed: ${r.stderr}`)
  }
  const inputs: Array<[string, Uint8Array]> = [
    ['empty', new Uint8Array(0)],
    ['text', textBytes(600_000, 9)],
    ['random', randomBytes(150_000, 5)],
    ['mixed', Buffer.concat([textBytes(100_000, 2), randomBytes(100_000, 3), new Uint8Array(300_000)])],
  ]
  for (const [name, data] of inputs) {
    const plain = join(dir, `${name}.bin`)
    writeFileSync(plain, data)
    // Ours -> the tool.
    writeFileSync(`${plain}.ours.lz4`, codec.compress('lz4', data))
    lz4(['-d', `${plain}.ours.lz4`, `${plain}.out`])
    t.ok(same(readFileSync(`${plain}.out`), data), `${name}: lz4 -d reads our frame`)
    // The tool -> ours, one option set at a time and combined.
    const optionSets = [
      [], ['-B4'], ['-B5'], ['-B6'], ['-B7'], ['-BD'], ['-BX'], ['--no-frame-crc'], ['--content-size'],
      ['-9'], ['-12'], ['--favor-decSpeed'], ['-BD', '-BX', '--content-size', '-B4'],
      ['-B7', '-BD', '-BX', '--no-frame-crc', '--content-size'],
    ]
    for (const opts of optionSets) {
      const packed = `${plain}.${opts.join('') || 'default'}.lz4`
      lz4([...opts, plain, packed])
      t.ok(same(codec.decompress('lz4', readFileSync(packed)), data), `${name}: we read lz4 ${opts.join(' ') || '(defaults)'}`)
    }
  }
  // Two concatenated frames (as `cat a.lz4 b.lz4` makes) decode to both contents.
  const [a, b] = [textBytes(1000, 4), textBytes(2000, 5)]
  writeFileSync(join(dir, 'a'), a)
  writeFileSync(join(dir, 'b'), b)
  lz4([join(dir, 'a'), join(dir, 'a.lz4')])
  lz4(['-BD', join(dir, 'b'), join(dir, 'b.lz4')])
  const both = Buffer.concat([readFileSync(join(dir, 'a.lz4')), readFileSync(join(dir, 'b.lz4'))])
  t.ok(same(codec.decompress('lz4', both), Buffer.concat([a, b])), 'concatenated frames')
  const skippable = Buffer.concat([Buffer.from([0x5a, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3]), readFileSync(join(dir, 'a.lz4'))])
  t.ok(same(codec.decompress('lz4', skippable), a), 'a skippable frame before the data frame')
})
