// Error codes returned (as negative numbers) by the codec's exports. They are part of the
// module's ABI: src/codec/errors.ts maps each, by name, to a stable string code, and the
// loader checks every number against it (the module exports them). Never renumber.
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
// Compression (assembly/lz4*.ts, assembly/snappy*.ts).
export const ERR_DECOMPRESSED_TOO_LARGE: i32 = -17
export const ERR_LZ4_BAD_MAGIC: i32 = -18
export const ERR_LZ4_BAD_DESCRIPTOR: i32 = -19
export const ERR_LZ4_HEADER_CHECKSUM: i32 = -20
export const ERR_LZ4_BLOCK_SIZE: i32 = -21
export const ERR_LZ4_BLOCK_CHECKSUM: i32 = -22
export const ERR_LZ4_CONTENT_CHECKSUM: i32 = -23
export const ERR_LZ4_CONTENT_SIZE: i32 = -24
export const ERR_LZ4_TRUNCATED: i32 = -25
export const ERR_LZ4_CORRUPT_BLOCK: i32 = -26
export const ERR_LZ4_DICTIONARY: i32 = -27
export const ERR_SNAPPY_TRUNCATED: i32 = -28
export const ERR_SNAPPY_CORRUPT: i32 = -29
export const ERR_SNAPPY_LENGTH_MISMATCH: i32 = -30
// zstd decoding (assembly/zstd-*.ts; -31..-49 are the decoder's).
export const ERR_ZSTD_TRUNCATED: i32 = -31
export const ERR_ZSTD_BAD_MAGIC: i32 = -32
export const ERR_ZSTD_FRAME_HEADER: i32 = -33
export const ERR_ZSTD_WINDOW_TOO_LARGE: i32 = -34
export const ERR_ZSTD_DICTIONARY: i32 = -35
export const ERR_ZSTD_BLOCK_TYPE: i32 = -36
export const ERR_ZSTD_BLOCK_SIZE: i32 = -37
export const ERR_ZSTD_LITERALS: i32 = -38
export const ERR_ZSTD_HUFFMAN: i32 = -39
export const ERR_ZSTD_FSE_TABLE: i32 = -40
export const ERR_ZSTD_SEQUENCES: i32 = -41
export const ERR_ZSTD_NO_PREVIOUS_TABLE: i32 = -42
export const ERR_ZSTD_LITERALS_OVERRUN: i32 = -43
export const ERR_ZSTD_MATCH_OFFSET: i32 = -44
export const ERR_ZSTD_CONTENT_SIZE: i32 = -45
export const ERR_ZSTD_CONTENT_CHECKSUM: i32 = -46
