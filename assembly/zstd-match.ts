// The zstd encoder's match finder: the reference library's "fast" strategy (its levels 1-2).
// One hash table of the positions of 6-byte prefixes, probed once per position with steps
// that grow over incompressible data; before each probe the latest repeat offset is tried
// one byte ahead, and after each match the second repeat offset at once (records with
// repeated structure — the same fields at the same distances — match there often). Matches
// reach back anywhere in the frame (its window is its whole content); a block's matches end
// inside it. Sequences go to zstd-sequences-encode, literals to LITERALS.
import { BLOCK_SIZE_MAX, REPEAT_OFFSET_1, REPEAT_OFFSET_2, REPEAT_OFFSET_3 } from './zstd-spec'
import { commonLength } from './copy'
import { addSequence, ENCODER_MATCH_MIN, sequencesReset } from './zstd-sequences-encode'

// 2^13 u32 entries (32 KiB), the reference library's level 1 for inputs over 256 KiB; smaller
// inputs clear a smaller table. On the perf corpus 2^16 came out 0.6 % larger (collisions
// evict old positions, so the offsets found are nearer and cheaper) and slower to clear.
const HASH_LOG_MAX: u32 = 13
const HASH_LOG_MIN: u32 = 10
// Bytes of a position the hash covers (matches are then checked for 4).
const HASH_BYTES: u64 = 6
const MIN_MATCH: usize = <usize>ENCODER_MATCH_MIN
// After 2^SEARCH_STRENGTH literals without a match the step between probes grows by one.
const SEARCH_STRENGTH: usize = 8
// Matching stops this far from the end of a block (8-byte reads stay inside it).
const TAIL_BYTES: usize = 8
const TABLE: usize = memory.data(4 << HASH_LOG_MAX, 16)
/** The block's literals, in order. */
export const LITERALS: usize = memory.data(<i32>BLOCK_SIZE_MAX, 16)
/** Literals gathered for the current block. */
export let literalCount: usize = 0

/** Repeat offsets (RFC 8878 §3.1.2.5): they carry over from block to block within a frame. */
export let rep0: u32 = REPEAT_OFFSET_1
export let rep1: u32 = REPEAT_OFFSET_2
export let rep2: u32 = REPEAT_OFFSET_3
let hashShift: u64 = 64 - HASH_LOG_MAX

/** Starts a frame of n bytes: a clean table (deterministic output) and the initial offsets. */
export function matchStart(n: usize): void {
  const bits = n <= 1 ? 0 : <u32>(32 - clz<u32>(<u32>n - 1))
  const log = min(max(bits, HASH_LOG_MIN), HASH_LOG_MAX)
  hashShift = 64 - <u64>log
  memory.fill(TABLE, 0, <usize>4 << log)
  rep0 = REPEAT_OFFSET_1
  rep1 = REPEAT_OFFSET_2
  rep2 = REPEAT_OFFSET_3
}

/** Puts back repeat offsets saved before a block that is then stored raw (raw blocks keep them). */
export function matchRestore(r0: u32, r1: u32, r2: u32): void {
  rep0 = r0
  rep1 = r1
  rep2 = r2
}

// @ts-ignore: decorator
@inline function slotOf(p: usize): usize {
  return TABLE + (<usize>(((load<u64>(p) << (64 - 8 * HASH_BYTES)) * 0xcf1bbcdcb7a56463) >> hashShift) << 2)
}

// @ts-ignore: decorator
@inline function emit(anchor: usize, literals: usize, offsetValue: u32, length: usize): void {
  memory.copy(LITERALS + literalCount, anchor, literals)
  literalCount += literals
  addSequence(<u32>literals, offsetValue, <u32>length)
}

/**
 * Finds the sequences of the block [start, end) of the frame that begins at src, leaving them
 * in the sequence store and the literals in LITERALS (the block's trailing literals last).
 */
export function matchBlock(src: usize, start: usize, end: usize): void {
  sequencesReset()
  literalCount = 0
  let anchor = start
  let ip = start == src ? start + 1 : start
  if (end - start > TAIL_BYTES + MIN_MATCH) {
    const limit = end - TAIL_BYTES
    while (ip < limit) {
      const slot = slotOf(ip)
      const candidate = src + <usize>load<u32>(slot)
      store<u32>(slot, <u32>(ip - src))
      let length: usize
      // The last offset, one byte ahead (so with at least one literal: offset value 1 is rep0).
      const repeat = ip + 1 - <usize>rep0
      if (<usize>rep0 <= ip + 1 - src && load<u32>(repeat) == load<u32>(ip + 1)) {
        length = MIN_MATCH + commonLength(ip + 1 + MIN_MATCH, repeat + MIN_MATCH, end)
        ip++
        emit(anchor, ip - anchor, 1, length)
      } else if (candidate < ip && load<u32>(candidate) == load<u32>(ip)) {
        let match = candidate
        length = MIN_MATCH + commonLength(ip + MIN_MATCH, match + MIN_MATCH, end)
        while (ip > anchor && match > src && load<u8>(ip - 1) == load<u8>(match - 1)) {
          ip--
          match--
          length++
        }
        const offset = <u32>(ip - match)
        rep2 = rep1
        rep1 = rep0
        rep0 = offset
        emit(anchor, ip - anchor, offset + 3, length)
      } else {
        ip += ((ip - anchor) >> SEARCH_STRENGTH) + 1
        continue
      }
      const matchStart = ip
      ip += length
      anchor = ip
      if (ip < limit) {
        store<u32>(slotOf(matchStart + 2), <u32>(matchStart + 2 - src))
        store<u32>(slotOf(ip - 2), <u32>(ip - 2 - src))
        // The second offset right after the match: no literals, so offset value 1 means rep1.
        while (ip < limit && <usize>rep1 <= ip - src && load<u32>(ip) == load<u32>(ip - <usize>rep1)) {
          length = MIN_MATCH + commonLength(ip + MIN_MATCH, ip + MIN_MATCH - <usize>rep1, end)
          const swap = rep1
          rep1 = rep0
          rep0 = swap
          store<u32>(slotOf(ip), <u32>(ip - src))
          emit(anchor, 0, 1, length)
          ip += length
          anchor = ip
        }
      }
    }
  }
  memory.copy(LITERALS + literalCount, anchor, end - anchor)
  literalCount += end - anchor
}
