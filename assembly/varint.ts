// Zigzag varints (int32, at most 5 bytes) and varlongs (int64, at most 10 bytes), the
// encodings of Kafka record fields. Readers are bounded by `end` and report failure through
// `readError` (0 when fine); on success `readPos` is the position after the value.
import { ERR_RECORD_TRUNCATED, ERR_VARINT_OVERFLOW } from './errors'

export let readPos: usize = 0
export let readError: i32 = 0

export function readVarint(pos: usize, end: usize): i32 {
  let raw: u32 = 0
  for (let shift: u32 = 0; ; shift += 7) {
    if (pos >= end) {
      readError = ERR_RECORD_TRUNCATED
      return 0
    }
    const b = <u32>load<u8>(pos++)
    // The 5th byte carries bits 28..31 only and must end the value.
    if (shift == 28 && (b & 0xf0) != 0) {
      readError = ERR_VARINT_OVERFLOW
      return 0
    }
    raw |= (b & 0x7f) << shift
    if ((b & 0x80) == 0) break
  }
  readPos = pos
  return <i32>((raw >>> 1) ^ (0 - (raw & 1)))
}

export function readVarlong(pos: usize, end: usize): i64 {
  let raw: u64 = 0
  for (let shift: u64 = 0; ; shift += 7) {
    if (pos >= end) {
      readError = ERR_RECORD_TRUNCATED
      return 0
    }
    const b = <u64>load<u8>(pos++)
    // The 10th byte carries bit 63 only and must end the value.
    if (shift == 63 && (b & 0xfe) != 0) {
      readError = ERR_VARINT_OVERFLOW
      return 0
    }
    raw |= (b & 0x7f) << shift
    if ((b & 0x80) == 0) break
  }
  readPos = pos
  return <i64>((raw >>> 1) ^ (0 - (raw & 1)))
}

export function varintSize(v: i32): usize {
  let z = <u32>((v << 1) ^ (v >> 31))
  let n: usize = 1
  while (z >= 0x80) {
    z >>>= 7
    n++
  }
  return n
}

export function varlongSize(v: i64): usize {
  let z = <u64>((v << 1) ^ (v >> 63))
  let n: usize = 1
  while (z >= 0x80) {
    z >>>= 7
    n++
  }
  return n
}

/** Writes `v` at `pos`; returns the position after it. */
export function writeVarint(pos: usize, v: i32): usize {
  let z = <u32>((v << 1) ^ (v >> 31))
  while (z >= 0x80) {
    store<u8>(pos++, <u8>((z & 0x7f) | 0x80))
    z >>>= 7
  }
  store<u8>(pos++, <u8>z)
  return pos
}

export function writeVarlong(pos: usize, v: i64): usize {
  let z = <u64>((v << 1) ^ (v >> 63))
  while (z >= 0x80) {
    store<u8>(pos++, <u8>((z & 0x7f) | 0x80))
    z >>>= 7
  }
  store<u8>(pos++, <u8>z)
  return pos
}
