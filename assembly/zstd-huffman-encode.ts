// The literals section of a zstd compressed block (RFC 8878 §3.1.1.3.1): raw, RLE (one byte
// repeated), or Huffman-coded with the code's weights written directly or FSE-compressed.
// Huffman code lengths come from an in-place minimum-redundancy construction, limited to 11
// bits; the codes are zstd's canonical ones (longest first, by symbol within a length).
import { HUFFMAN_BITS_MAX, HUFFMAN_WEIGHTS_ACCURACY_MAX, LITERALS_COMPRESSED, LITERALS_RAW, LITERALS_RLE } from './zstd-spec'
import { bitsAddFast, bitsClose, bitsFlush, bitsOpen } from './zstd-bits-encode'
import { CT_HUF_WEIGHTS, ctableAt, fseBuildTable, fseEncode, fseFlushState, fseInitState, fseNormalize, fseTableLog, fseWriteTable } from './zstd-fse-encode'

// Below this many literals a Huffman table costs more than it saves (the reference library's
// threshold is close: 63).
const HUFFMAN_LITERALS_MIN: usize = 64
// Fewer literals than this go in one Huffman stream; more in four (RFC 8878 §3.1.1.3.1.6).
const SINGLE_STREAM_MAX: usize = 255
// Direct weights (4 bits each) describe at most 128 of them.
const DIRECT_WEIGHTS_MAX: u32 = 128
// An FSE-compressed weights description is at most 127 bytes (its header byte is < 128).
const FSE_WEIGHTS_BYTES_MAX: usize = 127

const HIST: usize = memory.data(256 * 4, 16)
const ORDER: usize = memory.data(256 * 4, 16) // present symbols by ascending count
const DEPTH: usize = memory.data(256 * 4, 16) // in-place Huffman work, then code lengths
const LENGTH: usize = memory.data(256, 16) // code length per symbol, 0 if absent
const CODE: usize = memory.data(256 * 2, 16)
const WEIGHTS: usize = memory.data(256, 16)
const PER_LENGTH: usize = memory.data(32 * 4, 16) // codes per length
const NEXT_CODE: usize = memory.data(32 * 4, 16)
const WEIGHT_COUNTS: usize = memory.data(16 * 4, 16)
const WEIGHT_NORM: usize = memory.data(16 * 2, 16)

/** Writes the literals [lit, lit+n) as a literals section at op; returns the position after it. */
export function writeLiterals(op: usize, lit: usize, n: usize): usize {
  memory.fill(HIST, 0, 256 * 4)
  for (let i: usize = 0; i < n; i++) {
    const at = HIST + (<usize>load<u8>(lit + i) << 2)
    store<u32>(at, load<u32>(at) + 1)
  }
  if (n > 1 && load<u32>(HIST + (<usize>load<u8>(lit) << 2)) == <u32>n) {
    op = writeRawHeader(op, LITERALS_RLE, n)
    store<u8>(op, load<u8>(lit))
    return op + 1
  }
  if (n >= HUFFMAN_LITERALS_MIN) {
    const end = writeHuffman(op, lit, n)
    if (end != 0) return end
  }
  op = writeRawHeader(op, LITERALS_RAW, n)
  memory.copy(op, lit, n)
  return op + n
}

/** The header of a raw or RLE literals section (1, 2 or 3 bytes by size). */
function writeRawHeader(op: usize, type: u32, n: usize): usize {
  const size = <u32>n
  if (size <= 31) {
    store<u8>(op, <u8>(type | (size << 3)))
    return op + 1
  }
  if (size <= 4095) {
    store<u16>(op, <u16>(type | (1 << 2) | (size << 4)))
    return op + 2
  }
  const v = type | (3 << 2) | (size << 4)
  store<u16>(op, <u16>v)
  store<u8>(op, <u8>(v >> 16), 2)
  return op + 3
}

/**
 * Huffman-codes the literals at op (header, weights, streams). Returns the position after
 * them, or 0 when that would not be smaller than raw literals.
 */
