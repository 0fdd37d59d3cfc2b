// The sequences section of a zstd compressed block (RFC 8878 §3.1.1.3.2): the sequence count,
// each code stream's mode (predefined, RLE or an FSE table of the block's own statistics,
// whichever costs fewest bits), the tables, then one backward bitstream of all sequences.
// The matcher appends sequences here with addSequence.
import {
  BLOCK_SIZE_MAX, LL_ACCURACY_MAX, LL_BASELINE, LL_BITS, LL_CODE_MAX, LL_PREDEFINED, LL_PREDEFINED_ACCURACY,
  ML_ACCURACY_MAX, ML_BASELINE, ML_BITS, ML_CODE_MAX, ML_PREDEFINED, ML_PREDEFINED_ACCURACY, MATCH_LENGTH_MIN,
  MODE_FSE_COMPRESSED, MODE_PREDEFINED, MODE_RLE, OF_ACCURACY_MAX, OF_CODE_MAX, OF_PREDEFINED, OF_PREDEFINED_ACCURACY,
} from './zstd-spec'
import { bitsAddFast, bitsClose, bitsFlush, bitsOpen } from './zstd-bits-encode'
import {
  CT_LL, CT_LL_PREDEFINED, CT_ML, CT_ML_PREDEFINED, CT_OF, CT_OF_PREDEFINED, FSE_SYMBOLS_MAX,
  ctableAt, fseBuildTable, fseCostBits, fseEncode, fseFlushState, fseInitState, fseNormalize, fseTableLog, fseWriteTable,
} from './zstd-fse-encode'

/** The shortest match the matcher emits (it checks 4 bytes; the format allows 3). */
export const ENCODER_MATCH_MIN: u32 = 4
/** Sequences one block can hold: each covers at least an ENCODER_MATCH_MIN-byte match. */
const SEQUENCES_MAX: u32 = BLOCK_SIZE_MAX / ENCODER_MATCH_MIN + 1
// Per sequence: literal length, match length - 3, offset value (u32 each), and their codes.
const SEQ_LL: usize = memory.data(<i32>SEQUENCES_MAX * 4, 16)
const SEQ_ML: usize = memory.data(<i32>SEQUENCES_MAX * 4, 16)
const SEQ_OF: usize = memory.data(<i32>SEQUENCES_MAX * 4, 16)
const CODE_LL: usize = memory.data(<i32>SEQUENCES_MAX, 16)
const CODE_ML: usize = memory.data(<i32>SEQUENCES_MAX, 16)
const CODE_OF: usize = memory.data(<i32>SEQUENCES_MAX, 16)
// Codes of small literal lengths (< 64) and match lengths - 3 (< 128); larger ones by formula.
const LL_CODES: usize = memory.data(64, 16)
const ML_CODES: usize = memory.data(128, 16)
const COUNTS: usize = memory.data(<i32>FSE_SYMBOLS_MAX * 4, 16)
const NORM: usize = memory.data(<i32>FSE_SYMBOLS_MAX * 2, 16)

/** Sequences added to the current block. */
export let sequenceCount: u32 = 0
let ready = false

// @ts-ignore: decorator
@inline function highbit(v: u32): u32 {
  return 31 - clz<u32>(v)
}

/** Fills the code lookups and the predefined tables, once per module instance. */
export function sequencesInit(): void {
  if (ready) return
  let code: u32 = 0
  for (let v: u32 = 0; v < 64; v++) {
    while (code < LL_CODE_MAX && LL_BASELINE[code + 1] <= v) code++
    store<u8>(LL_CODES + v, <u8>code)
  }
  code = 0
  for (let v: u32 = 0; v < 128; v++) {
    while (code < ML_CODE_MAX && ML_BASELINE[code + 1] - MATCH_LENGTH_MIN <= v) code++
    store<u8>(ML_CODES + v, <u8>code)
  }
  fseBuildTable(ctableAt(CT_LL_PREDEFINED), changetype<usize>(LL_PREDEFINED), LL_CODE_MAX, LL_PREDEFINED_ACCURACY)
  fseBuildTable(ctableAt(CT_ML_PREDEFINED), changetype<usize>(ML_PREDEFINED), ML_CODE_MAX, ML_PREDEFINED_ACCURACY)
  fseBuildTable(ctableAt(CT_OF_PREDEFINED), changetype<usize>(OF_PREDEFINED), <u32>OF_PREDEFINED.length - 1, OF_PREDEFINED_ACCURACY)
  ready = true
}

