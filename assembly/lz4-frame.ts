// LZ4 frame format (lz4_Frame_format.md): magic, descriptor with its checksum byte, data
// blocks, end mark, optional content checksum. The writer produces what Kafka writes:
// independent 64 KiB blocks, no checksums, no content size. The reader accepts every option
// except a dictionary id (no dictionary exists to resolve it), plus skippable frames and
// concatenated frames.
import * as E from './errors'
import { lz4BlockBound, lz4CompressBlock, lz4DecompressBlock } from './lz4-block'
import { xxh32 } from './xxhash32'

const MAGIC: u32 = 0x184d2204
const SKIPPABLE_MAGIC: u32 = 0x184d2a50 // low 4 bits free
const FLG_VERSION: u32 = 0x40 // version 01 in bits 7-6
const FLG_BLOCK_INDEPENDENCE: u32 = 0x20
const FLG_BLOCK_CHECKSUM: u32 = 0x10
const FLG_CONTENT_SIZE: u32 = 0x08
const FLG_CONTENT_CHECKSUM: u32 = 0x04
const FLG_RESERVED: u32 = 0x02
const FLG_DICT_ID: u32 = 0x01
const BD_RESERVED: u32 = 0x8f
const UNCOMPRESSED_BIT: u32 = 0x80000000
const WRITE_BLOCK_BYTES: usize = 64 * 1024
const WRITE_BLOCK_ID: u32 = 4 // 64 KiB
const HEADER_BYTES: usize = 7 // magic, FLG, BD, HC

// @ts-ignore: decorator
@inline function blockMaxOf(id: u32): usize {
  return <usize>1 << (8 + 2 * id) // ids 4..7: 64 KiB, 256 KiB, 1 MiB, 4 MiB
}

/** Room lz4FrameCompress needs for n input bytes. */
export function lz4FrameBound(n: usize): usize {
  const blocks = (n + WRITE_BLOCK_BYTES - 1) / WRITE_BLOCK_BYTES
  // A block is stored raw when compression does not shrink it, but is compressed in place
  // first, so the last one may need the block bound's slack.
  return HEADER_BYTES + 4 + n + blocks * 4 + (lz4BlockBound(WRITE_BLOCK_BYTES) - WRITE_BLOCK_BYTES)
}

/** Writes [src, src+n) as one LZ4 frame at dst (room: lz4FrameBound(n)); returns its length. */
export function lz4FrameCompress(src: usize, n: usize, dst: usize): usize {
  store<u32>(dst, MAGIC)
  store<u8>(dst, <u8>(FLG_VERSION | FLG_BLOCK_INDEPENDENCE), 4)
  store<u8>(dst, <u8>(WRITE_BLOCK_ID << 4), 5)
  store<u8>(dst, <u8>((xxh32(dst + 4, 2, 0) >> 8) & 0xff), 6)
  let op = dst + HEADER_BYTES
  const end = src + n
  for (let ip = src; ip < end; ip += WRITE_BLOCK_BYTES) {
    const len = min(WRITE_BLOCK_BYTES, end - ip)
    const packed = lz4CompressBlock(ip, len, op + 4)
    if (packed < len) {
      store<u32>(op, <u32>packed)
      op += 4 + packed
    } else {
      store<u32>(op, <u32>len | UNCOMPRESSED_BIT)
      memory.copy(op + 4, ip, len)
      op += 4 + len
    }
  }
  store<u32>(op, 0) // end mark
  return op + 4 - dst
}

// Header fields of the frame parsed last by readHeader.
let flg: u32 = 0
let blockMax: usize = 0
let contentSize: u64 = 0
let dataStart: usize = 0

/**
 * Parses and checks the frame header at ip (magic already checked). Returns 0 or a negative
 * error code; on success sets flg, blockMax, contentSize and dataStart.
 */
function readHeader(ip: usize, iend: usize): i32 {
  if (iend - ip < HEADER_BYTES) return E.ERR_LZ4_TRUNCATED
  flg = <u32>load<u8>(ip, 4)
  const bd = <u32>load<u8>(ip, 5)
  if ((flg & 0xc0) != FLG_VERSION || (flg & FLG_RESERVED) != 0) return E.ERR_LZ4_BAD_DESCRIPTOR
  const id = bd >> 4
  if ((bd & BD_RESERVED) != 0 || id < 4) return E.ERR_LZ4_BAD_DESCRIPTOR
  blockMax = blockMaxOf(id)
  const descriptor: usize = 2 + (flg & FLG_CONTENT_SIZE ? 8 : 0) + (flg & FLG_DICT_ID ? 4 : 0)
  if (iend - ip < 4 + descriptor + 1) return E.ERR_LZ4_TRUNCATED
  if (<u32>load<u8>(ip + 4 + descriptor) != ((xxh32(ip + 4, descriptor, 0) >> 8) & 0xff)) {
    return E.ERR_LZ4_HEADER_CHECKSUM
  }
  if (flg & FLG_DICT_ID) return E.ERR_LZ4_DICTIONARY
  contentSize = flg & FLG_CONTENT_SIZE ? load<u64>(ip, 6) : 0
  dataStart = ip + 4 + descriptor + 1
  return 0
}

const SKIPPED: i32 = 1

/**
 * Steps into the frame at ip: a skippable frame is passed over (returns SKIPPED, dataStart
 * after it); a data frame's header is parsed (returns 0, header fields set). Else an error.
 */
