// LZ4 block format: a sequence of (token, literal length, literals, offset, match length).
// The compressor is the standard greedy single-probe matcher with accelerating skips over
// incompressible data; the decoder bounds-checks every read and write.
import * as E from './errors'
import { commonLength, copyLiteral, copyMatch, COPY_SLACK } from './copy'

const MIN_MATCH: usize = 4
// Format rules: the last 5 bytes are always literals, and the last match starts at least
// 12 bytes before the end of the block.
const LAST_LITERALS: usize = 5
const MF_LIMIT: usize = 12
const MIN_INPUT: usize = MF_LIMIT + 1
const MAX_OFFSET: usize = 65535
// After 2^SKIP_TRIGGER failed probes the step between probes grows by one.
const SKIP_TRIGGER: u32 = 6
// 2^13 u32 entries (32 KiB): the reference library's table for 64 KiB blocks (2^12 cost
// up to 4% in size on JSON). Smaller for small inputs, so clearing it stays proportional.
const HASH_LOG_MAX: u32 = 13
const HASH_LOG_MIN: u32 = 8
const TABLE: usize = memory.data(4 << HASH_LOG_MAX, 16)

/** Largest possible compressed size of n input bytes. */
export function lz4BlockBound(n: usize): usize {
  return n + n / 255 + 16
}

// @ts-ignore: decorator
@inline function slotOf(seq: u32, shift: u32): usize {
  return TABLE + (<usize>((seq * 2654435761) >>> shift) << 2)
}

function tableLog(n: usize): u32 {
  const bits = <u32>(32 - clz<u32>(<u32>n - 1))
  return min(max(bits, HASH_LOG_MIN), HASH_LOG_MAX)
}


// Writes the extension bytes of a length field whose nibble is 15: n = length - 15.
// @ts-ignore: decorator
@inline function writeExtension(op: usize, n: usize): usize {
  const full = n / 255
  memory.fill(op, 255, full)
  op += full
  store<u8>(op++, <u8>(n - full * 255))
  return op
}

/**
 * Compresses [src, src+n) as one independent LZ4 block at dst, which must have room for
 * lz4BlockBound(n) bytes. Returns the compressed length.
 */
export function lz4CompressBlock(src: usize, n: usize, dst: usize): usize {
  const end = src + n
  let op = dst
  let anchor = src
  if (n >= MIN_INPUT) {
    const log = tableLog(n)
    const shift = 32 - log
    memory.fill(TABLE, 0, 4 << log) // deterministic output: no state from earlier calls
    const mfLimit = end - MF_LIMIT
    const matchLimit = end - LAST_LITERALS
    let ip = src + 1
    let ref: usize = 0
    while (ip <= mfLimit) {
      // Find a 4-byte match, probing further apart the longer none is found.
      let probes: u32 = 1 << SKIP_TRIGGER
      let step: usize = 1
      let found = false
      while (ip <= mfLimit) {
        const seq = load<u32>(ip)
        const slot = slotOf(seq, shift)
        ref = src + <usize>load<u32>(slot)
        store<u32>(slot, <u32>(ip - src))
        if (ip - ref - 1 < MAX_OFFSET && load<u32>(ref) == seq) {
          found = true
          break
        }
        ip += step
        step = <usize>(probes++ >> SKIP_TRIGGER)
      }
      if (!found) break
      // Grow the match backwards over bytes not yet emitted.
      while (ip > anchor && ref > src && load<u8>(ip - 1) == load<u8>(ref - 1)) {
        ip--
        ref--
      }
      let token = op++
      const literals = ip - anchor
      if (literals >= 15) {
        store<u8>(token, 15 << 4)
        op = writeExtension(op, literals - 15)
      } else {
        store<u8>(token, <u8>(literals << 4))
      }
      memory.copy(op, anchor, literals)
      op += literals
      // Emit the match, and more while the next position matches at once. Leaves ip past
      // mfLimit (ending the outer loop) or at the next position to search from.
      while (true) {
        store<u16>(op, <u16>(ip - ref))
        op += 2
        const extra = commonLength(ip + MIN_MATCH, ref + MIN_MATCH, matchLimit)
        ip += MIN_MATCH + extra
        if (extra >= 15) {
          store<u8>(token, load<u8>(token) | 15)
          op = writeExtension(op, extra - 15)
        } else {
          store<u8>(token, load<u8>(token) | <u8>extra)
        }
        anchor = ip
        if (ip > mfLimit) break
        const before = load<u32>(ip - 2)
        store<u32>(slotOf(before, shift), <u32>(ip - 2 - src))
        const seq = load<u32>(ip)
        const slot = slotOf(seq, shift)
        ref = src + <usize>load<u32>(slot)
        store<u32>(slot, <u32>(ip - src))
        if (ip - ref - 1 < MAX_OFFSET && load<u32>(ref) == seq) {
          token = op++
          store<u8>(token, 0)
          continue
        }
        ip++
        break
      }
    }
  }
  const literals = end - anchor
  const token = op++
  if (literals >= 15) {
    store<u8>(token, 15 << 4)
    op = writeExtension(op, literals - 15)
  } else {
    store<u8>(token, <u8>(literals << 4))
  }
  memory.copy(op, anchor, literals)
  return op + literals - dst
}

/**
 * Decodes the LZ4 block [src, src+n) to dst, writing at most `cap` bytes. Matches may reach
 * back to `window` (dst for an independent block, the frame's start for linked blocks).
 * Returns the decoded length, ERR_DECOMPRESSED_TOO_LARGE when the output would pass `cap`,
 * or another negative error code.
 */
export function lz4DecompressBlock(src: usize, n: usize, dst: usize, cap: usize, window: usize): i32 {
  const iend = src + n
  const oend = dst + cap
  let ip = src
  let op = dst
  while (true) {
    if (ip >= iend) return E.ERR_LZ4_TRUNCATED
    const token = <usize>load<u8>(ip++)
    let literals = token >> 4
    if (literals == 15) {
      let b: usize
      do {
        if (ip >= iend) return E.ERR_LZ4_TRUNCATED
        b = <usize>load<u8>(ip++)
        literals += b
        if (literals > iend - ip) return E.ERR_LZ4_TRUNCATED
      } while (b == 255)
    }
    if (literals > iend - ip) return E.ERR_LZ4_TRUNCATED
    if (literals > oend - op) return E.ERR_DECOMPRESSED_TOO_LARGE
    copyLiteral(op, ip, literals, iend - ip >= COPY_SLACK && oend - op >= COPY_SLACK)
    op += literals
    ip += literals
    if (ip == iend) return <i32>(op - dst) // the last sequence has literals only
    if (iend - ip < 2) return E.ERR_LZ4_TRUNCATED
    const offset = <usize>load<u16>(ip)
    ip += 2
    if (offset == 0 || offset > op - window) return E.ERR_LZ4_CORRUPT_BLOCK
    let length = token & 15
    if (length == 15) {
      let b: usize
      do {
        if (ip >= iend) return E.ERR_LZ4_TRUNCATED
        b = <usize>load<u8>(ip++)
        length += b
        if (length > oend - op) return E.ERR_DECOMPRESSED_TOO_LARGE
      } while (b == 255)
    }
    length += MIN_MATCH
    if (length > oend - op) return E.ERR_DECOMPRESSED_TOO_LARGE
    copyMatch(op, offset, length, oend - op >= length + COPY_SLACK)
    op += length
  }
}