// @ts-ignore: decorator
@inline export function sequencesReset(): void {
  sequenceCount = 0
}

/**
 * Appends a sequence: `literals` literal bytes, then a match of `matchLength` (>= 3) bytes
 * at offset value `offsetValue` (1..3 a repeat offset, else the offset + 3).
 */
// @ts-ignore: decorator
@inline export function addSequence(literals: u32, offsetValue: u32, matchLength: u32): void {
  const i = <usize>sequenceCount
  sequenceCount++
  const mlBase = matchLength - MATCH_LENGTH_MIN
  store<u32>(SEQ_LL + (i << 2), literals)
  store<u32>(SEQ_ML + (i << 2), mlBase)
  store<u32>(SEQ_OF + (i << 2), offsetValue)
  store<u8>(CODE_LL + i, literals < 64 ? load<u8>(LL_CODES + literals) : <u8>(highbit(literals) + 19))
  store<u8>(CODE_ML + i, mlBase < 128 ? load<u8>(ML_CODES + mlBase) : <u8>(highbit(mlBase) + 36))
  store<u8>(CODE_OF + i, <u8>highbit(offsetValue))
}

/** Writes the block's sequences as a sequences section at op; returns the position after it. */
export function writeSequences(op: usize): usize {
  const n = sequenceCount
  if (n < 128) {
    store<u8>(op++, <u8>n)
  } else if (n < 0x7f00) {
    store<u8>(op++, <u8>((n >> 8) + 128))
    store<u8>(op++, <u8>n)
  } else {
    store<u8>(op++, 255)
    store<u16>(op, <u16>(n - 0x7f00))
    op += 2
  }
  if (n == 0) return op
  const modes = op++
  op = chooseTable(op, CODE_LL, LL_CODE_MAX, LL_ACCURACY_MAX, changetype<usize>(LL_PREDEFINED), LL_CODE_MAX + 1, LL_PREDEFINED_ACCURACY, CT_LL_PREDEFINED, CT_LL)
  const llMode = chosenMode
  const llTable = chosenTable
  op = chooseTable(op, CODE_OF, OF_CODE_MAX, OF_ACCURACY_MAX, changetype<usize>(OF_PREDEFINED), <u32>OF_PREDEFINED.length, OF_PREDEFINED_ACCURACY, CT_OF_PREDEFINED, CT_OF)
  const ofMode = chosenMode
  const ofTable = chosenTable
  op = chooseTable(op, CODE_ML, ML_CODE_MAX, ML_ACCURACY_MAX, changetype<usize>(ML_PREDEFINED), ML_CODE_MAX + 1, ML_PREDEFINED_ACCURACY, CT_ML_PREDEFINED, CT_ML)
  const mlMode = chosenMode
  const mlTable = chosenTable
  store<u8>(modes, <u8>((llMode << 6) | (ofMode << 4) | (mlMode << 2)))
  return writeBitstream(op, n, llTable, ofTable, mlTable)
}

let chosenMode: u32 = 0
let chosenTable: usize = 0

/**
 * Picks the cheapest mode for one code stream (codes[0..sequenceCount)), writes its table
 * description at op (an RLE symbol or an FSE table), and sets chosenMode / chosenTable.
 */
