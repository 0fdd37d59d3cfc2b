// Snappy, raw format (format_description.txt): a varint of the uncompressed length, then
// literal and copy elements. The compressor works on independent 64 KiB fragments with the
// standard greedy hash matcher and skip heuristic; the decoder bounds-checks every element.
import * as E from './errors'
import { commonLength, copyLiteral, copyMatch, COPY_SLACK } from './copy'

const FRAGMENT_BYTES: usize = 64 * 1024
// Inputs shorter than this are emitted as one literal; the matcher reads ahead of ip.
const INPUT_MARGIN: usize = 15
// Table: a power of two covering the fragment, 2^8..2^14 u16 entries (offsets in a fragment).
const TABLE_LOG_MAX: u32 = 14
const TABLE_LOG_MIN: u32 = 8
const TABLE: usize = memory.data(2 << TABLE_LOG_MAX, 16)
const LENGTH_MAX: u64 = 0xffffffff // the varint length is a uint32

/** Largest possible raw Snappy size for n input bytes. */
export function snappyRawBound(n: usize): usize {
  return 32 + n + n / 6
}

// @ts-ignore: decorator
@inline function slotOf(seq: u32, shift: u32): usize {
  return TABLE + (<usize>((seq * 0x1e35a7bd) >>> shift) << 1)
}

function emitLiteral(op: usize, src: usize, n: usize): usize {
  const m = n - 1
  if (m < 60) {
    store<u8>(op++, <u8>(m << 2))
  } else {
    const bytes: usize = m < 0x100 ? 1 : m < 0x10000 ? 2 : m < 0x1000000 ? 3 : 4
    store<u8>(op++, <u8>((59 + bytes) << 2))
    store<u32>(op, <u32>m) // little-endian; only `bytes` of it count
    op += bytes
  }
  memory.copy(op, src, n)
  return op + n
}

// One copy element of 4..64 bytes: the 2-byte form, or the 1-byte-offset form when it fits.
// @ts-ignore: decorator
@inline function emitCopyUpTo64(op: usize, offset: usize, n: usize): usize {
  if (n < 12 && offset < 2048) {
    store<u8>(op, <u8>(((offset >> 8) << 5) | ((n - 4) << 2) | 1))
    store<u8>(op, <u8>offset, 1)
    return op + 2
  }
  store<u8>(op, <u8>(((n - 1) << 2) | 2))
  store<u16>(op, <u16>offset, 1)
  return op + 3
}

function emitCopy(op: usize, offset: usize, n: usize): usize {
  // Leave at least 4 bytes for the last element (the shortest copy).
  while (n >= 68) {
    op = emitCopyUpTo64(op, offset, 64)
    n -= 64
  }
  if (n > 64) {
    op = emitCopyUpTo64(op, offset, 60)
    n -= 60
  }
  return emitCopyUpTo64(op, offset, n)
}


function compressFragment(src: usize, n: usize, op: usize): usize {
  const end = src + n
  let anchor = src
  if (n >= INPUT_MARGIN) {
    const log = min(max(<u32>(32 - clz<u32>(<u32>n - 1)), TABLE_LOG_MIN), TABLE_LOG_MAX)
    const shift = 32 - log
    memory.fill(TABLE, 0, 2 << log)
    const ipLimit = end - INPUT_MARGIN
    let ip = src + 1
    let done = false
    while (!done) {
      // Probe further apart the longer nothing matches: after 32 misses, every 2nd byte...
      let skip: u32 = 32
      let ref: usize = 0
      while (true) {
        if (ip > ipLimit) {
          done = true
          break
        }
        const seq = load<u32>(ip)
        const slot = slotOf(seq, shift)
        ref = src + <usize>load<u16>(slot)
        store<u16>(slot, <u16>(ip - src))
        if (load<u32>(ref) == seq && ref < ip) break
        ip += <usize>(skip++ >> 5)
      }
      if (done) break
      op = emitLiteral(op, anchor, ip - anchor)
      // Emit copies while the position after each one matches again.
      while (true) {
        const length: usize = 4 + commonLength(ip + 4, ref + 4, end)
        op = emitCopy(op, ip - ref, length)
        ip += length
        anchor = ip
        if (ip >= ipLimit) {
          done = true
          break
        }
        const before = load<u32>(ip - 1)
        store<u16>(slotOf(before, shift), <u16>(ip - 1 - src))
        const seq = load<u32>(ip)
        const slot = slotOf(seq, shift)
        ref = src + <usize>load<u16>(slot)
        store<u16>(slot, <u16>(ip - src))
        if (load<u32>(ref) != seq || ref >= ip) break
      }
      ip++
    }
  }
  if (anchor < end) op = emitLiteral(op, anchor, end - anchor)
  return op
}

