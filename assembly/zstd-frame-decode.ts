// zstd frames (RFC 8878 §3.1): the frame header, the blocks (raw, RLE, compressed), the
// optional XXH64 content checksum; skippable frames and several frames back to back. The
// whole output is one flat buffer, so a match may reach back to the start of its frame and
// no window buffer is needed; the window size is still checked against WINDOW_SIZE_MAX, as
// the reference decoder does by default. Decoding is bounded in two steps like LZ4's:
// zstdDecodedBound walks the headers to bound the output, JS reserves that much, and
// zstdDecompress never writes past it.
import * as E from './errors'
import { xxh64 } from './xxhash64'
import {
  bump, STAT_BLOCKS_COMPRESSED, STAT_BLOCKS_RAW, STAT_BLOCKS_RLE, STAT_CHECKSUMS, STAT_FRAMES, STAT_SKIPPABLE_FRAMES,
} from './zstd-decode-stats'
import { huffmanReset } from './zstd-huffman-decode'
import { decodeLiterals } from './zstd-literals'
import { decodeSequences, sequencesReset } from './zstd-sequences'
import {
  BLOCK_HEADER_BYTES, BLOCK_SIZE_MAX, BLOCK_TYPE_COMPRESSED, BLOCK_TYPE_RAW, BLOCK_TYPE_RLE, SKIPPABLE_MAGIC_BASE,
  SKIPPABLE_MAGIC_MASK, WINDOW_LOG_MIN, ZSTD_MAGIC,
} from './zstd-spec'

/** The largest window accepted (2^27, the reference decoder's default limit; `zstd --long=27`). */
const WINDOW_SIZE_MAX: u64 = 1 << 27
const FHD_SINGLE_SEGMENT: u32 = 0x20
const FHD_RESERVED: u32 = 0x08
const FHD_CHECKSUM: u32 = 0x04
const CHECKSUM_BYTES: usize = 4
const SKIPPED: i32 = 1

// The frame header enterFrame parsed last.
let hasChecksum = false
let hasContentSize = false
let contentSize: u64 = 0
let blockMax: usize = 0
let dataStart: usize = 0

/** Little-endian value of the n (≤ 8) bytes at p. */
function readLE(p: usize, n: usize): u64 {
  let v: u64 = 0
  for (let i: usize = 0; i < n; i++) v |= <u64>load<u8>(p + i) << (<u64>i << 3)
  return v
}

/**
 * Steps into the frame at ip: a skippable frame is passed over (SKIPPED, dataStart after it);
 * a zstd frame's header is parsed (0, the header fields set, dataStart at its first block).
 * Else a negative error code.
 */
function enterFrame(ip: usize, iend: usize): i32 {
  if (iend - ip < 4) return E.ERR_ZSTD_TRUNCATED
  const magic = load<u32>(ip)
  if ((magic & SKIPPABLE_MAGIC_MASK) == SKIPPABLE_MAGIC_BASE) {
    if (iend - ip < 8) return E.ERR_ZSTD_TRUNCATED
    const skip = <usize>load<u32>(ip, 4)
    if (skip > iend - ip - 8) return E.ERR_ZSTD_TRUNCATED
    dataStart = ip + 8 + skip
    return SKIPPED
  }
  if (magic != ZSTD_MAGIC) return E.ERR_ZSTD_BAD_MAGIC
  if (iend - ip < 5) return E.ERR_ZSTD_TRUNCATED
  const fhd = <u32>load<u8>(ip, 4)
  if ((fhd & FHD_RESERVED) != 0) return E.ERR_ZSTD_FRAME_HEADER
  const single = (fhd & FHD_SINGLE_SEGMENT) != 0
  const fcsFlag = fhd >> 6
  const dictFlag = fhd & 3
  const dictBytes: usize = dictFlag == 3 ? 4 : <usize>dictFlag
  const fcsBytes: usize = fcsFlag == 0 ? (single ? 1 : 0) : <usize>1 << fcsFlag
  let p = ip + 5
  const windowBytes: usize = single ? 0 : 1
  if (iend - p < windowBytes + dictBytes + fcsBytes) return E.ERR_ZSTD_TRUNCATED
  let window: u64 = 0
  if (!single) {
    // Window descriptor: exponent in bits 7-3, mantissa (eighths of the base) in bits 2-0.
    const wd = <u32>load<u8>(p++)
    const base: u64 = <u64>1 << <u64>(WINDOW_LOG_MIN + (wd >> 3))
    window = base + (base >> 3) * <u64>(wd & 7)
    if (window > WINDOW_SIZE_MAX) return E.ERR_ZSTD_WINDOW_TOO_LARGE
  }
  if (dictBytes != 0 && readLE(p, dictBytes) != 0) return E.ERR_ZSTD_DICTIONARY
  p += dictBytes
  hasContentSize = fcsBytes != 0
  contentSize = readLE(p, fcsBytes) + (fcsBytes == 2 ? 256 : 0)
  p += fcsBytes
  if (single) window = contentSize
  hasChecksum = (fhd & FHD_CHECKSUM) != 0
  blockMax = <usize>min(window, <u64>BLOCK_SIZE_MAX)
  dataStart = p
  return 0
}

/**
 * An upper bound on the decoded size of the frames in [src, src+n) from their headers and
 * block headers alone, capped at `limit`, or a negative error code. A declared content size
 * above `limit` is refused here, before any output memory is reserved.
 */
