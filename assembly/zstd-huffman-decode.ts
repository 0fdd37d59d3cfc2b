// zstd's Huffman literals (RFC 8878 §4.2): the tree description (weights, either 4-bit direct
// or FSE-compressed), the decoding table built from it, and the decoding of one backward
// bitstream. The table outlives its block: a later block's "treeless" literals reuse it.
import * as E from './errors'
import { bitsInit, bitsRead, bitsReload, brBits, brConsumed, brPtr, highbit } from './zstd-bits'
import { bump, STAT_HUFFMAN_DIRECT_WEIGHTS, STAT_HUFFMAN_FSE_WEIGHTS } from './zstd-decode-stats'
import { buildTable, countsLog, KIND_PLAIN, readCounts } from './zstd-fse-decode'
import { HUFFMAN_BITS_MAX, HUFFMAN_WEIGHTS_ACCURACY_MAX } from './zstd-spec'

/** Weights are listed for at most 255 symbols; the 256th's is implied. */
const WEIGHTS_LISTED_MAX: u32 = 255
const TABLE_ENTRIES: usize = 1 << HUFFMAN_BITS_MAX

// Each table entry is a u16: the symbol in the low byte, the code length above it.
const table = memory.data(<i32>TABLE_ENTRIES * 2, 16)
const weights = memory.data(256, 16)
const weightsFse = memory.data(64 * 8, 16) // FSE table for the weights: accuracy ≤ 6
const rankCount = memory.data(16 * 4, 16)
const rankStart = memory.data(16 * 4, 16)

/** Code length of the current table (its index width); 0 while no table has been read. */
export let huffmanBits: u32 = 0

/** Forgets the table (a new frame starts without one). */
export function huffmanReset(): void {
  huffmanBits = 0
}

/** Weights from an FSE-compressed description of `size` bytes; returns how many, or an error. */
function readFseWeights(src: usize, size: usize): i32 {
  const rc = readCounts(src, size, HUFFMAN_BITS_MAX + 1, HUFFMAN_WEIGHTS_ACCURACY_MAX)
  if (rc < 0) return rc == E.ERR_ZSTD_TRUNCATED ? E.ERR_ZSTD_HUFFMAN : rc
  const built = buildTable(weightsFse, KIND_PLAIN)
  if (built < 0) return built
  const log = countsLog
  if (!bitsInit(src + <usize>rc, size - <usize>rc)) return E.ERR_ZSTD_HUFFMAN
  // Two interleaved states; the stream ends when an update would read past its start, and
  // the other state then still holds one last symbol (§4.2.1.2).
  let s1 = bitsRead(log)
  let s2 = bitsRead(log)
  let n: u32 = 0
  while (true) {
    if (n + 2 > WEIGHTS_LISTED_MAX) return E.ERR_ZSTD_HUFFMAN
    let e = load<u64>(weightsFse + (<usize>s1 << 3))
    store<u8>(weights + <usize>(n++), <u8>(e >> 32))
    s1 = (<u32>e & 0xffff) + bitsRead((<u32>e >> 24) & 0xff)
    if (!bitsReload()) {
      store<u8>(weights + <usize>(n++), <u8>(load<u64>(weightsFse + (<usize>s2 << 3)) >> 32))
      break
    }
    if (n + 2 > WEIGHTS_LISTED_MAX) return E.ERR_ZSTD_HUFFMAN
    e = load<u64>(weightsFse + (<usize>s2 << 3))
    store<u8>(weights + <usize>(n++), <u8>(e >> 32))
    s2 = (<u32>e & 0xffff) + bitsRead((<u32>e >> 24) & 0xff)
    if (!bitsReload()) {
      store<u8>(weights + <usize>(n++), <u8>(load<u64>(weightsFse + (<usize>s1 << 3)) >> 32))
      break
    }
  }
  return <i32>n
}

/**
 * Reads a Huffman tree description from [src, src+size) and builds the decoding table.
 * Returns the bytes it takes, or ERR_ZSTD_HUFFMAN / ERR_ZSTD_FSE_TABLE.
 */
