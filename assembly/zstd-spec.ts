// The zstd format's constants (RFC 8878), shared by the decoder and the encoder: frame magic
// numbers, block limits, the sequence codes' baselines and extra bits, and the predefined FSE
// distributions. Values are the RFC's tables, in its order; never edit one without the RFC.

export const ZSTD_MAGIC: u32 = 0xfd2fb528
/** Skippable frames: magic 0x184D2A50..0x184D2A5F (the low nibble is free). */
export const SKIPPABLE_MAGIC_BASE: u32 = 0x184d2a50
export const SKIPPABLE_MAGIC_MASK: u32 = 0xfffffff0

/** A block's content is at most min(window size, 128 KiB) (RFC 8878 §3.1.1.2.4). */
export const BLOCK_SIZE_MAX: u32 = 128 << 10
export const BLOCK_HEADER_BYTES: u32 = 3
export const BLOCK_TYPE_RAW: u32 = 0
export const BLOCK_TYPE_RLE: u32 = 1
export const BLOCK_TYPE_COMPRESSED: u32 = 2
export const BLOCK_TYPE_RESERVED: u32 = 3

/** The window descriptor's smallest window (exponent 0): 1 KiB. */
export const WINDOW_LOG_MIN: u32 = 10

// Literals section (§3.1.1.3.1).
export const LITERALS_RAW: u32 = 0
export const LITERALS_RLE: u32 = 1
export const LITERALS_COMPRESSED: u32 = 2
export const LITERALS_TREELESS: u32 = 3
/** Huffman codes are at most 11 bits long; their weights are FSE-coded with accuracy ≤ 6. */
export const HUFFMAN_BITS_MAX: u32 = 11
export const HUFFMAN_WEIGHTS_ACCURACY_MAX: u32 = 6

// Sequences section (§3.1.1.3.2): symbol compression modes.
export const MODE_PREDEFINED: u32 = 0
export const MODE_RLE: u32 = 1
export const MODE_FSE_COMPRESSED: u32 = 2
export const MODE_REPEAT: u32 = 3

export const LL_CODE_MAX: u32 = 35
export const ML_CODE_MAX: u32 = 52
/** The largest offset code the predefined table has; a decoder accepts up to 31. */
export const OF_CODE_PREDEFINED_MAX: u32 = 28
export const OF_CODE_MAX: u32 = 31
export const LL_ACCURACY_MAX: u32 = 9
export const ML_ACCURACY_MAX: u32 = 9
export const OF_ACCURACY_MAX: u32 = 8
export const LL_PREDEFINED_ACCURACY: u32 = 6
export const ML_PREDEFINED_ACCURACY: u32 = 6
export const OF_PREDEFINED_ACCURACY: u32 = 5
/** The smallest match the format can express. */
export const MATCH_LENGTH_MIN: u32 = 3
/** Repeat offsets at the start of a frame (§3.1.2.5). */
export const REPEAT_OFFSET_1: u32 = 1
export const REPEAT_OFFSET_2: u32 = 4
export const REPEAT_OFFSET_3: u32 = 8

// Literals length codes: value = baseline + the next `bits` bits (§3.1.1.3.2.1.1).
export const LL_BASELINE: StaticArray<u32> = [
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
  16, 18, 20, 22, 24, 28, 32, 40, 48, 64, 128, 256, 512, 1024, 2048, 4096,
  8192, 16384, 32768, 65536,
]
export const LL_BITS: StaticArray<u8> = [
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  1, 1, 1, 1, 2, 2, 3, 3, 4, 6, 7, 8, 9, 10, 11, 12,
  13, 14, 15, 16,
]

// Match length codes: value = baseline + the next `bits` bits.
export const ML_BASELINE: StaticArray<u32> = [
  3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
  19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34,
  35, 37, 39, 41, 43, 47, 51, 59, 67, 83, 99, 131, 259, 515, 1027, 2051,
  4099, 8195, 16387, 32771, 65539,
]
export const ML_BITS: StaticArray<u8> = [
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 7, 8, 9, 10, 11,
  12, 13, 14, 15, 16,
]
// Offset codes: Offset_Value = (1 << code) + the next `code` bits; values 1..3 are repeat
// offsets, larger ones are the offset + 3.

// Predefined distributions (§3.1.1.3.2.2); -1 is a "less than 1" probability.
export const LL_PREDEFINED: StaticArray<i16> = [
  4, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1,
  2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 2, 1, 1, 1, 1, 1,
  -1, -1, -1, -1,
]
export const ML_PREDEFINED: StaticArray<i16> = [
  1, 4, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1,
  -1, -1, -1, -1, -1,
]
export const OF_PREDEFINED: StaticArray<i16> = [
  1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1,
]
