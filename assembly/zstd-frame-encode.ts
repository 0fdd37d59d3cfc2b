// The zstd frame writer (RFC 8878 §3.1.1): one frame per call, single-segment with the
// content size (the window is the whole content, so matches reach back anywhere in it), the
// content checksum on, blocks of 128 KiB. Each block is written compressed, or as an RLE
// block when it is one byte repeated, or raw when compression does not make it smaller.
import {
  BLOCK_HEADER_BYTES, BLOCK_SIZE_MAX, BLOCK_TYPE_COMPRESSED, BLOCK_TYPE_RAW, BLOCK_TYPE_RLE, ZSTD_MAGIC,
} from './zstd-spec'
import { xxh64 } from './xxhash64'
import { LITERALS, literalCount, matchBlock, matchRestore, matchStart, rep0, rep1, rep2 } from './zstd-match'
import { writeLiterals } from './zstd-huffman-encode'
import { sequencesInit, writeSequences } from './zstd-sequences-encode'

// Frame header: magic, descriptor, content size (at most 8 bytes); content checksum: 4.
const FRAME_HEADER_BYTES_MAX: usize = 4 + 1 + 8
const CHECKSUM_BYTES: usize = 4
const DESCRIPTOR_SINGLE_SEGMENT: u32 = 1 << 5
const DESCRIPTOR_CHECKSUM: u32 = 1 << 2
// A compressed block is written in place before it is known to be smaller than the raw one:
// its sections can pass the block's size by this much (each sequence covers at least 4 input
// bytes and costs at most 11 bytes of bitstream; the tables add less than a KiB).
const COMPRESSED_BLOCK_SLACK: usize = 3 * <usize>BLOCK_SIZE_MAX + 1024

/** Room zstdCompress needs for n input bytes. */
export function zstdCompressBound(n: usize): usize {
  const blocks = max<usize>(1, (n + BLOCK_SIZE_MAX - 1) / BLOCK_SIZE_MAX)
  return FRAME_HEADER_BYTES_MAX + n + blocks * BLOCK_HEADER_BYTES + CHECKSUM_BYTES + COMPRESSED_BLOCK_SLACK
}

/** Writes [src, src+n) as one zstd frame at dst (room: zstdCompressBound(n)); returns its length. */
export function zstdCompress(src: usize, n: usize, dst: usize): usize {
  sequencesInit()
  let op = writeFrameHeader(dst, n)
  const end = src + n
  if (n == 0) {
    writeBlockHeader(op, true, BLOCK_TYPE_RAW, 0)
    op += BLOCK_HEADER_BYTES
  } else {
    matchStart(n)
    for (let ip = src; ip < end; ip += BLOCK_SIZE_MAX) {
      const len = min<usize>(BLOCK_SIZE_MAX, end - ip)
      op = writeBlock(op, src, ip, len, ip + len == end)
    }
  }
  store<u32>(op, <u32>xxh64(src, n, 0))
  return op + CHECKSUM_BYTES - dst
}

function writeFrameHeader(op: usize, n: usize): usize {
  store<u32>(op, ZSTD_MAGIC)
  // Content size field: 1 byte below 256, 2 bytes (minus 256) below 65536 + 256, else 4 or 8.
  let sizeFlag: u32
  let sizeBytes: usize
  if (n < 256) {
    sizeFlag = 0
    sizeBytes = 1
  } else if (n < 65536 + 256) {
    sizeFlag = 1
    sizeBytes = 2
  } else if (<u64>n <= 0xffffffff) {
    sizeFlag = 2
    sizeBytes = 4
  } else {
    sizeFlag = 3
    sizeBytes = 8
  }
  store<u8>(op, <u8>((sizeFlag << 6) | DESCRIPTOR_SINGLE_SEGMENT | DESCRIPTOR_CHECKSUM), 4)
  op += 5
  if (sizeBytes == 1) store<u8>(op, <u8>n)
  else if (sizeBytes == 2) store<u16>(op, <u16>(n - 256))
  else if (sizeBytes == 4) store<u32>(op, <u32>n)
  else store<u64>(op, <u64>n)
  return op + sizeBytes
}

// @ts-ignore: decorator
@inline function writeBlockHeader(op: usize, last: bool, type: u32, size: usize): void {
  const v = (last ? 1 : 0) | (type << 1) | (<u32>size << 3)
  store<u16>(op, <u16>v)
  store<u8>(op, <u8>(v >> 16), 2)
}

/** One block of the frame at src: [ip, ip+len). Returns the position after it. */
function writeBlock(op: usize, src: usize, ip: usize, len: usize, last: bool): usize {
  if (isRun(ip, len)) {
    writeBlockHeader(op, last, BLOCK_TYPE_RLE, len)
    store<u8>(op + BLOCK_HEADER_BYTES, load<u8>(ip))
    return op + BLOCK_HEADER_BYTES + 1
  }
  const r0 = rep0
  const r1 = rep1
  const r2 = rep2
  matchBlock(src, ip, ip + len)
  const body = op + BLOCK_HEADER_BYTES
  const literalsEnd = writeLiterals(body, LITERALS, literalCount)
  const end = literalsEnd - body < len ? writeSequences(literalsEnd) : body + len
  if (end - body < len) {
    writeBlockHeader(op, last, BLOCK_TYPE_COMPRESSED, end - body)
    return end
  }
  // Not smaller: stored raw, and the decoder's repeat offsets stay as they were.
  matchRestore(r0, r1, r2)
  writeBlockHeader(op, last, BLOCK_TYPE_RAW, len)
  memory.copy(body, ip, len)
  return body + len
}

/** Whether [ip, ip+len) is one byte repeated (len >= 2). */
function isRun(ip: usize, len: usize): bool {
  if (len < 2) return false
  const b = load<u8>(ip)
  const word = <u64>b * 0x0101010101010101
  let p = ip
  const end = ip + len
  while (p + 8 <= end) {
    if (load<u64>(p) != word) return false
    p += 8
  }
  while (p < end) if (load<u8>(p++) != b) return false
  return true
}
