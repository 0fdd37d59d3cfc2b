// The sequences section of a compressed zstd block (RFC 8878 §3.1.1.3.2, §3.1.2): the
// symbol compression modes and tables for literal lengths, offsets and match lengths, then
// one backward bitstream decoded and executed sequence by sequence straight into the output
// (no sequence buffer). Every literal run, match length and offset is checked against the
// literals left, the output room and the output already written in this frame.
import * as E from './errors'
import { copyMatch } from './copy'
import { bitsInit, brBits, brConsumed, brPtr } from './zstd-bits'
import {
  bump, STAT_REPEAT_OFFSETS, STAT_TABLES_FSE, STAT_TABLES_PREDEFINED, STAT_TABLES_REPEAT, STAT_TABLES_RLE,
} from './zstd-decode-stats'
import {
  buildRleTable, buildTable, KIND_LL, KIND_ML, KIND_OF, readCounts, setCounts, TABLE_CELLS_MAX,
} from './zstd-fse-decode'
import { litReadLimit, litSize, litStart } from './zstd-literals'
import {
  LL_ACCURACY_MAX, LL_CODE_MAX, LL_PREDEFINED, LL_PREDEFINED_ACCURACY, ML_ACCURACY_MAX, ML_CODE_MAX, ML_PREDEFINED,
  ML_PREDEFINED_ACCURACY, MODE_FSE_COMPRESSED, MODE_PREDEFINED, MODE_REPEAT, MODE_RLE, OF_ACCURACY_MAX, OF_CODE_MAX,
  OF_PREDEFINED, OF_PREDEFINED_ACCURACY, REPEAT_OFFSET_1, REPEAT_OFFSET_2, REPEAT_OFFSET_3,
} from './zstd-spec'

const TABLE_BYTES = <i32>TABLE_CELLS_MAX * 8
const PREDEFINED_TABLE_BYTES = 64 * 8
/** Room past the output a 16-byte copy may write, and past the literals it may read. */
const WILD_SLACK: usize = 32

// One table region per code for the tables a block describes, and one per predefined table.
const llDescribed = memory.data(TABLE_BYTES, 16)
const ofDescribed = memory.data(TABLE_BYTES, 16)
const mlDescribed = memory.data(TABLE_BYTES, 16)
const llPredefined = memory.data(PREDEFINED_TABLE_BYTES, 16)
const ofPredefined = memory.data(PREDEFINED_TABLE_BYTES, 16)
const mlPredefined = memory.data(PREDEFINED_TABLE_BYTES, 16)
let predefinedBuilt = false

// The tables in use (0: none yet in this frame) and their accuracy logs; the repeat mode
// takes them into the next block.
let llTable: usize = 0
let ofTable: usize = 0
let mlTable: usize = 0
let llLog: u32 = 0
let ofLog: u32 = 0
let mlLog: u32 = 0

// Repeat offsets, carried from block to block within a frame.
let rep1: u32 = REPEAT_OFFSET_1
let rep2: u32 = REPEAT_OFFSET_2
let rep3: u32 = REPEAT_OFFSET_3

/** A new frame: initial repeat offsets, no tables to repeat. */
export function sequencesReset(): void {
  rep1 = REPEAT_OFFSET_1
  rep2 = REPEAT_OFFSET_2
  rep3 = REPEAT_OFFSET_3
  llTable = 0
  ofTable = 0
  mlTable = 0
}

function buildPredefined(): void {
  setCounts(LL_PREDEFINED, LL_PREDEFINED_ACCURACY)
  buildTable(llPredefined, KIND_LL)
  setCounts(OF_PREDEFINED, OF_PREDEFINED_ACCURACY)
  buildTable(ofPredefined, KIND_OF)
  setCounts(ML_PREDEFINED, ML_PREDEFINED_ACCURACY)
  buildTable(mlPredefined, KIND_ML)
  predefinedBuilt = true
}

// Set by selectTable.
let chosenTable: usize = 0
let chosenLog: u32 = 0

/**
 * Sets up one code's table for `mode` from the description at [src, end) (for RLE and
 * compressed modes). Returns the bytes the description takes, or an error code.
 */
