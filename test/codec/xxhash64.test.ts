// xxHash64 (the zstd content checksum) in WASM against xxhashjs, an independent implementation.
import t from 'tap'
import fc from 'fast-check'
import { createRequire } from 'node:module'
import { instantiateCodec, Scratch } from '../../src/codec/wasm.js'

const require = createRequire(import.meta.url)
const xxhashjs = require('xxhashjs') as { h64(b: Buffer, seed: number): { toString(radix: number): string } }
const RUNS = Number(process.env.CODEC_PROPERTY_RUNS ?? 200)

const wasm = await instantiateCodec()
const scratch = new Scratch(wasm)
const ours = (data: Uint8Array, seed: number): bigint => {
  const ptr = scratch.reserve(data.length)
  scratch.u8.set(data, ptr)
  return BigInt.asUintN(64, wasm.xxh64(ptr, data.length, BigInt(seed)))
}
const theirs = (data: Uint8Array, seed: number): bigint => BigInt('0x' + xxhashjs.h64(Buffer.from(data), seed).toString(16))

t.test('known vectors of the empty input and "abc" (seed 0)', async (t) => {
  t.equal(ours(new Uint8Array(0), 0), 0xef46db3751d8e999n)
  t.equal(ours(new TextEncoder().encode('abc'), 0), 0x44bc2cf5ad770999n)
})

t.test('matches xxhashjs on every length class (0..200 bytes, 32-byte stripes and tails)', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat({ max: 0xffff }), (data, seed) => ours(data, seed) === theirs(data, seed)),
    { numRuns: RUNS * 5 },
  )
  t.pass()
})
