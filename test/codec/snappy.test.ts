// Snappy in WASM against independent implementations: the `snappy` addon (raw Snappy, the
// Rust snap crate) reads our chunks once unframed; kafkajs-snappy (snappyjs) reads our xerial
// stream; we read both of theirs (raw). Round trips over generated inputs of all sizes.
import t from 'tap'
import fc from 'fast-check'
import { createRequire } from 'node:module'
import { loadCodec } from '../../src/codec/index.js'
import { anyInput, boundaryInputs, textBytes } from './samples.js'

const require = createRequire(import.meta.url)
const snappy = require('snappy') as { compressSync(b: Buffer): Buffer; uncompressSync(b: Buffer): Buffer }
const kafkajsSnappy = require('kafkajs-snappy')() as {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>
  decompress(b: Buffer): Promise<Buffer>
}

const codec = await loadCodec()
const RUNS = Number(process.env.CODEC_PROPERTY_RUNS ?? 200)
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b))
const XERIAL_MAGIC = [0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]

/** Splits a xerial stream into its raw Snappy chunks (checking the header as we go). */
function unframe(stream: Uint8Array): Buffer[] {
  const v = new DataView(stream.buffer, stream.byteOffset, stream.byteLength)
  if (!same(stream.subarray(0, 8), new Uint8Array(XERIAL_MAGIC)) || v.getInt32(8) !== 1 || v.getInt32(12) !== 1) {
    throw new Error('not a xerial header')
  }
  const chunks: Buffer[] = []
  for (let at = 16; at < stream.length; ) {
    const n = v.getInt32(at)
    chunks.push(Buffer.from(stream.subarray(at + 4, at + 4 + n)))
    at += 4 + n
  }
  return chunks
}

const nativeReads = (stream: Uint8Array) => Buffer.concat(unframe(stream).map((c) => snappy.uncompressSync(c)))

t.test('round trips; the snappy addon reads our chunks and kafkajs-snappy our xerial stream', async (t) => {
  await fc.assert(
    fc.asyncProperty(anyInput, async (data) => {
      const stream = codec.compress('snappy', data)
      return (
        same(codec.decompress('snappy', stream), data) &&
        same(nativeReads(stream), data) &&
        same(await kafkajsSnappy.decompress(Buffer.from(stream)), data)
      )
    }),
    { numRuns: RUNS },
  )
  for (const [name, data] of boundaryInputs()) {
    const stream = codec.compress('snappy', data)
    t.ok(same(codec.decompress('snappy', stream), data), `${name}: round trip`)
    t.ok(same(nativeReads(stream), data), `${name}: the snappy addon reads every chunk`)
  }
})

t.test('we write xerial framing as Kafka does: 32 KiB chunks', async (t) => {
  const stream = codec.compress('snappy', textBytes(100_000))
  t.same([...stream.subarray(0, 16)], [...XERIAL_MAGIC, 0, 0, 0, 1, 0, 0, 0, 1], 'magic, version 1, compatible version 1')
  const chunks = unframe(stream)
  t.equal(chunks.length, 4, '100,000 bytes make four chunks')
  t.same(chunks.map((c) => snappy.uncompressSync(c).length), [32768, 32768, 32768, 1696])
  t.same([...codec.compress('snappy', new Uint8Array(0))], [...XERIAL_MAGIC, 0, 0, 0, 1, 0, 0, 0, 1], 'empty input: the header alone')
})

t.test('we read raw Snappy from the snappy addon and from kafkajs-snappy', async (t) => {
  await fc.assert(
    fc.asyncProperty(anyInput, async (data) => {
      const theirs = await kafkajsSnappy.compress({ buffer: Buffer.from(data) })
      return same(codec.decompress('snappy', snappy.compressSync(Buffer.from(data))), data) && same(codec.decompress('snappy', theirs), data)
    }),
    { numRuns: RUNS },
  )
  for (const [name, data] of boundaryInputs()) {
    t.ok(same(codec.decompress('snappy', snappy.compressSync(Buffer.from(data))), data), `${name}: raw from the addon`)
  }
})
