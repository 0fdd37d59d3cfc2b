// Kafka RecordBatch v2 ("magic 2"): header checks, the records-section walker (validation
// and a zero-copy index for JS), and the records-section encoder. The header layout and the
// index layout are in ./layout (checked against src/codec/layout.ts at load).
import * as E from './errors'
import { crc32cUpdate } from './crc32c'
import {
  ATTR_COMPRESSION_MASK, BATCH_HEADER_BYTES, BATCH_MAGIC, COMPRESSION_CODEC_MAX, CRC_START,
  HEADER_ATTRIBUTES_AT, HEADER_BATCH_LENGTH_AT, HEADER_BYTES_MIN, HEADER_CRC_AT,
  HEADER_INDEX_INTS, HEADER_INDEX_KEY_LENGTH_SLOT, HEADER_INDEX_KEY_OFFSET_SLOT,
  HEADER_INDEX_VALUE_LENGTH_SLOT, HEADER_INDEX_VALUE_OFFSET_SLOT,
  HEADER_LAST_OFFSET_DELTA_AT, HEADER_MAGIC_AT, HEADER_RECORD_COUNT_AT, LOG_OVERHEAD_BYTES,
  RECORD_BYTES_MIN, RECORD_INDEX_ATTRIBUTES_SLOT, RECORD_INDEX_FIRST_HEADER_SLOT,
  RECORD_INDEX_HEADER_COUNT_SLOT, RECORD_INDEX_INTS, RECORD_INDEX_KEY_LENGTH_SLOT,
  RECORD_INDEX_KEY_OFFSET_SLOT, RECORD_INDEX_OFFSET_DELTA_SLOT, RECORD_INDEX_TIMESTAMP_DELTA_SLOT,
  RECORD_INDEX_VALUE_LENGTH_SLOT, RECORD_INDEX_VALUE_OFFSET_SLOT, STAGED_LENGTH_BYTES,
  STAGED_TIMESTAMP_DELTA_BYTES,
} from './layout'
import {
  readError, readPos, readVarint, readVarlong,
  varintSize, varlongSize, writeVarint, writeVarlong,
} from './varint'

