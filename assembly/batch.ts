// Kafka RecordBatch v2 ("magic 2"): header checks, the records-section walker (validation
// and a zero-copy index for JS), and the records-section encoder.
//
// Batch header (big-endian):
//   0 baseOffset i64 | 8 batchLength i32 | 12 partitionLeaderEpoch i32 | 16 magic i8
//  17 crc u32 (CRC32C of attributes..end) | 21 attributes i16 | 23 lastOffsetDelta i32
//  27 baseTimestamp i64 | 35 maxTimestamp i64 | 43 producerId i64 | 51 producerEpoch i16
//  53 baseSequence i32 | 57 recordCount i32 | 61 records...
import * as E from './errors'
import { crc32cUpdate } from './crc32c'
import {
  readError, readPos, readVarint, readVarlong,
  varintSize, varlongSize, writeVarint, writeVarlong,
} from './varint'

export const BATCH_HEADER_BYTES: i32 = 61
const LOG_OVERHEAD: i32 = 12 // baseOffset + batchLength precede what batchLength counts
const CRC_START: usize = 21
// Smallest possible record: length, attributes, timestampDelta, offsetDelta, key, value,
// header count — one byte each.
export const RECORD_BYTES_MIN: i32 = 7
const COMPRESSION_CODEC_MAX: i32 = 4 // none, gzip, snappy, lz4, zstd

// Per-record index entry written for JS (little-endian), 40 bytes:
//   0 offsetDelta i32 | 4 attributes i32 | 8 timestampDelta f64 | 16 keyOffset i32
//  20 keyLength i32 (-1 null) | 24 valueOffset i32 | 28 valueLength i32 (-1 null)
//  32 firstHeader i32 | 36 headerCount i32
export const RECORD_INDEX_BYTES: i32 = 40
// Per-header index entry, 16 bytes: keyOffset, keyLength, valueOffset, valueLength (-1 null).
export const HEADER_INDEX_BYTES: i32 = 16

// @ts-ignore: decorator
@inline function be32(p: usize): i32 {
  return <i32>bswap<u32>(load<u32>(p))
}

/**
 * Checks a batch's framing: length, magic, CRC, compression codec and record count.
 * Returns the batch's total size in bytes (<= len), or a negative error code.
 * The records section is not walked here (it may be compressed); see walkRecords.
 */
export function checkBatch(ptr: usize, len: i32, contiguous: i32): i32 {
  if (len < BATCH_HEADER_BYTES) return E.ERR_BATCH_TRUNCATED
  const batchLength = be32(ptr + 8)
  if (batchLength < BATCH_HEADER_BYTES - LOG_OVERHEAD) return E.ERR_BATCH_BAD_LENGTH
  if (batchLength > len - LOG_OVERHEAD) return E.ERR_BATCH_TRUNCATED
  const total = batchLength + LOG_OVERHEAD
  if (load<u8>(ptr + 16) != 2) return E.ERR_BATCH_BAD_MAGIC
  const crc = <u32>be32(ptr + 17)
  if (crc32cUpdate(0, ptr + CRC_START, <usize>(total - <i32>CRC_START)) != crc) return E.ERR_BATCH_BAD_CRC
  const attributes = <i32>bswap<u16>(load<u16>(ptr + 21))
  if ((attributes & 7) > COMPRESSION_CODEC_MAX) return E.ERR_UNSUPPORTED_COMPRESSION
  const lastOffsetDelta = be32(ptr + 23)
  const count = be32(ptr + 57)
  if (count < 0 || lastOffsetDelta < 0) return E.ERR_RECORD_COUNT_INVALID
  if (contiguous) {
    if (count != lastOffsetDelta + 1) return E.ERR_RECORD_COUNT_MISMATCH
  } else if (count > lastOffsetDelta + 1) {
    return E.ERR_RECORD_COUNT_MISMATCH
  }
  // An uncompressed section must be able to hold `count` records; this also bounds the
  // index JS allocates for them.
  if ((attributes & 7) == 0 && count > (total - BATCH_HEADER_BYTES) / RECORD_BYTES_MIN) {
    return E.ERR_RECORD_COUNT_INVALID
  }
  return total
}

