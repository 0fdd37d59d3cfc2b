// Byte copies shared by the LZ4 and Snappy decoders, and the match-length scan their encoders share. Both formats produce many short
// literals and matches; memory.copy has a fixed cost that dominates at those sizes, so
// short copies use 8-byte loads and stores when the caller guarantees slack room.

/** Bytes a fast copy may write past its end: callers check this much room exists. */
export const COPY_SLACK: usize = 16

/** Copies n non-overlapping bytes; may write up to COPY_SLACK bytes past dst+n if `slack`. */
// @ts-ignore: decorator
@inline export function copyLiteral(dst: usize, src: usize, n: usize, slack: bool): void {
  if (slack && n <= 16) {
    store<u64>(dst, load<u64>(src))
    store<u64>(dst, load<u64>(src, 8), 8)
  } else {
    memory.copy(dst, src, n)
  }
}

/**
 * Copies a match of n bytes starting `offset` bytes back (1 <= offset <= op - window, checked
 * by the caller). Overlap repeats the pattern, as both formats define. With `slack`, may
 * write up to COPY_SLACK bytes past op+n.
 */
export function copyMatch(op: usize, offset: usize, n: usize, slack: bool): void {
  let ref = op - offset
  if (offset >= 8) {
    if (slack) {
      // Each 8-byte source chunk lies wholly before the bytes this step writes.
      const end = op + n
      do {
        store<u64>(op, load<u64>(ref))
        op += 8
        ref += 8
      } while (op < end)
      return
    }
    if (offset >= n) {
      memory.copy(op, ref, n)
      return
    }
  } else if (offset == 1) {
    memory.fill(op, load<u8>(ref), n)
    return
  }
  const end = op + n
  while (op < end) store<u8>(op++, load<u8>(ref++))
}

/** Bytes equal at p and q, counting from there up to `limit` (p's bound). */
// @ts-ignore: decorator
@inline export function commonLength(p: usize, q: usize, limit: usize): usize {
  const start = p
  while (p + 8 <= limit) {
    const x = load<u64>(p) ^ load<u64>(q)
    if (x != 0) return p - start + <usize>(ctz<u64>(x) >> 3)
    p += 8
    q += 8
  }
  while (p < limit && load<u8>(p) == load<u8>(q)) {
    p++
    q++
  }
  return p - start
}