function selectTable(kind: u32, mode: u32, src: usize, end: usize, previous: usize, previousLog: u32): i32 {
  const described = kind == KIND_LL ? llDescribed : kind == KIND_OF ? ofDescribed : mlDescribed
  const maxSymbol = kind == KIND_LL ? LL_CODE_MAX : kind == KIND_OF ? OF_CODE_MAX : ML_CODE_MAX
  if (mode == MODE_PREDEFINED) {
    if (!predefinedBuilt) buildPredefined()
    chosenTable = kind == KIND_LL ? llPredefined : kind == KIND_OF ? ofPredefined : mlPredefined
    chosenLog = kind == KIND_LL ? LL_PREDEFINED_ACCURACY : kind == KIND_OF ? OF_PREDEFINED_ACCURACY : ML_PREDEFINED_ACCURACY
    bump(STAT_TABLES_PREDEFINED)
    return 0
  }
  if (mode == MODE_RLE) {
    if (src >= end) return E.ERR_ZSTD_TRUNCATED
    const symbol = <u32>load<u8>(src)
    if (symbol > maxSymbol) return E.ERR_ZSTD_FSE_TABLE
    buildRleTable(described, kind, symbol)
    chosenTable = described
    chosenLog = 0
    bump(STAT_TABLES_RLE)
    return 1
  }
  if (mode == MODE_FSE_COMPRESSED) {
    const maxLog = kind == KIND_LL ? LL_ACCURACY_MAX : kind == KIND_OF ? OF_ACCURACY_MAX : ML_ACCURACY_MAX
    const rc = readCounts(src, end - src, maxSymbol, maxLog)
    if (rc < 0) return rc
    const built = buildTable(described, kind)
    if (built < 0) return built
    chosenTable = described
    chosenLog = (load<u8>(src) & 15) + 5
    bump(STAT_TABLES_FSE)
    return rc
  }
  // MODE_REPEAT
  if (previous == 0) return E.ERR_ZSTD_NO_PREVIOUS_TABLE
  chosenTable = previous
  chosenLog = previousLog
  bump(STAT_TABLES_REPEAT)
  return 0
}

/** Copies n literal bytes 16 at a time: may read and write up to 15 bytes past n. */
// @ts-ignore: decorator
@inline function wildCopy16(dst: usize, src: usize, n: usize): void {
  const end = dst + n
  do {
    store<u64>(dst, load<u64>(src))
    store<u64>(dst, load<u64>(src, 8), 8)
    dst += 16
    src += 16
  } while (dst < end)
}

/**
 * Decodes the sequences section [src, end) and executes it with the literals decodeLiterals
 * found, writing at dst (at most to oend). Matches may reach back to windowStart (the
 * frame's first output byte). Returns the bytes written, or a negative error code.
 */