function writeHuffman(op: usize, lit: usize, n: usize): usize {
  let maxSym: u32 = 255
  while (load<u32>(HIST + (<usize>maxSym << 2)) == 0) maxSym--
  const maxBits = buildLengths(maxSym)
  buildCodes(maxSym, maxBits)
  const single = n <= SINGLE_STREAM_MAX
  const headerBytes: usize = n <= 1023 ? 3 : n <= 16383 ? 4 : 5
  const rawBytes: usize = n + (n <= 31 ? 1 : n <= 4095 ? 2 : 3)
  // Estimate first: skip the work when the code cannot win.
  let bits: u64 = 0
  for (let s: u32 = 0; s <= maxSym; s++) {
    bits += <u64>load<u32>(HIST + (<usize>s << 2)) * <u64>load<u8>(LENGTH + s)
  }
  if (<usize>(bits >> 3) + headerBytes + 16 >= rawBytes) return 0
  let ip = op + headerBytes
  const weightsEnd = writeWeights(ip, maxSym, maxBits)
  if (weightsEnd == 0) return 0
  ip = weightsEnd
  if (single) {
    ip = writeStream(ip, lit, n)
  } else {
    const segment = (n + 3) >> 2
    const jump = ip
    ip += 6
    for (let k: usize = 0; k < 4; k++) {
      const start = ip
      ip = writeStream(ip, lit + k * segment, k < 3 ? segment : n - 3 * segment)
      if (k < 3) store<u16>(jump + (k << 1), <u16>(ip - start))
    }
  }
  const compressed = ip - op - headerBytes
  if (ip - op >= rawBytes) return 0
  // Header: type, size format, regenerated size, compressed size (10, 14 or 18 bits each).
  const sizeBits: u64 = headerBytes == 3 ? 10 : headerBytes == 4 ? 14 : 18
  const format: u64 = headerBytes == 3 ? (single ? 0 : 1) : headerBytes == 4 ? 2 : 3
  const header: u64 = <u64>LITERALS_COMPRESSED | (format << 2) | (<u64>n << 4) | (<u64>compressed << (4 + sizeBits))
  for (let b: usize = 0; b < headerBytes; b++) store<u8>(op + b, <u8>(header >> (<u64>b << 3)))
  return ip
}

/** One Huffman stream of [src, src+n), symbols coded last to first (the decoder reads forward). */
function writeStream(op: usize, src: usize, n: usize): usize {
  bitsOpen(op)
  let i = n
  while (i & 3) {
    i--
    putSymbol(load<u8>(src + i))
  }
  bitsFlush()
  while (i > 0) {
    i -= 4
    putSymbol(load<u8>(src + i + 3))
    putSymbol(load<u8>(src + i + 2))
    putSymbol(load<u8>(src + i + 1))
    putSymbol(load<u8>(src + i))
    bitsFlush()
  }
  return bitsClose()
}

// @ts-ignore: decorator
@inline function putSymbol(s: u8): void {
  bitsAddFast(<u64>load<u16>(CODE + (<usize>s << 1)), <u32>load<u8>(LENGTH + <usize>s))
}

/**
 * Code lengths for the histogram's symbols 0..maxSym (at least two present), at most 11
 * bits, into LENGTH. Returns the longest.
 */