const RECORD_INDEX_BYTES: usize = <usize>RECORD_INDEX_INTS << 2
const HEADER_INDEX_BYTES: usize = <usize>HEADER_INDEX_INTS << 2

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
  const batchLength = be32(ptr + <usize>HEADER_BATCH_LENGTH_AT)
  if (batchLength < BATCH_HEADER_BYTES - LOG_OVERHEAD_BYTES) return E.ERR_BATCH_BAD_LENGTH
  if (batchLength > len - LOG_OVERHEAD_BYTES) return E.ERR_BATCH_TRUNCATED
  const total = batchLength + LOG_OVERHEAD_BYTES
  if (<i32>load<u8>(ptr + <usize>HEADER_MAGIC_AT) != BATCH_MAGIC) return E.ERR_BATCH_BAD_MAGIC
  const crc = <u32>be32(ptr + <usize>HEADER_CRC_AT)
  if (crc32cUpdate(0, ptr + <usize>CRC_START, <usize>(total - CRC_START)) != crc) return E.ERR_BATCH_BAD_CRC
  const attributes = <i32>bswap<u16>(load<u16>(ptr + <usize>HEADER_ATTRIBUTES_AT))
  if ((attributes & ATTR_COMPRESSION_MASK) > COMPRESSION_CODEC_MAX) return E.ERR_UNSUPPORTED_COMPRESSION
  const lastOffsetDelta = be32(ptr + <usize>HEADER_LAST_OFFSET_DELTA_AT)
  const count = be32(ptr + <usize>HEADER_RECORD_COUNT_AT)
  if (count < 0 || lastOffsetDelta < 0) return E.ERR_RECORD_COUNT_INVALID
  if (contiguous) {
    if (count != lastOffsetDelta + 1) return E.ERR_RECORD_COUNT_MISMATCH
  } else if (count > lastOffsetDelta + 1) {
    return E.ERR_RECORD_COUNT_MISMATCH
  }
  // An uncompressed section must be able to hold `count` records; this also bounds the
  // index JS allocates for them.
  if ((attributes & ATTR_COMPRESSION_MASK) == 0 && count > (total - BATCH_HEADER_BYTES) / RECORD_BYTES_MIN) {
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
    if (headerCount < 0 || <usize>headerCount > (recordEnd - pos) / <usize>HEADER_BYTES_MIN) return E.ERR_HEADER_COUNT_INVALID
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
        const e = headerPtr + <usize>(headersTotal + h) * HEADER_INDEX_BYTES
        store<i32>(e, <i32>(hKeyOffset - base), HEADER_INDEX_KEY_OFFSET_SLOT << 2)
        store<i32>(e, hKeyLength, HEADER_INDEX_KEY_LENGTH_SLOT << 2)
        store<i32>(e, <i32>(hValueOffset - base), HEADER_INDEX_VALUE_OFFSET_SLOT << 2)
        store<i32>(e, hValueLength, HEADER_INDEX_VALUE_LENGTH_SLOT << 2)
      }
    }
    if (pos != recordEnd) return E.ERR_RECORD_BAD_LENGTH
    if (indexPtr != 0) {
      const r = indexPtr + <usize>i * RECORD_INDEX_BYTES
      store<i32>(r, offsetDelta, RECORD_INDEX_OFFSET_DELTA_SLOT << 2)
      store<i32>(r, attributes, RECORD_INDEX_ATTRIBUTES_SLOT << 2)
      store<f64>(r, <f64>timestampDelta, RECORD_INDEX_TIMESTAMP_DELTA_SLOT << 2)
      store<i32>(r, <i32>(keyOffset - base), RECORD_INDEX_KEY_OFFSET_SLOT << 2)
      store<i32>(r, keyLength, RECORD_INDEX_KEY_LENGTH_SLOT << 2)
      store<i32>(r, <i32>(valueOffset - base), RECORD_INDEX_VALUE_OFFSET_SLOT << 2)
      store<i32>(r, valueLength, RECORD_INDEX_VALUE_LENGTH_SLOT << 2)
      store<i32>(r, headersTotal, RECORD_INDEX_FIRST_HEADER_SLOT << 2)
      store<i32>(r, headerCount, RECORD_INDEX_HEADER_COUNT_SLOT << 2)
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

// Staged record input written by JS (src/codec/builder.ts, little-endian), one after another:
//   timestampDelta f64 | keyLength i32 (-1 null) | key | valueLength i32 (-1 null) | value
//   | headerCount i32 | per header: keyLength i32 | key (UTF-8) | valueLength i32 | value
// (sizes: STAGED_TIMESTAMP_DELTA_BYTES, STAGED_LENGTH_BYTES). Lengths are trusted to be
// consistent with inLen only after the checks below.

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
    if (inEnd - src < <usize>(STAGED_TIMESTAMP_DELTA_BYTES + STAGED_LENGTH_BYTES)) return E.ERR_STAGED_INPUT_INVALID
    const timestampDelta = <i64>load<f64>(src)
    src += <usize>STAGED_TIMESTAMP_DELTA_BYTES
    let body: usize = 1 + varlongSize(timestampDelta) + varintSize(i)
    for (let part = 0; part < 2; part++) {
      if (inEnd - src < <usize>STAGED_LENGTH_BYTES) return E.ERR_STAGED_INPUT_INVALID
      const n = load<i32>(src)
      src += <usize>STAGED_LENGTH_BYTES
      if (n < -1 || (n > 0 && <usize>n > inEnd - src)) return E.ERR_STAGED_INPUT_INVALID
      body += varintSize(n) + (n > 0 ? <usize>n : 0)
      if (n > 0) src += <usize>n
    }
    if (inEnd - src < <usize>STAGED_LENGTH_BYTES) return E.ERR_STAGED_INPUT_INVALID
    const headerCount = load<i32>(src)
    src += <usize>STAGED_LENGTH_BYTES
    if (headerCount < 0) return E.ERR_STAGED_INPUT_INVALID
    body += varintSize(headerCount)
    for (let h: i32 = 0; h < headerCount * 2; h++) {
      if (inEnd - src < <usize>STAGED_LENGTH_BYTES) return E.ERR_STAGED_INPUT_INVALID
      const n = load<i32>(src)
      src += <usize>STAGED_LENGTH_BYTES
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
    src = recordStart + <usize>STAGED_TIMESTAMP_DELTA_BYTES
    src = copyStagedField(src, dst) // key
    src = copyStagedField(src, copiedTo) // value
    dst = writeVarint(copiedTo, headerCount)
    src += <usize>STAGED_LENGTH_BYTES // the staged header count, already read
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
  src += <usize>STAGED_LENGTH_BYTES
  dst = writeVarint(dst, n)
  if (n > 0) {
    memory.copy(dst, src, <usize>n)
    dst += <usize>n
    src += <usize>n
  }
  copiedTo = dst
  return src
}
