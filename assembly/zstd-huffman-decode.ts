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
 * Decodes exactly `count` symbols from the backward bitstream [src, src+size) to dst with the
 * current table; the stream must end exactly there. Returns 0 or ERR_ZSTD_HUFFMAN.
 */
export function decodeHuffmanStream(src: usize, size: usize, dst: usize, count: usize): i32 {
  if (!bitsInit(src, size)) return E.ERR_ZSTD_HUFFMAN
  let bits = brBits
  let consumed = brConsumed
  let ptr = brPtr
  const shift = <u64>(64 - huffmanBits)
  let op = dst
  const end = dst + count
  // Four symbols of at most 11 bits per reload while whole bytes can be loaded.
  while (end - op >= 4 && ptr >= src + 8) {
    ptr -= consumed >> 3
    consumed &= 7
    bits = load<u64>(ptr)
    let e = <u32>load<u16>(table + <usize>(((bits << <u64>consumed) >> shift) << 1))
    store<u8>(op, <u8>e)
    consumed += e >> 8
    e = <u32>load<u16>(table + <usize>(((bits << <u64>consumed) >> shift) << 1))
    store<u8>(op, <u8>e, 1)
    consumed += e >> 8
    e = <u32>load<u16>(table + <usize>(((bits << <u64>consumed) >> shift) << 1))
    store<u8>(op, <u8>e, 2)
    consumed += e >> 8
    e = <u32>load<u16>(table + <usize>(((bits << <u64>consumed) >> shift) << 1))
    store<u8>(op, <u8>e, 3)
    consumed += e >> 8
    op += 4
  }
  // The rest one symbol at a time, reloading as the start of the stream nears.
  while (true) {
    if (consumed > 64) return E.ERR_ZSTD_HUFFMAN
    if (ptr >= src + 8) {
      ptr -= consumed >> 3
      consumed &= 7
      bits = load<u64>(ptr)
    } else if (ptr > src) {
      let n = <usize>(consumed >> 3)
      if (n > ptr - src) n = ptr - src
      ptr -= n
      consumed -= <u32>n << 3
      bits = load<u64>(ptr)
    }
    if (op >= end) break
    const e = <u32>load<u16>(table + <usize>(((bits << <u64>consumed) >> shift) << 1))
    store<u8>(op++, <u8>e)
    consumed += e >> 8
  }
  return ptr == src && consumed == 64 ? 0 : E.ERR_ZSTD_HUFFMAN
}