function buildLengths(maxSym: u32): u32 {
  // Present symbols sorted by ascending count (insertion sort: at most 256, once per block).
  let n: i32 = 0
  for (let s: u32 = 0; s <= maxSym; s++) {
    const c = load<u32>(HIST + (<usize>s << 2))
    if (c == 0) continue
    let j = n++
    while (j > 0 && load<u32>(HIST + (<usize>load<u32>(ORDER + (<usize>(j - 1) << 2)) << 2)) > c) {
      store<u32>(ORDER + (<usize>j << 2), load<u32>(ORDER + (<usize>(j - 1) << 2)))
      j--
    }
    store<u32>(ORDER + (<usize>j << 2), s)
  }
  for (let i: i32 = 0; i < n; i++) {
    store<i32>(DEPTH + (<usize>i << 2), <i32>load<u32>(HIST + (<usize>load<u32>(ORDER + (<usize>i << 2)) << 2)))
  }
  minimumRedundancy(DEPTH, n)
  // DEPTH[i] is now the length for ORDER[i] (non-increasing in i). Count per length, folding
  // lengths over the limit into it, then lengthen codes until the lengths fit (Kraft sum).
  const perLength = PER_LENGTH
  memory.fill(perLength, 0, 32 * 4)
  let longest: u32 = 0
  for (let i: i32 = 0; i < n; i++) {
    const d = min<u32>(<u32>load<i32>(DEPTH + (<usize>i << 2)), 31)
    store<u32>(perLength + (<usize>d << 2), load<u32>(perLength + (<usize>d << 2)) + 1)
    if (d > longest) longest = d
  }
  if (longest > HUFFMAN_BITS_MAX) {
    const limit = HUFFMAN_BITS_MAX
    for (let d: u32 = limit + 1; d <= longest; d++) {
      store<u32>(perLength + (<usize>limit << 2), load<u32>(perLength + (<usize>limit << 2)) + load<u32>(perLength + (<usize>d << 2)))
      store<u32>(perLength + (<usize>d << 2), 0)
    }
    let kraft: u32 = 0
    for (let d: u32 = limit; d > 0; d--) kraft += load<u32>(perLength + (<usize>d << 2)) << (limit - d)
    while (kraft != (<u32>1 << limit)) {
      store<u32>(perLength + (<usize>limit << 2), load<u32>(perLength + (<usize>limit << 2)) - 1)
      for (let d: u32 = limit - 1; d > 0; d--) {
        const c = load<u32>(perLength + (<usize>d << 2))
        if (c != 0) {
          store<u32>(perLength + (<usize>d << 2), c - 1)
          store<u32>(perLength + (<usize>(d + 1) << 2), load<u32>(perLength + (<usize>(d + 1) << 2)) + 2)
          break
        }
      }
      kraft--
    }
    longest = limit
  }
  // The rarest symbols take the longest codes.
  memory.fill(LENGTH, 0, 256)
  let i: i32 = 0
  for (let d: u32 = longest; d > 0; d--) {
    for (let k = load<u32>(perLength + (<usize>d << 2)); k > 0; k--) {
      store<u8>(LENGTH + <usize>load<u32>(ORDER + (<usize>i << 2)), <u8>d)
      i++
    }
  }
  return longest
}

/**
 * Moffat and Katajainen's in-place minimum-redundancy code: a[0..n) holds ascending weights
 * (n >= 2) and is left holding each one's code length.
 */
// @ts-ignore: decorator
@inline function at(a: usize, i: i32): usize {
  return a + (<usize>i << 2)
}

function minimumRedundancy(a: usize, n: i32): void {
  store<i32>(at(a, 0), load<i32>(at(a, 0)) + load<i32>(at(a, 1)))
  let root: i32 = 0
  let leaf: i32 = 2
  for (let next: i32 = 1; next < n - 1; next++) {
    if (leaf >= n || load<i32>(at(a, root)) < load<i32>(at(a, leaf))) {
      store<i32>(at(a, next), load<i32>(at(a, root)))
      store<i32>(at(a, root++), next)
    } else {
      store<i32>(at(a, next), load<i32>(at(a, leaf++)))
    }
    if (leaf >= n || (root < next && load<i32>(at(a, root)) < load<i32>(at(a, leaf)))) {
      store<i32>(at(a, next), load<i32>(at(a, next)) + load<i32>(at(a, root)))
      store<i32>(at(a, root++), next)
    } else {
      store<i32>(at(a, next), load<i32>(at(a, next)) + load<i32>(at(a, leaf++)))
    }
  }
  store<i32>(at(a, n - 2), 0)
  for (let next = n - 3; next >= 0; next--) store<i32>(at(a, next), load<i32>(at(a, load<i32>(at(a, next)))) + 1)
  let available: i32 = 1
  let used: i32 = 0
  let depth: i32 = 0
  root = n - 2
  let next = n - 1
  while (available > 0) {
    while (root >= 0 && load<i32>(at(a, root)) == depth) {
      used++
      root--
    }
    while (available > used) {
      store<i32>(at(a, next--), depth)
      available--
    }
    available = 2 * used
    depth++
    used = 0
  }
}

/** zstd's canonical codes from LENGTH: longest codes first, from 0, by symbol within a length. */
function buildCodes(maxSym: u32, maxBits: u32): void {
  const perLength = PER_LENGTH
  const next = NEXT_CODE
  memory.fill(perLength, 0, 32 * 4)
  for (let s: u32 = 0; s <= maxSym; s++) {
    const d = <usize>load<u8>(LENGTH + s)
    store<u32>(perLength + (d << 2), load<u32>(perLength + (d << 2)) + 1)
  }
  let value: u32 = 0
  for (let d = maxBits; d > 0; d--) {
    store<u32>(next + (<usize>d << 2), value)
    value = (value + load<u32>(perLength + (<usize>d << 2))) >> 1
  }
  for (let s: u32 = 0; s <= maxSym; s++) {
    const d = <usize>load<u8>(LENGTH + s)
    if (d == 0) continue
    const v = load<u32>(next + (d << 2))
    store<u32>(next + (d << 2), v + 1)
    store<u16>(CODE + (<usize>s << 1), <u16>v)
  }
}