export function zstdDecodedBound(src: usize, n: usize, limit: usize): i32 {
  const iend = src + n
  let ip = src
  let total: u64 = 0
  if (n == 0) return E.ERR_ZSTD_TRUNCATED
  while (ip < iend) {
    const rc = enterFrame(ip, iend)
    if (rc < 0) return rc
    ip = dataStart
    if (rc == SKIPPED) continue
    if (hasContentSize && contentSize > <u64>limit) return E.ERR_DECOMPRESSED_TOO_LARGE
    let frame: u64 = 0
    while (true) {
      if (iend - ip < BLOCK_HEADER_BYTES) return E.ERR_ZSTD_TRUNCATED
      const header = readLE(ip, BLOCK_HEADER_BYTES) as u32
      ip += BLOCK_HEADER_BYTES
      const type = (header >> 1) & 3
      const size = <usize>(header >> 3)
      if (size > blockMax) return E.ERR_ZSTD_BLOCK_SIZE
      const taken: usize = type == BLOCK_TYPE_RLE ? 1 : size
      if (type > BLOCK_TYPE_COMPRESSED) return E.ERR_ZSTD_BLOCK_TYPE
      if (taken > iend - ip) return E.ERR_ZSTD_TRUNCATED
      frame += type == BLOCK_TYPE_COMPRESSED ? <u64>blockMax : <u64>size
      ip += taken
      if (header & 1) break
    }
    if (hasChecksum) {
      if (iend - ip < CHECKSUM_BYTES) return E.ERR_ZSTD_TRUNCATED
      ip += CHECKSUM_BYTES
    }
    // The blocks bound the frame's output from above: less than its declared size is a lie.
    if (hasContentSize && frame < contentSize) return E.ERR_ZSTD_CONTENT_SIZE
    total += hasContentSize ? contentSize : frame
    if (total > <u64>limit) return <i32>limit
  }
  return <i32>total
}

/**
 * Decodes the frames in [src, src+n) to dst, writing at most `cap` bytes. Returns the decoded
 * length, ERR_DECOMPRESSED_TOO_LARGE past `cap`, or another negative error code.
 */
export function zstdDecompress(src: usize, n: usize, dst: usize, cap: usize): i32 {
  const iend = src + n
  const oend = dst + cap
  let ip = src
  let op = dst
  if (n == 0) return E.ERR_ZSTD_TRUNCATED
  while (ip < iend) {
    const rc = enterFrame(ip, iend)
    if (rc < 0) return rc
    ip = dataStart
    if (rc == SKIPPED) {
      bump(STAT_SKIPPABLE_FRAMES)
      continue
    }
    bump(STAT_FRAMES)
    if (hasContentSize && contentSize > <u64>(oend - op)) return E.ERR_DECOMPRESSED_TOO_LARGE
    // A frame that declares its size may not write past it.
    const frameEnd = hasContentSize ? op + <usize>contentSize : oend
    const frameStart = op
    huffmanReset()
    sequencesReset()
    while (true) {
      if (iend - ip < BLOCK_HEADER_BYTES) return E.ERR_ZSTD_TRUNCATED
      const header = readLE(ip, BLOCK_HEADER_BYTES) as u32
      ip += BLOCK_HEADER_BYTES
      const type = (header >> 1) & 3
      const size = <usize>(header >> 3)
      if (size > blockMax) return E.ERR_ZSTD_BLOCK_SIZE
      if (type == BLOCK_TYPE_RAW) {
        if (size > iend - ip) return E.ERR_ZSTD_TRUNCATED
        if (size > frameEnd - op) return tooLarge()
        memory.copy(op, ip, size)
        ip += size
        op += size
        bump(STAT_BLOCKS_RAW)
      } else if (type == BLOCK_TYPE_RLE) {
        if (iend - ip < 1) return E.ERR_ZSTD_TRUNCATED
        if (size > frameEnd - op) return tooLarge()
        memory.fill(op, load<u8>(ip), size)
        ip += 1
        op += size
        bump(STAT_BLOCKS_RLE)
      } else if (type == BLOCK_TYPE_COMPRESSED) {
        if (size > iend - ip) return E.ERR_ZSTD_TRUNCATED
        const literals = decodeLiterals(ip, size)
        if (literals < 0) return literals
        // A block regenerates at most blockMax bytes.
        const blockEnd = min(frameEnd, op + blockMax)
        const written = decodeSequences(ip + <usize>literals, ip + size, op, blockEnd, frameStart)
        if (written == E.ERR_DECOMPRESSED_TOO_LARGE) {
          return blockEnd < frameEnd ? E.ERR_ZSTD_BLOCK_SIZE : tooLarge()
        }
        if (written < 0) return written
        ip += size
        op += <usize>written
        bump(STAT_BLOCKS_COMPRESSED)
      } else {
        return E.ERR_ZSTD_BLOCK_TYPE
      }
      if (header & 1) break
    }
    if (hasChecksum) {
      if (iend - ip < CHECKSUM_BYTES) return E.ERR_ZSTD_TRUNCATED
      if (<u32>xxh64(frameStart, op - frameStart, 0) != load<u32>(ip)) return E.ERR_ZSTD_CONTENT_CHECKSUM
      ip += CHECKSUM_BYTES
      bump(STAT_CHECKSUMS)
    }
    if (hasContentSize && <u64>(op - frameStart) != contentSize) return E.ERR_ZSTD_CONTENT_SIZE
  }
  return <i32>(op - dst)
}

/** Past the end of a frame that declared its size (which fits the room), or past the caller's room. */
function tooLarge(): i32 {
  return hasContentSize ? E.ERR_ZSTD_CONTENT_SIZE : E.ERR_DECOMPRESSED_TOO_LARGE
}
