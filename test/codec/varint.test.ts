// The varint primitives every record field goes through, checked at their boundaries and
// against kafkajs's encoder on random values.
import t from 'tap'
import fc from 'fast-check'
import { createRequire } from 'node:module'
import { instantiateCodec, Scratch } from '../../src/codec/wasm.js'

const require = createRequire(import.meta.url)
const KafkajsEncoder = require('kafkajs/src/protocol/encoder.js')
const Long = require('kafkajs/src/utils/long.js')

const wasm = await instantiateCodec()
const scratch = new Scratch(wasm)
const ptr = scratch.reserve(64)

function writeVarint(v: number): Uint8Array {
  const n = wasm.varintWrite(ptr, v)
  return scratch.u8.slice(ptr, ptr + n)
}
function writeVarlong(v: bigint): Uint8Array {
  const n = wasm.varlongWrite(ptr, v)
  return scratch.u8.slice(ptr, ptr + n)
}
function read(bytes: number[], long: boolean): { value: number | bigint; bytes: number; error: number } {
  scratch.u8.set(bytes, ptr)
  const value = long ? wasm.varlongRead(ptr, bytes.length) : wasm.varintRead(ptr, bytes.length)
  return { value, bytes: wasm.lastReadBytes(), error: wasm.lastReadError() }
}

t.test('zigzag varint boundaries', async (t) => {
  t.same([...writeVarint(0)], [0])
  t.same([...writeVarint(-1)], [1])
  t.same([...writeVarint(1)], [2])
  t.same([...writeVarint(63)], [0x7e])
  t.same([...writeVarint(-64)], [0x7f])
  t.same([...writeVarint(64)], [0x80, 0x01])
  t.same([...writeVarint(2147483647)], [0xfe, 0xff, 0xff, 0xff, 0x0f])
  t.same([...writeVarint(-2147483648)], [0xff, 0xff, 0xff, 0xff, 0x0f])
  t.same([...writeVarlong(-(2n ** 63n))], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])
})

t.test('varint and varlong match kafkajs and round-trip', async (t) => {
  fc.assert(
    fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (v) => {
      const ours = writeVarint(v)
      const theirs = new KafkajsEncoder().writeVarInt(v).buffer
      const back = read([...ours], false)
      return Buffer.from(ours).equals(theirs) && back.value === v && back.bytes === ours.length && back.error === 0
    }),
    { numRuns: 2000 },
  )
  fc.assert(
    fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (v) => {
      const ours = writeVarlong(v)
      const theirs = new KafkajsEncoder().writeVarLong(Long.fromString(v.toString())).buffer
      const back = read([...ours], true)
      return Buffer.from(ours).equals(theirs) && back.value === v && back.bytes === ours.length
    }),
    { numRuns: 2000 },
  )
})

t.test('overlong and truncated varints are errors, never traps', async (t) => {
  const OVERFLOW = -11
  const TRUNCATED = -8
  t.equal(read([0x80, 0x80, 0x80, 0x80, 0x80, 0x01], false).error, OVERFLOW, '6-byte varint')
  t.equal(read([0xff, 0xff, 0xff, 0xff, 0x1f], false).error, OVERFLOW, '5th byte with more than 4 bits')
  t.equal(read([0x80, 0x80], false).error, TRUNCATED, 'continuation past the end')
  t.equal(read([], false).error, TRUNCATED, 'empty input')
  t.equal(read(new Array(10).fill(0xff).concat([0x01]), true).error, OVERFLOW, '11-byte varlong')
  t.equal(read(new Array(9).fill(0xff).concat([0x02]), true).error, OVERFLOW, '10th byte with more than 1 bit')
  t.equal(read([0x05], false).error, 0, 'a fine read clears the error')
})
