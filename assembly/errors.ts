// Error codes returned (as negative numbers) by the codec's exports. They are part of the
// module's ABI: src/codec/errors.ts maps each to a stable string code. Never renumber.
export const ERR_BATCH_TRUNCATED: i32 = -1
export const ERR_BATCH_BAD_LENGTH: i32 = -2
export const ERR_BATCH_BAD_MAGIC: i32 = -3
export const ERR_BATCH_BAD_CRC: i32 = -4
export const ERR_UNSUPPORTED_COMPRESSION: i32 = -5
export const ERR_RECORD_COUNT_INVALID: i32 = -6
export const ERR_RECORD_COUNT_MISMATCH: i32 = -7
export const ERR_RECORD_TRUNCATED: i32 = -8
export const ERR_RECORD_BAD_LENGTH: i32 = -9
export const ERR_RECORD_BAD_OFFSET_DELTA: i32 = -10
export const ERR_VARINT_OVERFLOW: i32 = -11
export const ERR_HEADER_KEY_NULL: i32 = -12
export const ERR_HEADER_COUNT_INVALID: i32 = -13
export const ERR_OUTPUT_CAPACITY: i32 = -14
export const ERR_RECORDS_TRAILING_BYTES: i32 = -15
export const ERR_STAGED_INPUT_INVALID: i32 = -16