/**
 * Walks `count` records in [ptr, ptr+len). Validates every varint and length against the
 * record and section bounds; offset deltas must run 0..count-1 when `contiguous`, otherwise
 * strictly increase up to `lastOffsetDelta` (compacted batches keep their offsets).
 * When indexPtr != 0 it writes a record index there and a header index at headerPtr
 * (offsets relative to `base`). Returns the number of headers, or a negative error code.
 */
export function walkRecords(
  ptr: usize, len: i32, count: i32, contiguous: i32, lastOffsetDelta: i32,
  indexPtr: usize, headerPtr: usize, headerCap: i32, base: usize,
): i32 {
  const end = ptr + <usize>len
  let pos = ptr
  let headersTotal: i32 = 0
  let previousDelta: i32 = -1
  for (let i: i32 = 0; i < count; i++) {
    const recordLength = readVarint(pos, end)
    if (readError) return takeError()
    pos = readPos
    if (recordLength < RECORD_BYTES_MIN - 1) return E.ERR_RECORD_BAD_LENGTH
    if (<usize>recordLength > end - pos) return E.ERR_RECORD_TRUNCATED
    const recordEnd = pos + <usize>recordLength
    const attributes = <i32>load<u8>(pos++)
    const timestampDelta = readVarlong(pos, recordEnd)
    if (readError) return takeError()
    pos = readPos
    const offsetDelta = readVarint(pos, recordEnd)
    if (readError) return takeError()
    pos = readPos
    if (contiguous ? offsetDelta != i : offsetDelta <= previousDelta || offsetDelta > lastOffsetDelta) {
      return E.ERR_RECORD_BAD_OFFSET_DELTA
    }
    previousDelta = offsetDelta
    const keyLength = readVarint(pos, recordEnd)
    if (readError) return takeError()
    pos = readPos
    const keyOffset = pos
    if (keyLength < -1 || (keyLength > 0 && <usize>keyLength > recordEnd - pos)) return E.ERR_RECORD_BAD_LENGTH
    if (keyLength > 0) pos += <usize>keyLength
    const valueLength = readVarint(pos, recordEnd)
    if (readError) return takeError()
    pos = readPos
    const valueOffset = pos
    if (valueLength < -1 || (valueLength > 0 && <usize>valueLength > recordEnd - pos)) return E.ERR_RECORD_BAD_LENGTH
    if (valueLength > 0) pos += <usize>valueLength
    const headerCount = readVarint(pos, recordEnd)
    if (readError) return takeError()
    pos = readPos
    // Each header needs at least two bytes (two length varints).
    if (headerCount < 0 || <usize>headerCount > (recordEnd - pos) >> 1) return E.ERR_HEADER_COUNT_INVALID
    if (indexPtr != 0 && headersTotal + headerCount > headerCap) return E.ERR_OUTPUT_CAPACITY
    for (let h: i32 = 0; h < headerCount; h++) {
      const hKeyLength = readVarint(pos, recordEnd)
      if (readError) return takeError()
      pos = readPos
      if (hKeyLength < 0) return hKeyLength == -1 ? E.ERR_HEADER_KEY_NULL : E.ERR_RECORD_BAD_LENGTH
      if (<usize>hKeyLength > recordEnd - pos) return E.ERR_RECORD_BAD_LENGTH
      const hKeyOffset = pos
      pos += <usize>hKeyLength
      const hValueLength = readVarint(pos, recordEnd)
      if (readError) return takeError()
      pos = readPos
      if (hValueLength < -1 || (hValueLength > 0 && <usize>hValueLength > recordEnd - pos)) return E.ERR_RECORD_BAD_LENGTH
      const hValueOffset = pos
      if (hValueLength > 0) pos += <usize>hValueLength
      if (indexPtr != 0) {
        const h16 = headerPtr + (<usize>(headersTotal + h) << 4)
        store<i32>(h16, <i32>(hKeyOffset - base))
        store<i32>(h16, hKeyLength, 4)
        store<i32>(h16, <i32>(hValueOffset - base), 8)
        store<i32>(h16, hValueLength, 12)
      }
    }
    if (pos != recordEnd) return E.ERR_RECORD_BAD_LENGTH
    if (indexPtr != 0) {
      const r = indexPtr + <usize>i * <usize>RECORD_INDEX_BYTES
      store<i32>(r, offsetDelta)
      store<i32>(r, attributes, 4)
      store<f64>(r, <f64>timestampDelta, 8)
      store<i32>(r, <i32>(keyOffset - base), 16)
      store<i32>(r, keyLength, 20)
      store<i32>(r, <i32>(valueOffset - base), 24)
      store<i32>(r, valueLength, 28)
      store<i32>(r, headersTotal, 32)
      store<i32>(r, headerCount, 36)
    }
    headersTotal += headerCount
  }
  if (pos != end) return E.ERR_RECORDS_TRAILING_BYTES
  return headersTotal
}

