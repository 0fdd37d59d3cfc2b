// The xerial snappy-java stream framing Kafka's Java producer writes: an 8-byte magic, two
// big-endian int32 version fields, then chunks, each a big-endian int32 length and one raw
// Snappy stream. The reader takes xerial or raw Snappy (kafkajs's plug-in writes raw).
import * as E from './errors'
import { snappyCompressRaw, snappyDecompressRaw, snappyRawBound, snappyRawLength } from './snappy'

const HEADER_BYTES: usize = 16
const MAGIC_HI: u64 = 0x0059505041_4e5382 // 82 53 4E 41 50 50 59 00, read little-endian
const VERSION: u32 = 1 // both "version" and "compatible version", as snappy-java writes
// snappy-java's default block size, which Kafka uses: each chunk holds 32 KiB of input.
const CHUNK_BYTES: usize = 32 * 1024

// @ts-ignore: decorator
@inline function isXerial(src: usize, n: usize): bool {
  return n >= HEADER_BYTES && load<u64>(src) == MAGIC_HI
}

/** Room snappyXerialCompress needs for n input bytes. */
export function snappyXerialBound(n: usize): usize {
  const chunks = (n + CHUNK_BYTES - 1) / CHUNK_BYTES
  return HEADER_BYTES + chunks * 4 + snappyRawBound(n) + chunks * 32
}

/** Writes [src, src+n) in xerial framing at dst (room: snappyXerialBound(n)); returns its length. */
export function snappyXerialCompress(src: usize, n: usize, dst: usize): usize {
  store<u64>(dst, MAGIC_HI)
  store<u32>(dst, bswap<u32>(VERSION), 8)
  store<u32>(dst, bswap<u32>(VERSION), 12)
  let op = dst + HEADER_BYTES
  const end = src + n
  for (let ip = src; ip < end; ip += CHUNK_BYTES) {
    const packed = snappyCompressRaw(ip, min(CHUNK_BYTES, end - ip), op + 4)
    store<u32>(op, bswap<u32>(<u32>packed))
    op += 4 + packed
  }
  return op - dst
}

/**
 * The exact decoded size of a xerial or raw Snappy payload, summed from the lengths each
 * chunk declares (nothing is decoded): ERR_DECOMPRESSED_TOO_LARGE above `limit`, before any
 * output memory is committed. Or another negative error code.
 */
export function snappyDecodedLength(src: usize, n: usize, limit: usize): i32 {
  if (!isXerial(src, n)) {
    const length = snappyRawLength(src, n)
    if (length > <i64>limit) return E.ERR_DECOMPRESSED_TOO_LARGE
    return <i32>length
  }
  const end = src + n
  let ip = src + HEADER_BYTES
  let total: i64 = 0
  while (ip < end) {
    if (end - ip < 4) return E.ERR_SNAPPY_TRUNCATED
    const size = <usize>bswap<u32>(load<u32>(ip))
    ip += 4
    if (size > end - ip) return E.ERR_SNAPPY_TRUNCATED
    const length = snappyRawLength(ip, size)
    if (length < 0) return <i32>length
    total += length
    if (total > <i64>limit) return E.ERR_DECOMPRESSED_TOO_LARGE
    ip += size
  }
  return <i32>total
}

/**
 * Decodes a xerial or raw Snappy payload to dst, writing at most `cap` bytes. Returns the
 * decoded length, ERR_DECOMPRESSED_TOO_LARGE past `cap`, or another negative error code.
 */
export function snappyDecompress(src: usize, n: usize, dst: usize, cap: usize): i32 {
  if (!isXerial(src, n)) return snappyDecompressRaw(src, n, dst, cap)
  const end = src + n
  let ip = src + HEADER_BYTES
  let op = dst
  const oend = dst + cap
  while (ip < end) {
    if (end - ip < 4) return E.ERR_SNAPPY_TRUNCATED
    const size = <usize>bswap<u32>(load<u32>(ip))
    ip += 4
    if (size > end - ip) return E.ERR_SNAPPY_TRUNCATED
    const decoded = snappyDecompressRaw(ip, size, op, oend - op)
    if (decoded < 0) return decoded
    op += <usize>decoded
    ip += size
  }
  return <i32>(op - dst)
}
