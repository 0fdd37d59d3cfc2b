// FSE (tANS) encoding for the zstd encoder: normalizing a histogram to a table of 2^log cells,
// writing it as an FSE table description (RFC 8878 §4.1.1), building the encoding table
// (the decoder's symbol spread, inverted) and coding symbols through a state. Tables live in
// static slots (`ctableAt(id)`); nothing allocates.
import { bitsAddFast } from './zstd-bits-encode'

/** The largest accuracy any zstd FSE table uses (literal and match lengths: 9). */
export const FSE_LOG_MAX: u32 = 9
const FSE_LOG_MIN: u32 = 5
/** Symbols an encoding table holds: match length codes 0..52 are the most. */
export const FSE_SYMBOLS_MAX: u32 = 64

// One encoding table: its log (u32), per symbol {deltaFindState: i32, deltaNbBits: u32}, then
// the next-state table (u16 per cell).
const CT_LOG: usize = 0
const CT_SYMBOLS: usize = 8
const CT_STATES: usize = CT_SYMBOLS + <usize>FSE_SYMBOLS_MAX * 8
const CT_BYTES: usize = CT_STATES + (<usize>2 << FSE_LOG_MAX)
export const CT_LL_PREDEFINED: u32 = 0
export const CT_OF_PREDEFINED: u32 = 1
export const CT_ML_PREDEFINED: u32 = 2
export const CT_LL: u32 = 3
export const CT_OF: u32 = 4
export const CT_ML: u32 = 5
export const CT_HUF_WEIGHTS: u32 = 6
const CT_COUNT: u32 = 7
const CTABLES: usize = memory.data(<i32>(CT_BYTES * CT_COUNT), 16)
// Building scratch: the symbol at each cell, and each symbol's next free state.
const SPREAD: usize = memory.data(1 << FSE_LOG_MAX, 16)
const CUMUL: usize = memory.data(<i32>(FSE_SYMBOLS_MAX + 1) * 4, 16)

// @ts-ignore: decorator
@inline export function ctableAt(id: u32): usize {
  return CTABLES + <usize>id * CT_BYTES
}

// @ts-ignore: decorator
@inline export function ctableLog(ct: usize): u32 {
  return load<u32>(ct, CT_LOG)
}

// @ts-ignore: decorator
@inline function highbit(v: u32): u32 {
  return 31 - clz<u32>(v)
}

/**
 * The accuracy to normalize `total` samples of symbols 0..maxSym to: small for few samples
 * (a big table costs more to describe than it saves), at most `maxLog` (the reference
 * library's FSE_optimalTableLog).
 */
export function fseTableLog(maxLog: u32, total: u32, maxSym: u32): u32 {
  let log = maxLog
  const maxBitsSrc = highbit(total - 1) - 2
  const minBits = min(highbit(total) + 1, highbit(max<u32>(maxSym, 1)) + 2)
  if (maxBitsSrc < log) log = maxBitsSrc
  if (minBits > log) log = minBits
  return min(max(log, FSE_LOG_MIN), maxLog)
}

/**
 * Normalizes the histogram counts[0..maxSym] (u32 each, summing to `total`) to i16 norm[]
 * summing to 2^log, every present symbol at least 1. The caller guarantees at least two
 * symbols are present and 2^log exceeds their number.
 */