function chooseTable(
  op: usize, codes: usize, codeMax: u32, accuracyMax: u32,
  predefined: usize, predefinedSymbols: u32, predefinedLog: u32, predefinedTable: u32, blockTable: u32,
): usize {
  const n = sequenceCount
  memory.fill(COUNTS, 0, <usize>FSE_SYMBOLS_MAX * 4)
  for (let i: u32 = 0; i < n; i++) {
    const at = COUNTS + (<usize>load<u8>(codes + i) << 2)
    store<u32>(at, load<u32>(at) + 1)
  }
  let maxSym = codeMax
  while (load<u32>(COUNTS + (<usize>maxSym << 2)) == 0) maxSym--
  if (load<u32>(COUNTS + (<usize>maxSym << 2)) == n) {
    // One symbol: RLE costs a byte and no bits, unless a sequence or two code cheaper predefined.
    const predefinedBits = fseCostBits(COUNTS, maxSym, predefined, predefinedSymbols, predefinedLog)
    if (predefinedBits < 0 || predefinedBits > 8) {
      const ct = ctableAt(blockTable)
      buildRle(ct, maxSym)
      store<u8>(op, <u8>maxSym)
      chosenMode = MODE_RLE
      chosenTable = ct
      return op + 1
    }
  }
  const predefinedBits = fseCostBits(COUNTS, maxSym, predefined, predefinedSymbols, predefinedLog)
  let compressedBits: f64 = -1
  let end = op
  if (load<u32>(COUNTS + (<usize>maxSym << 2)) != n) {
    const log = fseTableLog(accuracyMax, n, maxSym)
    fseNormalize(COUNTS, maxSym, n, log, NORM)
    end = fseWriteTable(op, NORM, maxSym, log)
    compressedBits = fseCostBits(COUNTS, maxSym, NORM, maxSym + 1, log) + <f64>((end - op) << 3)
    if (predefinedBits < 0 || compressedBits < predefinedBits) {
      const ct = ctableAt(blockTable)
      fseBuildTable(ct, NORM, maxSym, log)
      chosenMode = MODE_FSE_COMPRESSED
      chosenTable = ct
      return end
    }
  }
  chosenMode = MODE_PREDEFINED
  chosenTable = ctableAt(predefinedTable)
  return op
}

/** A table for one symbol (RLE mode): every state codes it in no bits. */
function buildRle(ct: usize, s: u32): void {
  fseBuildTable(ct, changetype<usize>(RLE_NORM), 0, 0)
  // fseBuildTable indexes symbols from 0: move the one entry to symbol s.
  const from = ct + 8
  const to = ct + 8 + (<usize>s << 3)
  store<u64>(to, load<u64>(from))
}
const RLE_NORM: StaticArray<i16> = [1]

/** The sequences' bitstream, last sequence first (RFC 8878 §3.1.1.3.2.2 read order reversed). */
function writeBitstream(op: usize, n: u32, llTable: usize, ofTable: usize, mlTable: usize): usize {
  const llBase = changetype<usize>(LL_BASELINE)
  const llBits = changetype<usize>(LL_BITS)
  const mlBase = changetype<usize>(ML_BASELINE)
  const mlBits = changetype<usize>(ML_BITS)
  bitsOpen(op)
  let i = <usize>n - 1
  let llCode = <u32>load<u8>(CODE_LL + i)
  let ofCode = <u32>load<u8>(CODE_OF + i)
  let mlCode = <u32>load<u8>(CODE_ML + i)
  let mlState = fseInitState(mlTable, mlCode)
  let ofState = fseInitState(ofTable, ofCode)
  let llState = fseInitState(llTable, llCode)
  while (true) {
    const ll = load<u32>(SEQ_LL + (i << 2))
    const ml = load<u32>(SEQ_ML + (i << 2)) + MATCH_LENGTH_MIN
    const off = load<u32>(SEQ_OF + (i << 2))
    bitsAddFast(<u64>(ll - load<u32>(llBase + (<usize>llCode << 2))), <u32>load<u8>(llBits + llCode))
    bitsAddFast(<u64>(ml - load<u32>(mlBase + (<usize>mlCode << 2))), <u32>load<u8>(mlBits + mlCode))
    bitsFlush()
    bitsAddFast(<u64>(off - (<u32>1 << ofCode)), ofCode)
    bitsFlush()
    if (i == 0) break
    i--
    llCode = <u32>load<u8>(CODE_LL + i)
    ofCode = <u32>load<u8>(CODE_OF + i)
    mlCode = <u32>load<u8>(CODE_ML + i)
    ofState = fseEncode(ofTable, ofState, ofCode)
    mlState = fseEncode(mlTable, mlState, mlCode)
    llState = fseEncode(llTable, llState, llCode)
    bitsFlush()
  }
  fseFlushState(mlTable, mlState)
  fseFlushState(ofTable, ofState)
  fseFlushState(llTable, llState)
  return bitsClose()
}