export function decodeSequences(src: usize, end: usize, dst: usize, oend: usize, windowStart: usize): i32 {
  let lit = litStart
  const litEnd = litStart + litSize
  const litLimit = litReadLimit
  let op = dst
  if (src >= end) return E.ERR_ZSTD_TRUNCATED
  const b0 = <u32>load<u8>(src)
  let p = src + 1
  let count: u32 = b0
  if (b0 >= 128) {
    if (b0 < 255) {
      if (end - p < 1) return E.ERR_ZSTD_TRUNCATED
      count = ((b0 - 128) << 8) + <u32>load<u8>(p)
      p += 1
    } else {
      if (end - p < 2) return E.ERR_ZSTD_TRUNCATED
      count = <u32>load<u16>(p) + 0x7f00
      p += 2
    }
  }
  if (count > 0) {
    if (p >= end) return E.ERR_ZSTD_TRUNCATED
    const modes = <u32>load<u8>(p++)
    if ((modes & 3) != 0) return E.ERR_ZSTD_SEQUENCES
    let rc = selectTable(KIND_LL, modes >> 6, p, end, llTable, llLog)
    if (rc < 0) return rc
    p += <usize>rc
    llTable = chosenTable
    llLog = chosenLog
    rc = selectTable(KIND_OF, (modes >> 4) & 3, p, end, ofTable, ofLog)
    if (rc < 0) return rc
    p += <usize>rc
    ofTable = chosenTable
    ofLog = chosenLog
    rc = selectTable(KIND_ML, (modes >> 2) & 3, p, end, mlTable, mlLog)
    if (rc < 0) return rc
    p += <usize>rc
    mlTable = chosenTable
    mlLog = chosenLog
    if (p > end) return E.ERR_ZSTD_TRUNCATED

    if (!bitsInit(p, end - p)) return E.ERR_ZSTD_SEQUENCES
    const start = p
    let bits = brBits
    let consumed = brConsumed
    let ptr = brPtr
    const llT = llTable
    const ofT = ofTable
    const mlT = mlTable
    let llS = <u32>(((bits << <u64>consumed) >> 1) >> <u64>(63 - llLog))
    consumed += llLog
    let ofS = <u32>(((bits << <u64>consumed) >> 1) >> <u64>(63 - ofLog))
    consumed += ofLog
    let mlS = <u32>(((bits << <u64>consumed) >> 1) >> <u64>(63 - mlLog))
    consumed += mlLog
    let r1 = rep1
    let r2 = rep2
    let r3 = rep3
    let repeats: u32 = 0
    for (let i: u32 = 0; i < count; i++) {
      // Reload: at most 7 bits consumed after it, unless the stream's start is near.
      if (consumed > 64) return E.ERR_ZSTD_SEQUENCES
      if (ptr >= start + 8) {
        ptr -= consumed >> 3
        consumed &= 7
        bits = load<u64>(ptr)
      } else if (ptr > start) {
        let n = <usize>(consumed >> 3)
        if (n > ptr - start) n = ptr - start
        ptr -= n
        consumed -= <u32>n << 3
        bits = load<u64>(ptr)
      }
      const llE = load<u64>(llT + (<usize>llS << 3))
      const ofE = load<u64>(ofT + (<usize>ofS << 3))
      const mlE = load<u64>(mlT + (<usize>mlS << 3))
      const llBits = (<u32>llE >> 16) & 0xff
      const ofBits = (<u32>ofE >> 16) & 0xff
      const mlBits = (<u32>mlE >> 16) & 0xff
      // Extra bits in the order offset, match length, literal length (§3.1.1.3.2.1).
      const ofValue = <u32>(ofE >> 32) + <u32>(((bits << <u64>consumed) >> 1) >> <u64>(63 - ofBits))
      consumed += ofBits
      const ml = <usize>(<u32>(mlE >> 32) + <u32>(((bits << <u64>consumed) >> 1) >> <u64>(63 - mlBits)))
      consumed += mlBits
      if (ofBits + mlBits + llBits > 31) {
        // Too many bits for one container with the state updates: reload in between.
        if (ptr >= start + 8) {
          ptr -= consumed >> 3
          consumed &= 7
          bits = load<u64>(ptr)
        } else if (ptr > start) {
          let n = <usize>(consumed >> 3)
          if (n > ptr - start) n = ptr - start
          ptr -= n
          consumed -= <u32>n << 3
          bits = load<u64>(ptr)
        }
      }
      const ll = <usize>(<u32>(llE >> 32) + <u32>(((bits << <u64>consumed) >> 1) >> <u64>(63 - llBits)))
      consumed += llBits
      // Offset values 1-3 name a repeat offset, shifted by one when there are no literals (§3.1.2.5).
      let offset: u32
      if (ofValue > 3) {
        offset = ofValue - 3
        r3 = r2
        r2 = r1
        r1 = offset
      } else {
        repeats++
        const which = ofValue - 1 + (ll == 0 ? 1 : 0)
        if (which == 0) {
          offset = r1
        } else {
          offset = which == 1 ? r2 : which == 2 ? r3 : r1 - 1
          if (which != 1) r3 = r2
          r2 = r1
          r1 = offset
        }
      }
      // States for the next sequence: literal length, match length, offset (none after the last).
      if (i + 1 < count) {
        let b = (<u32>llE >> 24) & 0xff
        llS = (<u32>llE & 0xffff) + <u32>(((bits << <u64>consumed) >> 1) >> <u64>(63 - b))
        consumed += b
        b = (<u32>mlE >> 24) & 0xff
        mlS = (<u32>mlE & 0xffff) + <u32>(((bits << <u64>consumed) >> 1) >> <u64>(63 - b))
        consumed += b
        b = (<u32>ofE >> 24) & 0xff
        ofS = (<u32>ofE & 0xffff) + <u32>(((bits << <u64>consumed) >> 1) >> <u64>(63 - b))
        consumed += b
      }
      // Execute: the literals, then the match.
      if (ll > litEnd - lit) return E.ERR_ZSTD_LITERALS_OVERRUN
      if (ll + ml > oend - op) return E.ERR_DECOMPRESSED_TOO_LARGE
      const wild = ll + ml + WILD_SLACK <= oend - op
      if (wild && lit + ll + 16 <= litLimit) wildCopy16(op, lit, ll)
      else memory.copy(op, lit, ll)
      op += ll
      lit += ll
      if (offset == 0 || <usize>offset > op - windowStart) return E.ERR_ZSTD_MATCH_OFFSET
      // Most matches are short and far enough back to copy 16 bytes at a time, inline.
      if (wild && offset >= 16) wildCopy16(op, op - <usize>offset, ml)
      else copyMatch(op, <usize>offset, ml, wild)
      op += ml
    }
    // The bitstream must end exactly after the last sequence.
    if (consumed > 64) return E.ERR_ZSTD_SEQUENCES
    if (ptr > start) {
      let n = <usize>(consumed >> 3)
      if (n > ptr - start) n = ptr - start
      ptr -= n
      consumed -= <u32>n << 3
    }
    if (ptr != start || consumed != 64) return E.ERR_ZSTD_SEQUENCES
    if (repeats != 0) bump(STAT_REPEAT_OFFSETS)
    rep1 = r1
    rep2 = r2
    rep3 = r3
  } else if (p != end) {
    return E.ERR_ZSTD_SEQUENCES
  }
  // The literals after the last sequence.
  const rest = litEnd - lit
  if (rest > oend - op) return E.ERR_DECOMPRESSED_TOO_LARGE
  memory.copy(op, lit, rest)
  op += rest
  return <i32>(op - dst)
}