function enterFrame(ip: usize, iend: usize): i32 {
  if (iend - ip < 8) return E.ERR_LZ4_TRUNCATED
  const magic = load<u32>(ip)
  if ((magic & 0xfffffff0) == SKIPPABLE_MAGIC) {
    const skip = <usize>load<u32>(ip, 4)
    if (skip > iend - ip - 8) return E.ERR_LZ4_TRUNCATED
    dataStart = ip + 8 + skip
    return SKIPPED
  }
  if (magic != MAGIC) return E.ERR_LZ4_BAD_MAGIC
  return readHeader(ip, iend)
}

/**
 * An upper bound on the decoded size of the frames in [src, src+n), from their headers and
 * block sizes alone (a cheap walk, no decoding), or a negative error code: the caller
 * reserves this much output instead of its whole limit. A declared content size above
 * `limit` is refused here, before any memory is committed.
 */
export function lz4DecodedBound(src: usize, n: usize, limit: usize): i32 {
  const iend = src + n
  let ip = src
  let total: u64 = 0
  if (n == 0) return E.ERR_LZ4_TRUNCATED
  while (ip < iend) {
    const rc = enterFrame(ip, iend)
    if (rc < 0) return rc
    if (rc == SKIPPED) {
      ip = dataStart
      continue
    }
    if (flg & FLG_CONTENT_SIZE && contentSize > <u64>limit) return E.ERR_DECOMPRESSED_TOO_LARGE
    ip = dataStart
    let frame: u64 = 0
    while (true) {
      if (iend - ip < 4) return E.ERR_LZ4_TRUNCATED
      const word = load<u32>(ip)
      ip += 4
      if (word == 0) break
      const size = <usize>(word & ~UNCOMPRESSED_BIT)
      if (size > blockMax) return E.ERR_LZ4_BLOCK_SIZE
      const tail: usize = flg & FLG_BLOCK_CHECKSUM ? 4 : 0
      if (size + tail > iend - ip) return E.ERR_LZ4_TRUNCATED
      // A compressed byte decodes to at most 255 bytes (a length-extension byte).
      frame += word & UNCOMPRESSED_BIT ? <u64>size : <u64>min(blockMax, size * 255)
      ip += size + tail
    }
    if (flg & FLG_CONTENT_CHECKSUM) {
      if (iend - ip < 4) return E.ERR_LZ4_TRUNCATED
      ip += 4
    }
    total += flg & FLG_CONTENT_SIZE ? min(frame, contentSize) : frame
  }
  return <i32>min(total, <u64>limit)
}

/**
 * Decodes the frames in [src, src+n) to dst, writing at most `cap` bytes. Returns the
 * decoded length, ERR_DECOMPRESSED_TOO_LARGE past `cap`, or another negative error code.
 */
export function lz4FrameDecompress(src: usize, n: usize, dst: usize, cap: usize): i32 {
  const iend = src + n
  const oend = dst + cap
  let ip = src
  let op = dst
  if (n == 0) return E.ERR_LZ4_TRUNCATED
  while (ip < iend) {
    const rc = enterFrame(ip, iend)
    if (rc < 0) return rc
    if (rc == SKIPPED) {
      ip = dataStart
      continue
    }
    if (flg & FLG_CONTENT_SIZE && contentSize > <u64>(oend - op)) return E.ERR_DECOMPRESSED_TOO_LARGE
    ip = dataStart
    const frameStart = op
    const linked = (flg & FLG_BLOCK_INDEPENDENCE) == 0
    while (true) {
      if (iend - ip < 4) return E.ERR_LZ4_TRUNCATED
      const word = load<u32>(ip)
      ip += 4
      if (word == 0) break
      const size = <usize>(word & ~UNCOMPRESSED_BIT)
      if (size > blockMax) return E.ERR_LZ4_BLOCK_SIZE
      const tail: usize = flg & FLG_BLOCK_CHECKSUM ? 4 : 0
      if (size + tail > iend - ip) return E.ERR_LZ4_TRUNCATED
      if (tail != 0 && xxh32(ip, size, 0) != load<u32>(ip + size)) return E.ERR_LZ4_BLOCK_CHECKSUM
      if (word & UNCOMPRESSED_BIT) {
        if (size > oend - op) return E.ERR_DECOMPRESSED_TOO_LARGE
        memory.copy(op, ip, size)
        op += size
      } else {
        const room = oend - op
        const decoded = lz4DecompressBlock(ip, size, op, min(blockMax, room), linked ? frameStart : op)
        if (decoded == E.ERR_DECOMPRESSED_TOO_LARGE && room >= blockMax) return E.ERR_LZ4_CORRUPT_BLOCK
        if (decoded < 0) return decoded
        op += <usize>decoded
      }
      ip += size + tail
    }
    if (flg & FLG_CONTENT_CHECKSUM) {
      if (iend - ip < 4) return E.ERR_LZ4_TRUNCATED
      if (xxh32(frameStart, op - frameStart, 0) != load<u32>(ip)) return E.ERR_LZ4_CONTENT_CHECKSUM
      ip += 4
    }
    if (flg & FLG_CONTENT_SIZE && <u64>(op - frameStart) != contentSize) return E.ERR_LZ4_CONTENT_SIZE
  }
  return <i32>(op - dst)
}