export function readHuffmanTable(src: usize, size: usize): i32 {
  if (size == 0) return E.ERR_ZSTD_HUFFMAN
  const header = <u32>load<u8>(src)
  let listed: u32
  let taken: usize
  if (header < 128) {
    taken = 1 + <usize>header
    if (header == 0 || taken > size) return E.ERR_ZSTD_HUFFMAN
    const rc = readFseWeights(src + 1, <usize>header)
    if (rc < 0) return rc
    listed = <u32>rc
    bump(STAT_HUFFMAN_FSE_WEIGHTS)
  } else {
    listed = header - 127
    taken = 1 + ((<usize>listed + 1) >> 1)
    if (taken > size) return E.ERR_ZSTD_HUFFMAN
    for (let i: u32 = 0; i < listed; i++) {
      const b = <u32>load<u8>(src + 1 + (<usize>i >> 1))
      store<u8>(weights + <usize>i, <u8>(i & 1 ? b & 15 : b >> 4))
    }
    bump(STAT_HUFFMAN_DIRECT_WEIGHTS)
  }
  // The weights' sum fixes the code length; the last symbol's weight fills it up to a power of 2.
  memory.fill(rankCount, 0, 16 * 4)
  let sum: u32 = 0
  for (let i: u32 = 0; i < listed; i++) {
    const w = <u32>load<u8>(weights + <usize>i)
    if (w > HUFFMAN_BITS_MAX) return E.ERR_ZSTD_HUFFMAN
    store<u32>(rankCount + (<usize>w << 2), load<u32>(rankCount + (<usize>w << 2)) + 1)
    sum += (<u32>1 << w) >> 1
  }
  if (sum == 0) return E.ERR_ZSTD_HUFFMAN
  const bits = highbit(sum) + 1
  if (bits > HUFFMAN_BITS_MAX) return E.ERR_ZSTD_HUFFMAN
  const rest = (<u32>1 << bits) - sum
  if ((rest & (rest - 1)) != 0) return E.ERR_ZSTD_HUFFMAN
  const lastWeight = highbit(rest) + 1
  store<u8>(weights + <usize>listed, <u8>lastWeight)
  store<u32>(rankCount + (<usize>lastWeight << 2), load<u32>(rankCount + (<usize>lastWeight << 2)) + 1)
  // A complete prefix code has an even number (at least 2) of the longest codes.
  const longest = load<u32>(rankCount + 4)
  if (longest < 2 || (longest & 1) != 0) return E.ERR_ZSTD_HUFFMAN
  // Symbols of weight w take 2^(w-1) consecutive entries; lighter weights come first.
  let next: u32 = 0
  for (let w: u32 = 1; w <= bits; w++) {
    store<u32>(rankStart + (<usize>w << 2), next)
    next += load<u32>(rankCount + (<usize>w << 2)) << (w - 1)
  }
  for (let s: u32 = 0; s <= listed; s++) {
    const w = <u32>load<u8>(weights + <usize>s)
    if (w == 0) continue
    const at = load<u32>(rankStart + (<usize>w << 2))
    const len = <u32>1 << (w - 1)
    const e = <u16>(s | ((bits + 1 - w) << 8))
    for (let i: u32 = 0; i < len; i++) store<u16>(table + (<usize>(at + i) << 1), e)
    store<u32>(rankStart + (<usize>w << 2), at + len)
  }
  huffmanBits = bits
  return <i32>taken
}

/**
 * Decodes the rest of a stream symbol by symbol from its current state (ptr, bits, used) to
 * [op, end), reloading as its start nears; the stream must end exactly there.
 */
function finishStream(start: usize, ptr: usize, bits: u64, used: u32, op: usize, end: usize): i32 {
  const shift = <u64>(64 - huffmanBits)
  while (true) {
    if (used > 64) return E.ERR_ZSTD_HUFFMAN
    if (ptr >= start + 8) {
      ptr -= used >> 3
      used &= 7
      bits = load<u64>(ptr)
    } else if (ptr > start) {
      let n = <usize>(used >> 3)
      if (n > ptr - start) n = ptr - start
      ptr -= n
      used -= <u32>n << 3
      bits = load<u64>(ptr)
    }
    if (op >= end) break
    const e = <u32>load<u16>(table + <usize>(((bits << <u64>used) >> shift) << 1))
    store<u8>(op++, <u8>e)
    used += e >> 8
  }
  return ptr == start && used == 64 ? 0 : E.ERR_ZSTD_HUFFMAN
}

/**
 * Decodes exactly `count` symbols from the backward bitstream [src, src+size) to dst with the
 * current table; the stream must end exactly there. Returns 0 or ERR_ZSTD_HUFFMAN.
 */
export function decodeHuffmanStream(src: usize, size: usize, dst: usize, count: usize): i32 {
  if (!bitsInit(src, size)) return E.ERR_ZSTD_HUFFMAN
  let bits = brBits
  let used = brConsumed
  let ptr = brPtr
  const shift = <u64>(64 - huffmanBits)
  let op = dst
  const end = dst + count
  // Four symbols of at most 11 bits per reload while whole bytes can be loaded.
  while (end - op >= 4 && ptr >= src + 8) {
    ptr -= used >> 3
    used &= 7
    bits = load<u64>(ptr)
    for (let k = 0; k < 4; k++) {
      const e = <u32>load<u16>(table + <usize>(((bits << <u64>used) >> shift) << 1))
      store<u8>(op + <usize>k, <u8>e)
      used += e >> 8
    }
    op += 4
  }
  return finishStream(src, ptr, bits, used, op, end)
}

/**
 * Decodes four streams (sizes s1..s4 from src) into the four quarters of [dst, dst+count):
 * each of the first three regenerates `quarter` symbols, the last the rest. The streams are
 * independent, so they are decoded interleaved while all have whole bytes to load.
 */
