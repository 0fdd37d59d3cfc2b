// FSE (tANS) decoding tables for zstd (RFC 8878 §4.1): reads a table description (the
// normalized counts, §4.1.1) and builds the decoding table from it, or from a predefined
// distribution. One entry format serves the Huffman weights and the three sequence codes,
// so the sequence loop gets each code's baseline and extra-bit count in the same load:
//   bits 0-15 next-state base, 16-23 extra bits to read, 24-31 state bits, 32-63 baseline.
import * as E from './errors'
import { highbit } from './zstd-bits'
import { LL_BASELINE, LL_BITS, ML_BASELINE, ML_BITS } from './zstd-spec'

/** What a table's symbols stand for, so which baselines its entries carry. */
export const KIND_PLAIN: u32 = 0 // Huffman weights: the baseline is the symbol
export const KIND_LL: u32 = 1
export const KIND_ML: u32 = 2
export const KIND_OF: u32 = 3

/** Symbols of any FSE table zstd uses: the match length codes 0..52 are the most. */
const SYMBOLS_MAX: usize = 64
/** Cells of the largest table (accuracy log 9). */
export const TABLE_CELLS_MAX: usize = 512
const ENTRY_BYTES: usize = 8

const counts = memory.data(<i32>SYMBOLS_MAX * 2, 8) // i16 normalized counts, -1 = "less than 1"
const symbolNext = memory.data(<i32>SYMBOLS_MAX * 2, 8) // u16 per symbol while building
const cellSymbol = memory.data(<i32>TABLE_CELLS_MAX, 8) // u8 per cell while building

/** Accuracy log and symbol count of the description readCounts read last. */
export let countsLog: u32 = 0
export let countsSymbols: u32 = 0

/** Up to 25 bits at bit position `bit` of [src, end), zeros past the end (read forward). */
function peekForward(src: usize, end: usize, bit: usize): u32 {
  const p = src + (bit >> 3)
  let v: u32 = 0
  if (p + 4 <= end) {
    v = load<u32>(p)
  } else {
    for (let i: usize = 0; i < 4 && p + i < end; i++) v |= <u32>load<u8>(p + i) << (<u32>i << 3)
  }
  return v >> <u32>(bit & 7)
}

/**
 * Reads an FSE table description from [src, src+size) (§4.1.1) for symbols 0..maxSymbol and
 * an accuracy log of at most maxLog. Returns the bytes it takes, or ERR_ZSTD_FSE_TABLE.
 */
export function readCounts(src: usize, size: usize, maxSymbol: u32, maxLog: u32): i32 {
  if (size == 0) return E.ERR_ZSTD_TRUNCATED
  const end = src + size
  const log = (peekForward(src, end, 0) & 15) + 5
  if (log > maxLog) return E.ERR_ZSTD_FSE_TABLE
  memory.fill(counts, 0, SYMBOLS_MAX * 2)
  const tableSize: i32 = 1 << log
  let remaining: i32 = tableSize + 1
  let threshold: i32 = tableSize
  let nbBits: u32 = log + 1
  let bit: usize = 4
  let symbol: u32 = 0
  let previousZero = false
  const bitLimit = size << 3
  while (remaining > 1) {
    if (previousZero) {
      // Two-bit repeat flags: that many more zero counts, 3 meaning "and more flags follow".
      let repeat: u32
      do {
        repeat = peekForward(src, end, bit) & 3
        bit += 2
        symbol += repeat
        if (symbol > maxSymbol || bit > bitLimit) return E.ERR_ZSTD_FSE_TABLE
      } while (repeat == 3)
    }
    if (symbol > maxSymbol) return E.ERR_ZSTD_FSE_TABLE
    const v = <i32>peekForward(src, end, bit)
    const max = 2 * threshold - 1 - remaining
    let count: i32
    if ((v & (threshold - 1)) < max) {
      count = v & (threshold - 1)
      bit += nbBits - 1
    } else {
      count = v & (2 * threshold - 1)
      if (count >= threshold) count -= max
      bit += nbBits
    }
    count--
    remaining -= count < 0 ? -count : count
    if (remaining < 1 || bit > bitLimit) return E.ERR_ZSTD_FSE_TABLE
    store<i16>(counts + (<usize>symbol << 1), <i16>count)
    symbol++
    previousZero = count == 0
    while (remaining < threshold) {
      nbBits--
      threshold >>= 1
    }
  }
  countsLog = log
  countsSymbols = symbol
  return <i32>((bit + 7) >> 3)
}