/**
 * The Huffman tree description: weights of symbols 0..maxSym-1 (the last is implied), FSE-
 * compressed when that is smaller, else 4 bits each. Returns the position after it, or 0
 * when neither form can describe it.
 */
function writeWeights(op: usize, maxSym: u32, maxBits: u32): usize {
  for (let s: u32 = 0; s < maxSym; s++) {
    const d = <u32>load<u8>(LENGTH + s)
    store<u8>(WEIGHTS + s, <u8>(d == 0 ? 0 : maxBits + 1 - d))
  }
  const direct: usize = 1 + ((<usize>maxSym + 1) >> 1)
  const compressed = writeWeightsFse(op, maxSym)
  if (compressed != 0 && (maxSym > DIRECT_WEIGHTS_MAX || compressed - op < direct)) return compressed
  if (maxSym > DIRECT_WEIGHTS_MAX) return 0
  store<u8>(op, <u8>(127 + maxSym))
  for (let s: u32 = 0; s < maxSym; s += 2) {
    const hi = <u32>load<u8>(WEIGHTS + s)
    const lo = s + 1 < maxSym ? <u32>load<u8>(WEIGHTS + s + 1) : 0
    store<u8>(op + 1 + (s >> 1), <u8>((hi << 4) | lo))
  }
  return op + direct
}

/**
 * The weights WEIGHTS[0..count) FSE-compressed (header byte, table, two interleaved states).
 * Returns the position after them, or 0 if they do not fit the form.
 */
function writeWeightsFse(op: usize, count: u32): usize {
  if (count < 2) return 0
  memory.fill(WEIGHT_COUNTS, 0, 16 * 4)
  let maxWeight: u32 = 0
  let distinct: u32 = 0
  for (let s: u32 = 0; s < count; s++) {
    const w = <u32>load<u8>(WEIGHTS + s)
    const at = WEIGHT_COUNTS + (<usize>w << 2)
    if (load<u32>(at) == 0) distinct++
    store<u32>(at, load<u32>(at) + 1)
    if (w > maxWeight) maxWeight = w
  }
  if (distinct < 2) return 0
  const log = fseTableLog(HUFFMAN_WEIGHTS_ACCURACY_MAX, count, maxWeight)
  if ((<u32>1 << log) <= distinct) return 0
  fseNormalize(WEIGHT_COUNTS, maxWeight, count, log, WEIGHT_NORM)
  const ct = ctableAt(CT_HUF_WEIGHTS)
  fseBuildTable(ct, WEIGHT_NORM, maxWeight, log)
  let ip = fseWriteTable(op + 1, WEIGHT_NORM, maxWeight, log)
  // Two states, alternating: the decoder starts with state 1 and reads symbol 0 from it.
  bitsOpen(ip)
  let i = count
  let state1: u32
  let state2: u32
  if (i & 1) {
    state1 = fseInitState(ct, load<u8>(WEIGHTS + --i))
    state2 = fseInitState(ct, load<u8>(WEIGHTS + --i))
    state1 = fseEncode(ct, state1, load<u8>(WEIGHTS + --i))
  } else {
    state2 = fseInitState(ct, load<u8>(WEIGHTS + --i))
    state1 = fseInitState(ct, load<u8>(WEIGHTS + --i))
  }
  bitsFlush()
  while (i > 0) {
    state2 = fseEncode(ct, state2, load<u8>(WEIGHTS + --i))
    state1 = fseEncode(ct, state1, load<u8>(WEIGHTS + --i))
    bitsFlush()
  }
  fseFlushState(ct, state2)
  fseFlushState(ct, state1)
  ip = bitsClose()
  const size = ip - op - 1
  if (size > FSE_WEIGHTS_BYTES_MAX) return 0
  store<u8>(op, <u8>size)
  return ip
}