function takeError(): i32 {
  const e = readError
  readError = 0
  return e
}

// Staged record input written by JS (little-endian), one after another:
//   timestampDelta f64 | keyLength i32 (-1 null) | key | valueLength i32 (-1 null) | value
//   | headerCount i32 | per header: keyLength i32 | key (UTF-8) | valueLength i32 | value
// Lengths are trusted to be consistent with inLen only after the checks below.

/**
 * Encodes `count` staged records as a Kafka records section at outPtr, with offset deltas
 * 0..count-1. Returns the bytes written, or a negative error code.
 */
export function encodeRecords(inPtr: usize, inLen: i32, count: i32, outPtr: usize, outCap: i32): i32 {
  const inEnd = inPtr + <usize>inLen
  const outEnd = outPtr + <usize>outCap
  let src = inPtr
  let dst = outPtr
  for (let i: i32 = 0; i < count; i++) {
    // First pass over the staged record: its encoded body size.
    const recordStart = src
    if (inEnd - src < 12) return E.ERR_STAGED_INPUT_INVALID
    const timestampDelta = <i64>load<f64>(src)
    src += 8
    let body: usize = 1 + varlongSize(timestampDelta) + varintSize(i)
    for (let part = 0; part < 2; part++) {
      if (inEnd - src < 4) return E.ERR_STAGED_INPUT_INVALID
      const n = load<i32>(src)
      src += 4
      if (n < -1 || (n > 0 && <usize>n > inEnd - src)) return E.ERR_STAGED_INPUT_INVALID
      body += varintSize(n) + (n > 0 ? <usize>n : 0)
      if (n > 0) src += <usize>n
    }
    if (inEnd - src < 4) return E.ERR_STAGED_INPUT_INVALID
    const headerCount = load<i32>(src)
    src += 4
    if (headerCount < 0) return E.ERR_STAGED_INPUT_INVALID
    body += varintSize(headerCount)
    for (let h: i32 = 0; h < headerCount * 2; h++) {
      if (inEnd - src < 4) return E.ERR_STAGED_INPUT_INVALID
      const n = load<i32>(src)
      src += 4
      if (n < -1 || (h & 1) == 0 && n < 0 || (n > 0 && <usize>n > inEnd - src)) return E.ERR_STAGED_INPUT_INVALID
      body += varintSize(n) + (n > 0 ? <usize>n : 0)
      if (n > 0) src += <usize>n
    }
    // Second pass: write it.
    if (<usize>varintSize(<i32>body) + body > outEnd - dst) return E.ERR_OUTPUT_CAPACITY
    dst = writeVarint(dst, <i32>body)
    store<u8>(dst++, 0) // record attributes: unused in magic 2
    dst = writeVarlong(dst, timestampDelta)
    dst = writeVarint(dst, i)
    src = recordStart + 8
    src = copyStagedField(src, dst) // key
    src = copyStagedField(src, copiedTo) // value
    dst = writeVarint(copiedTo, headerCount)
    src += 4 // the staged header count, already read
    for (let f: i32 = 0; f < headerCount * 2; f++) {
      src = copyStagedField(src, dst)
      dst = copiedTo
    }
  }
  if (src != inEnd) return E.ERR_STAGED_INPUT_INVALID
  return <i32>(dst - outPtr)
}


let copiedTo: usize = 0

// Copies one staged length-prefixed field to `dst` as a varint length and its bytes.
// Returns the staged position after it; `copiedTo` is the output position after it.
function copyStagedField(src: usize, dst: usize): usize {
  const n = load<i32>(src)
  src += 4
  dst = writeVarint(dst, n)
  if (n > 0) {
    memory.copy(dst, src, <usize>n)
    dst += <usize>n
    src += <usize>n
  }
  copiedTo = dst
  return src
}