export function fseNormalize(counts: usize, maxSym: u32, total: u32, log: u32, norm: usize): void {
  const size: i32 = 1 << log
  let sum: i32 = 0
  let largest: u32 = 0
  let largestCount: u32 = 0
  for (let s: u32 = 0; s <= maxSym; s++) {
    const c = load<u32>(counts + (<usize>s << 2))
    let n: i32 = 0
    if (c != 0) {
      n = max<i32>(1, <i32>((<u64>c * <u64>size + (<u64>total >> 1)) / <u64>total))
      if (c > largestCount) {
        largestCount = c
        largest = s
      }
    }
    store<i16>(norm + (<usize>s << 1), <i16>n)
    sum += n
  }
  // Rounding leaves the sum off by a little: the most probable symbol absorbs it when it can;
  // else cells come off the symbols with the most, one at a time.
  const fix = size - sum
  const big = norm + (<usize>largest << 1)
  if (<i32>load<i16>(big) + fix >= 1) {
    store<i16>(big, <i16>(<i32>load<i16>(big) + fix))
    return
  }
  while (sum > size) {
    let at: u32 = 0
    let most: i32 = 0
    for (let s: u32 = 0; s <= maxSym; s++) {
      const n = <i32>load<i16>(norm + (<usize>s << 1))
      if (n > most) {
        most = n
        at = s
      }
    }
    store<i16>(norm + (<usize>at << 1), <i16>(most - 1))
    sum--
  }
}

/**
 * Estimated bits to code the histogram counts[0..maxSym] with the distribution norm (at
 * `log`), or -1 if norm gives a present symbol no cell.
 */
export function fseCostBits(counts: usize, maxSym: u32, norm: usize, normSymbols: u32, log: u32): f64 {
  let bits: f64 = 0
  for (let s: u32 = 0; s <= maxSym; s++) {
    const c = load<u32>(counts + (<usize>s << 2))
    if (c == 0) continue
    if (s >= normSymbols) return -1
    let n = <i32>load<i16>(norm + (<usize>s << 1))
    if (n == 0) return -1
    if (n < 0) n = 1
    bits += <f64>c * (<f64>log - Math.log2(<f64>n))
  }
  return bits
}

/**
 * Writes norm[0..maxSym] at `log` as an FSE table description at op (RFC 8878 §4.1.1);
 * returns the position after it.
 */
export function fseWriteTable(op: usize, norm: usize, maxSym: u32, log: u32): usize {
  const size: i32 = 1 << log
  let bitStream: u32 = log - FSE_LOG_MIN
  let bitCount: u32 = 4
  let remaining: i32 = size + 1
  let threshold: i32 = size
  let nbBits: u32 = log + 1
  let symbol: u32 = 0
  let previousIs0 = false
  while (symbol <= maxSym && remaining > 1) {
    if (previousIs0) {
      let start = symbol
      while (symbol <= maxSym && load<i16>(norm + (<usize>symbol << 1)) == 0) symbol++
      while (symbol >= start + 24) {
        start += 24
        bitStream += <u32>0xffff << bitCount
        store<u16>(op, <u16>bitStream)
        op += 2
        bitStream >>= 16
      }
      while (symbol >= start + 3) {
        start += 3
        bitStream += <u32>3 << bitCount
        bitCount += 2
      }
      bitStream += (symbol - start) << bitCount
      bitCount += 2
      if (bitCount > 16) {
        store<u16>(op, <u16>bitStream)
        op += 2
        bitStream >>= 16
        bitCount -= 16
      }
    }
    let count = <i32>load<i16>(norm + (<usize>symbol << 1))
    symbol++
    const maxValue = 2 * threshold - 1 - remaining
    remaining -= count < 0 ? -count : count
    count++ // the format codes probability + 1 (so "less than 1", -1, is 0)
    if (count >= threshold) count += maxValue
    bitStream += <u32>count << bitCount
    bitCount += nbBits
    if (count < maxValue) bitCount--
    previousIs0 = count == 1
    while (remaining < threshold) {
      nbBits--
      threshold >>= 1
    }
    if (bitCount > 16) {
      store<u16>(op, <u16>bitStream)
      op += 2
      bitStream >>= 16
      bitCount -= 16
    }
  }
  store<u16>(op, <u16>bitStream)
  return op + ((bitCount + 7) >> 3)
}

/**
 * Builds the encoding table `ct` for norm[0..maxSym] at `log`: the same spread of symbols
 * over cells as the decoder's (RFC 8878 §4.1.1), and for each symbol where its states start.
 */
