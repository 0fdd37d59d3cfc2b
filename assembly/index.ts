// The Bitácora codec module: CRC32C, varints, Kafka RecordBatch v2 framing, LZ4, Snappy and zstd.
// Exports take (pointer, length) pairs over regions of this module's memory that the JS
// wrapper (src/codec/) writes into; nothing here allocates.
export { crc32cUpdate } from './crc32c'
export { checkBatch, walkRecords, encodeRecords } from './batch'
// The layouts and return codes shared with JS, as immutable globals the loader checks
// (src/codec/layout-check.ts).
export * from './layout'
export * from './errors'
import { readVarint, readVarlong, readPos, readError, writeVarint, writeVarlong } from './varint'

// Where JS-managed scratch memory begins (after static data such as the CRC tables).
export function scratchBase(): usize {
  return (__heap_base + 15) & ~15
}

/** Grows memory so that [0, end) is addressable. Returns 0, or -1 if memory cannot grow. */
export function ensureMemory(end: usize): i32 {
  const have = <usize>memory.size() << 16
  if (end <= have) return 0
  const pages = <i32>((end - have + 0xffff) >> 16)
  return memory.grow(pages) < 0 ? -1 : 0
}

// Varint access for tests and tools (the hot paths use them inside the module).
export function varintWrite(ptr: usize, v: i32): i32 {
  return <i32>(writeVarint(ptr, v) - ptr)
}
export function varlongWrite(ptr: usize, v: i64): i32 {
  return <i32>(writeVarlong(ptr, v) - ptr)
}
/** Reads a varint; lastReadBytes() / lastReadError() describe the read. */
export function varintRead(ptr: usize, len: i32): i32 {
  const v = readVarint(ptr, ptr + <usize>len)
  noteRead(ptr)
  return v
}
export function varlongRead(ptr: usize, len: i32): i64 {
  const v = readVarlong(ptr, ptr + <usize>len)
  noteRead(ptr)
  return v
}
let lastBytes: i32 = 0
let lastError: i32 = 0
function noteRead(ptr: usize): void {
  lastError = readError
  lastBytes = readError ? 0 : <i32>(readPos - ptr)
  readError = 0
}
export function lastReadBytes(): i32 {
  return lastBytes
}
export function lastReadError(): i32 {
  return lastError
}

// Compression of records sections. Compressors need output room of their *Bound(n); the
// decoders bound every read and write and take the most they may write.
export { xxh32 } from './xxhash32'
export { xxh64 } from './xxhash64'
export { lz4BlockBound, lz4CompressBlock, lz4DecompressBlock } from './lz4-block'
export { lz4FrameBound, lz4FrameCompress, lz4DecodedBound, lz4FrameDecompress } from './lz4-frame'
export { snappyRawBound, snappyCompressRaw, snappyDecompressRaw } from './snappy'
export { snappyXerialBound, snappyXerialCompress, snappyDecodedLength, snappyDecompress } from './snappy-xerial'
export { zstdCompressBound, zstdCompress } from './zstd-frame-encode'
export { zstdDecodedBound, zstdDecompress } from './zstd-frame-decode'
import { stats as zstdStats, STAT_COUNT as ZSTD_STAT_COUNT } from './zstd-decode-stats'
/** The zstd decoder's counters (zstd-decode-stats.ts): their address; zero them with zstdDecodeStatsReset. */
export function zstdDecodeStats(): usize {
  return zstdStats
}
export function zstdDecodeStatsReset(): void {
  memory.fill(zstdStats, 0, <usize>ZSTD_STAT_COUNT * 4)
}