/** Loads a predefined distribution (RFC order, -1 for "less than 1") as the counts to build from. */
export function setCounts(dist: StaticArray<i16>, log: u32): void {
  memory.fill(counts, 0, SYMBOLS_MAX * 2)
  const n = dist.length
  for (let i = 0; i < n; i++) store<i16>(counts + (<usize>i << 1), unchecked(dist[i]))
  countsLog = log
  countsSymbols = <u32>n
}

// @ts-ignore: decorator
@inline function entry(nextBase: u32, extraBits: u32, stateBits: u32, baseline: u32): u64 {
  return <u64>(nextBase | (extraBits << 16) | (stateBits << 24)) | (<u64>baseline << 32)
}

/** The baseline and extra bits a symbol of `kind` decodes to, packed as an entry without state. */
function symbolValue(kind: u32, s: u32): u64 {
  if (kind == KIND_LL) return entry(0, <u32>unchecked(LL_BITS[s]), 0, unchecked(LL_BASELINE[s]))
  if (kind == KIND_ML) return entry(0, <u32>unchecked(ML_BITS[s]), 0, unchecked(ML_BASELINE[s]))
  if (kind == KIND_OF) return entry(0, s, 0, <u32>1 << s)
  return entry(0, 0, 0, s)
}

/**
 * Builds the decoding table for the counts read or set last (§4.1.1: spread the symbols,
 * then number each symbol's cells) at dst, room TABLE_CELLS_MAX entries. Returns 0 or
 * ERR_ZSTD_FSE_TABLE when the counts do not fill the table exactly.
 */
export function buildTable(dst: usize, kind: u32): i32 {
  const log = countsLog
  const size: u32 = 1 << log
  const mask = size - 1
  let high: i32 = <i32>size - 1
  const n = countsSymbols
  // "Less than 1" symbols take one cell each at the top of the table.
  for (let s: u32 = 0; s < n; s++) {
    const c = <i32>load<i16>(counts + (<usize>s << 1))
    if (c == -1) {
      if (high < 0) return E.ERR_ZSTD_FSE_TABLE
      store<u8>(cellSymbol + <usize>high, <u8>s)
      high--
      store<u16>(symbolNext + (<usize>s << 1), 1)
    } else {
      store<u16>(symbolNext + (<usize>s << 1), <u16>c)
    }
  }
  const step = (size >> 1) + (size >> 3) + 3
  let pos: u32 = 0
  for (let s: u32 = 0; s < n; s++) {
    const c = <i32>load<i16>(counts + (<usize>s << 1))
    for (let i = 0; i < c; i++) {
      store<u8>(cellSymbol + <usize>pos, <u8>s)
      do pos = (pos + step) & mask
      while (<i32>pos > high)
    }
  }
  if (pos != 0) return E.ERR_ZSTD_FSE_TABLE
  for (let u: u32 = 0; u < size; u++) {
    const s = <u32>load<u8>(cellSymbol + <usize>u)
    const at = symbolNext + (<usize>s << 1)
    const x = <u32>load<u16>(at)
    store<u16>(at, <u16>(x + 1))
    const bits = log - highbit(x)
    const nextBase = (x << bits) - size
    store<u64>(dst + <usize>u * ENTRY_BYTES, symbolValue(kind, s) | entry(nextBase, 0, bits, 0))
  }
  return 0
}

/** A one-cell table (accuracy 0) that always decodes `s`: the RLE mode. */
export function buildRleTable(dst: usize, kind: u32, s: u32): void {
  store<u64>(dst, symbolValue(kind, s))
}