export function fseBuildTable(ct: usize, norm: usize, maxSym: u32, log: u32): void {
  const size: u32 = 1 << log
  const mask = size - 1
  const step = (size >> 1) + (size >> 3) + 3
  let high = size - 1
  store<u32>(ct, log, CT_LOG)
  // "Less than 1" symbols take the last cells; the others are spread with the format's step.
  store<u32>(CUMUL, 0)
  for (let s: u32 = 0; s <= maxSym; s++) {
    const n = <i32>load<i16>(norm + (<usize>s << 1))
    const before = load<u32>(CUMUL + (<usize>s << 2))
    if (n == -1) {
      store<u8>(SPREAD + high--, <u8>s)
      store<u32>(CUMUL + (<usize>(s + 1) << 2), before + 1)
    } else {
      store<u32>(CUMUL + (<usize>(s + 1) << 2), before + <u32>n)
    }
  }
  let position: u32 = 0
  for (let s: u32 = 0; s <= maxSym; s++) {
    const n = <i32>load<i16>(norm + (<usize>s << 1))
    for (let i: i32 = 0; i < n; i++) {
      store<u8>(SPREAD + position, <u8>s)
      do position = (position + step) & mask
      while (position > high)
    }
  }
  // Next states: each symbol's cells, in cell order, numbered from its cumulative start.
  const states = ct + CT_STATES
  for (let u: u32 = 0; u < size; u++) {
    const s = <usize>load<u8>(SPREAD + u)
    const at = load<u32>(CUMUL + (s << 2))
    store<u32>(CUMUL + (s << 2), at + 1)
    store<u16>(states + (<usize>at << 1), <u16>(size + u))
  }
  let total: i32 = 0
  for (let s: u32 = 0; s <= maxSym; s++) {
    const n = <i32>load<i16>(norm + (<usize>s << 1))
    const sym = ct + CT_SYMBOLS + (<usize>s << 3)
    if (n == 0) {
      store<i32>(sym, 0)
      store<u32>(sym, ((log + 1) << 16) - size, 4)
    } else if (n == 1 || n == -1) {
      store<i32>(sym, total - 1)
      store<u32>(sym, (log << 16) - size, 4)
      total++
    } else {
      const maxBitsOut = log - highbit(<u32>n - 1)
      const minStatePlus = <u32>n << maxBitsOut
      store<i32>(sym, total - n)
      store<u32>(sym, (maxBitsOut << 16) - minStatePlus, 4)
      total += n
    }
  }
}

/** The first state, for the last symbol coded (which is decoded first): writes no bits. */
// @ts-ignore: decorator
@inline export function fseInitState(ct: usize, s: u32): u32 {
  const sym = ct + CT_SYMBOLS + (<usize>s << 3)
  const deltaNbBits = load<u32>(sym, 4)
  const nbBits = (deltaNbBits + (1 << 15)) >> 16
  const value = (nbBits << 16) - deltaNbBits
  return <u32>load<u16>(ct + CT_STATES + (<usize>(<i32>(value >> nbBits) + load<i32>(sym)) << 1))
}

/** Codes symbol s from `state`: writes the state's low bits, returns the next state. */
// @ts-ignore: decorator
@inline export function fseEncode(ct: usize, state: u32, s: u32): u32 {
  const sym = ct + CT_SYMBOLS + (<usize>s << 3)
  const nbBits = (state + load<u32>(sym, 4)) >> 16
  bitsAddFast(<u64>(state & ((1 << nbBits) - 1)), nbBits)
  return <u32>load<u16>(ct + CT_STATES + (<usize>(<i32>(state >> nbBits) + load<i32>(sym)) << 1))
}

/** Ends a state's coding: writes the state the decoder starts from (log bits). */
// @ts-ignore: decorator
@inline export function fseFlushState(ct: usize, state: u32): void {
  const log = load<u32>(ct, CT_LOG)
  bitsAddFast(<u64>(state & ((1 << log) - 1)), log)
}