export function decodeHuffmanStreams4(src: usize, s1: usize, s2: usize, s3: usize, s4: usize, dst: usize, quarter: usize, count: usize): i32 {
  if (!bitsInit(src, s1)) return E.ERR_ZSTD_HUFFMAN
  const start1 = src
  let bits1 = brBits
  let used1 = brConsumed
  let ptr1 = brPtr
  if (!bitsInit(src + s1, s2)) return E.ERR_ZSTD_HUFFMAN
  const start2 = src + s1
  let bits2 = brBits
  let used2 = brConsumed
  let ptr2 = brPtr
  if (!bitsInit(src + s1 + s2, s3)) return E.ERR_ZSTD_HUFFMAN
  const start3 = src + s1 + s2
  let bits3 = brBits
  let used3 = brConsumed
  let ptr3 = brPtr
  if (!bitsInit(src + s1 + s2 + s3, s4)) return E.ERR_ZSTD_HUFFMAN
  const start4 = src + s1 + s2 + s3
  let bits4 = brBits
  let used4 = brConsumed
  let ptr4 = brPtr
  const shift = <u64>(64 - huffmanBits)
  let op1 = dst
  let op2 = dst + quarter
  let op3 = dst + 2 * quarter
  let op4 = dst + 3 * quarter
  const end4 = dst + count
  let e: u32
  // The fourth stream is the shortest: while it has 4 symbols left, so do the others.
  while (end4 - op4 >= 4 && ptr1 >= start1 + 8 && ptr2 >= start2 + 8 && ptr3 >= start3 + 8 && ptr4 >= start4 + 8) {
    ptr1 -= used1 >> 3
    used1 &= 7
    bits1 = load<u64>(ptr1)
    ptr2 -= used2 >> 3
    used2 &= 7
    bits2 = load<u64>(ptr2)
    ptr3 -= used3 >> 3
    used3 &= 7
    bits3 = load<u64>(ptr3)
    ptr4 -= used4 >> 3
    used4 &= 7
    bits4 = load<u64>(ptr4)
    e = <u32>load<u16>(table + <usize>(((bits1 << <u64>used1) >> shift) << 1))
    store<u8>(op1, <u8>e, 0)
    used1 += e >> 8
    e = <u32>load<u16>(table + <usize>(((bits2 << <u64>used2) >> shift) << 1))
    store<u8>(op2, <u8>e, 0)
    used2 += e >> 8
    e = <u32>load<u16>(table + <usize>(((bits3 << <u64>used3) >> shift) << 1))
    store<u8>(op3, <u8>e, 0)
    used3 += e >> 8
    e = <u32>load<u16>(table + <usize>(((bits4 << <u64>used4) >> shift) << 1))
    store<u8>(op4, <u8>e, 0)
    used4 += e >> 8
    e = <u32>load<u16>(table + <usize>(((bits1 << <u64>used1) >> shift) << 1))
    store<u8>(op1, <u8>e, 1)
    used1 += e >> 8
    e = <u32>load<u16>(table + <usize>(((bits2 << <u64>used2) >> shift) << 1))
    store<u8>(op2, <u8>e, 1)
    used2 += e >> 8
    e = <u32>load<u16>(table + <usize>(((bits3 << <u64>used3) >> shift) << 1))
    store<u8>(op3, <u8>e, 1)
    used3 += e >> 8
    e = <u32>load<u16>(table + <usize>(((bits4 << <u64>used4) >> shift) << 1))
    store<u8>(op4, <u8>e, 1)
    used4 += e >> 8
    e = <u32>load<u16>(table + <usize>(((bits1 << <u64>used1) >> shift) << 1))
    store<u8>(op1, <u8>e, 2)
    used1 += e >> 8
    e = <u32>load<u16>(table + <usize>(((bits2 << <u64>used2) >> shift) << 1))
    store<u8>(op2, <u8>e, 2)
    used2 += e >> 8
    e = <u32>load<u16>(table + <usize>(((bits3 << <u64>used3) >> shift) << 1))
    store<u8>(op3, <u8>e, 2)
    used3 += e >> 8
    e = <u32>load<u16>(table + <usize>(((bits4 << <u64>used4) >> shift) << 1))
    store<u8>(op4, <u8>e, 2)
    used4 += e >> 8
    e = <u32>load<u16>(table + <usize>(((bits1 << <u64>used1) >> shift) << 1))
    store<u8>(op1, <u8>e, 3)
    used1 += e >> 8
    e = <u32>load<u16>(table + <usize>(((bits2 << <u64>used2) >> shift) << 1))
    store<u8>(op2, <u8>e, 3)
    used2 += e >> 8
    e = <u32>load<u16>(table + <usize>(((bits3 << <u64>used3) >> shift) << 1))
    store<u8>(op3, <u8>e, 3)
    used3 += e >> 8
    e = <u32>load<u16>(table + <usize>(((bits4 << <u64>used4) >> shift) << 1))
    store<u8>(op4, <u8>e, 3)
    used4 += e >> 8
    op1 += 4
    op2 += 4
    op3 += 4
    op4 += 4
  }
  let rc = finishStream(start1, ptr1, bits1, used1, op1, dst + quarter)
  if (rc == 0) rc = finishStream(start2, ptr2, bits2, used2, op2, dst + 2 * quarter)
  if (rc == 0) rc = finishStream(start3, ptr3, bits3, used3, op3, dst + 3 * quarter)
  if (rc == 0) rc = finishStream(start4, ptr4, bits4, used4, op4, end4)
  return rc
}
