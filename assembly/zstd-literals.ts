// The literals section of a compressed zstd block (RFC 8878 §3.1.1.3.1): raw, RLE, Huffman
// with one or four streams, or "treeless" (Huffman with the previous block's table). Raw
// literals are used where they lie in the input; the others are decoded into a static
// buffer of the largest a block may regenerate, with slack for the 16-byte copies.
import * as E from './errors'
import {
  bump, STAT_LITERALS_HUFFMAN_1, STAT_LITERALS_HUFFMAN_4, STAT_LITERALS_RAW, STAT_LITERALS_RLE, STAT_LITERALS_TREELESS,
} from './zstd-decode-stats'
import { decodeHuffmanStream, decodeHuffmanStreams4, huffmanBits, readHuffmanTable } from './zstd-huffman-decode'
import { BLOCK_SIZE_MAX, LITERALS_COMPRESSED, LITERALS_RAW, LITERALS_RLE } from './zstd-spec'

/** Bytes past the literals that 16-byte copies may read. */
export const LITERALS_SLACK: usize = 32
const buffer = memory.data(<i32>BLOCK_SIZE_MAX + <i32>LITERALS_SLACK, 16)
const JUMP_TABLE_BYTES: usize = 6

/** Where the literals decodeLiterals found are, how many, and how far past them reads may go. */
export let litStart: usize = 0
export let litSize: usize = 0
export let litReadLimit: usize = 0

/** Little-endian value of the n (≤ 5) bytes at p. */
function readLE(p: usize, n: usize): u64 {
  let v: u64 = 0
  for (let i: usize = 0; i < n; i++) v |= <u64>load<u8>(p + i) << (<u64>i << 3)
  return v
}

/**
 * Decodes the literals section at the start of the block [src, src+size). Returns the bytes
 * the section takes (the sequences section follows), or a negative error code.
 */
export function decodeLiterals(src: usize, size: usize): i32 {
  if (size == 0) return E.ERR_ZSTD_TRUNCATED
  const b0 = <u32>load<u8>(src)
  const type = b0 & 3
  const format = (b0 >> 2) & 3
  if (type == LITERALS_RAW || type == LITERALS_RLE) {
    // Size format: x0 = 1 header byte (5-bit size), 01 = 2 bytes (12 bits), 11 = 3 bytes (20 bits).
    const headerBytes: usize = (format & 1) == 0 ? 1 : format == 1 ? 2 : 3
    if (headerBytes > size) return E.ERR_ZSTD_TRUNCATED
    const v = <u32>readLE(src, headerBytes)
    const regenerated = <usize>(headerBytes == 1 ? v >> 3 : v >> 4)
    if (regenerated > BLOCK_SIZE_MAX) return E.ERR_ZSTD_LITERALS
    if (type == LITERALS_RAW) {
      if (regenerated > size - headerBytes) return E.ERR_ZSTD_TRUNCATED
      litStart = src + headerBytes
      litSize = regenerated
      litReadLimit = src + size
      bump(STAT_LITERALS_RAW)
      return <i32>(headerBytes + regenerated)
    }
    if (headerBytes + 1 > size) return E.ERR_ZSTD_TRUNCATED
    memory.fill(buffer, load<u8>(src + headerBytes), regenerated)
    setBuffer(regenerated)
    bump(STAT_LITERALS_RLE)
    return <i32>(headerBytes + 1)
  }
  // Huffman: format 00 = 1 stream and 10-bit sizes, 01 = 4 streams and 10-bit sizes, 10 = 14
  // bits, 11 = 18 bits; header bytes 3, 3, 4, 5.
  const sizeBits: u64 = format <= 1 ? 10 : format == 2 ? 14 : 18
  const headerBytes: usize = format <= 1 ? 3 : format == 2 ? 4 : 5
  if (headerBytes > size) return E.ERR_ZSTD_TRUNCATED
  const v = readLE(src, headerBytes)
  const mask: u64 = (<u64>1 << sizeBits) - 1
  const regenerated = <usize>((v >> 4) & mask)
  const compressed = <usize>((v >> (4 + sizeBits)) & mask)
  if (regenerated > BLOCK_SIZE_MAX) return E.ERR_ZSTD_LITERALS
  if (compressed > size - headerBytes) return E.ERR_ZSTD_TRUNCATED
  let p = src + headerBytes
  const end = p + compressed
  if (type == LITERALS_COMPRESSED) {
    const rc = readHuffmanTable(p, compressed)
    if (rc < 0) return rc
    p += <usize>rc
  } else if (huffmanBits == 0) {
    return E.ERR_ZSTD_NO_PREVIOUS_TABLE
  }
  if (format == 0) {
    const rc = decodeHuffmanStream(p, end - p, buffer, regenerated)
    if (rc < 0) return rc
    bump(type == LITERALS_COMPRESSED ? STAT_LITERALS_HUFFMAN_1 : STAT_LITERALS_TREELESS)
  } else {
    // A jump table gives the sizes of streams 1-3; each of the first three regenerates a
    // quarter (rounded up), the fourth the rest.
    if (end - p < JUMP_TABLE_BYTES) return E.ERR_ZSTD_LITERALS
    const s1 = <usize>load<u16>(p)
    const s2 = <usize>load<u16>(p, 2)
    const s3 = <usize>load<u16>(p, 4)
    p += JUMP_TABLE_BYTES
    const streams = end - p
    if (s1 + s2 + s3 > streams) return E.ERR_ZSTD_LITERALS
    const s4 = streams - s1 - s2 - s3
    const quarter = (regenerated + 3) >> 2
    if (quarter * 3 > regenerated) return E.ERR_ZSTD_LITERALS
    const rc = decodeHuffmanStreams4(p, s1, s2, s3, s4, buffer, quarter, regenerated)
    if (rc < 0) return rc
    bump(type == LITERALS_COMPRESSED ? STAT_LITERALS_HUFFMAN_4 : STAT_LITERALS_TREELESS)
  }
  setBuffer(regenerated)
  return <i32>(headerBytes + compressed)
}

function setBuffer(n: usize): void {
  litStart = buffer
  litSize = n
  litReadLimit = buffer + BLOCK_SIZE_MAX + LITERALS_SLACK
}