/** Compresses [src, src+n) to raw Snappy at dst (room: snappyRawBound(n)); returns its length. */
export function snappyCompressRaw(src: usize, n: usize, dst: usize): usize {
  let op = dst
  let v = <u32>n
  while (v >= 0x80) {
    store<u8>(op++, <u8>(v | 0x80))
    v >>= 7
  }
  store<u8>(op++, <u8>v)
  const end = src + n
  for (let ip = src; ip < end; ip += FRAGMENT_BYTES) {
    op = compressFragment(ip, min(FRAGMENT_BYTES, end - ip), op)
  }
  return op - dst
}

let lengthBytes: usize = 0

/** The uncompressed length a raw Snappy stream declares, or a negative error code. */
export function snappyRawLength(src: usize, n: usize): i64 {
  let v: u64 = 0
  for (let i: usize = 0; i < 5; i++) {
    if (i >= n) return E.ERR_SNAPPY_TRUNCATED
    const b = <u64>load<u8>(src + i)
    v |= (b & 0x7f) << (7 * <u64>i)
    if ((b & 0x80) == 0) {
      if (v > LENGTH_MAX) return E.ERR_SNAPPY_CORRUPT
      lengthBytes = i + 1
      return <i64>v
    }
  }
  return E.ERR_SNAPPY_CORRUPT
}

/**
 * Decodes the raw Snappy stream [src, src+n) to dst. Returns the decoded length,
 * ERR_DECOMPRESSED_TOO_LARGE when it declares more than `cap`, or another negative code.
 */
export function snappyDecompressRaw(src: usize, n: usize, dst: usize, cap: usize): i32 {
  const declared = snappyRawLength(src, n)
  if (declared < 0) return <i32>declared
  if (<u64>declared > <u64>cap) return E.ERR_DECOMPRESSED_TOO_LARGE
  const iend = src + n
  const oend = dst + <usize>declared
  let ip = src + lengthBytes
  let op = dst
  while (ip < iend) {
    const tag = <usize>load<u8>(ip++)
    const kind = tag & 3
    if (kind == 0) {
      let length = tag >> 2
      if (length >= 60) {
        const bytes = length - 59
        if (bytes > iend - ip) return E.ERR_SNAPPY_TRUNCATED
        length = 0
        for (let i: usize = 0; i < bytes; i++) length |= <usize>load<u8>(ip + i) << (8 * i)
        ip += bytes
        if (length >= oend - op) return E.ERR_SNAPPY_CORRUPT
      }
      length++
      if (length > iend - ip) return E.ERR_SNAPPY_TRUNCATED
      if (length > oend - op) return E.ERR_SNAPPY_CORRUPT
      copyLiteral(op, ip, length, iend - ip >= COPY_SLACK && oend - op >= COPY_SLACK)
      op += length
      ip += length
      continue
    }
    let length: usize
    let offset: usize
    if (kind == 1) {
      if (ip >= iend) return E.ERR_SNAPPY_TRUNCATED
      length = ((tag >> 2) & 7) + 4
      offset = ((tag >> 5) << 8) | <usize>load<u8>(ip++)
    } else if (kind == 2) {
      if (iend - ip < 2) return E.ERR_SNAPPY_TRUNCATED
      length = (tag >> 2) + 1
      offset = <usize>load<u16>(ip)
      ip += 2
    } else {
      if (iend - ip < 4) return E.ERR_SNAPPY_TRUNCATED
      length = (tag >> 2) + 1
      offset = <usize>load<u32>(ip)
      ip += 4
    }
    if (offset == 0 || offset > op - dst) return E.ERR_SNAPPY_CORRUPT
    if (length > oend - op) return E.ERR_SNAPPY_CORRUPT
    copyMatch(op, offset, length, oend - op >= length + COPY_SLACK)
    op += length
  }
  if (op != oend) return E.ERR_SNAPPY_LENGTH_MISMATCH
  return <i32>(op - dst)
}
