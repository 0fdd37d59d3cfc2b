// Counters of what the zstd decoder met (block types, literals and sequence modes), so tests
// can show that each mode ran rather than hope it did. Bumped once per block or table, never
// per symbol: the cost is a few stores per block. Read through zstdDecodeStats (index.ts).
export const STAT_FRAMES: i32 = 0
export const STAT_SKIPPABLE_FRAMES: i32 = 1
export const STAT_BLOCKS_RAW: i32 = 2
export const STAT_BLOCKS_RLE: i32 = 3
export const STAT_BLOCKS_COMPRESSED: i32 = 4
export const STAT_LITERALS_RAW: i32 = 5
export const STAT_LITERALS_RLE: i32 = 6
export const STAT_LITERALS_HUFFMAN_1: i32 = 7
export const STAT_LITERALS_HUFFMAN_4: i32 = 8
export const STAT_LITERALS_TREELESS: i32 = 9
export const STAT_TABLES_PREDEFINED: i32 = 10
export const STAT_TABLES_RLE: i32 = 11
export const STAT_TABLES_FSE: i32 = 12
export const STAT_TABLES_REPEAT: i32 = 13
export const STAT_CHECKSUMS: i32 = 14
export const STAT_HUFFMAN_FSE_WEIGHTS: i32 = 15
export const STAT_HUFFMAN_DIRECT_WEIGHTS: i32 = 16
export const STAT_REPEAT_OFFSETS: i32 = 17
export const STAT_COUNT: i32 = 18

export const stats = memory.data(STAT_COUNT * 4, 8)

// @ts-ignore: decorator
@inline export function bump(which: i32): void {
  const at = stats + (<usize>which << 2)
  store<u32>(at, load<u32>(at) + 1)
}
