// Typed codec errors. `code` is stable (tests, clients and the protocol's error table key on
// it); the message says what was wrong and, where it helps, what to do.

export type CodecErrorCode =
  | 'BATCH_TRUNCATED'
  | 'BATCH_BAD_LENGTH'
  | 'BATCH_BAD_MAGIC'
  | 'BATCH_BAD_CRC'
  | 'UNSUPPORTED_COMPRESSION'
  | 'RECORD_COUNT_INVALID'
  | 'RECORD_COUNT_MISMATCH'
  | 'RECORD_TRUNCATED'
  | 'RECORD_BAD_LENGTH'
  | 'RECORD_BAD_OFFSET_DELTA'
  | 'VARINT_OVERFLOW'
  | 'HEADER_KEY_NULL'
  | 'HEADER_COUNT_INVALID'
  | 'RECORDS_TRAILING_BYTES'
  | 'BATCH_TOO_LARGE'
  | 'DECOMPRESSED_TOO_LARGE'
  | 'CORRUPT_COMPRESSED_DATA'
  | 'INVALID_ARGUMENT'
  | 'CODEC_INTERNAL'

interface WasmError {
  readonly rc: number
  readonly code: CodecErrorCode
  readonly message: string
}

/**
 * Negative return codes of the WASM module, under the names assembly/errors.ts gives them
 * (the module exports them; the loader checks every number, see layout-check.ts).
 */
export const WASM_ERRORS = {
  ERR_BATCH_TRUNCATED: { rc: -1, code: 'BATCH_TRUNCATED', message: 'record batch is truncated: fewer bytes than its header or batchLength declares' },
  ERR_BATCH_BAD_LENGTH: { rc: -2, code: 'BATCH_BAD_LENGTH', message: 'record batch has an impossible batchLength (smaller than the v2 header)' },
  ERR_BATCH_BAD_MAGIC: { rc: -3, code: 'BATCH_BAD_MAGIC', message: 'record batch magic is not 2: only Kafka RecordBatch v2 is supported' },
  ERR_BATCH_BAD_CRC: { rc: -4, code: 'BATCH_BAD_CRC', message: 'record batch CRC32C does not match its contents: the batch is corrupt' },
  ERR_UNSUPPORTED_COMPRESSION: { rc: -5, code: 'UNSUPPORTED_COMPRESSION', message: 'record batch names an unknown compression codec (attributes bits 0-2 > 4)' },
  ERR_RECORD_COUNT_INVALID: { rc: -6, code: 'RECORD_COUNT_INVALID', message: 'record batch has a negative or impossible record count or lastOffsetDelta' },
  ERR_RECORD_COUNT_MISMATCH: { rc: -7, code: 'RECORD_COUNT_MISMATCH', message: 'record count disagrees with lastOffsetDelta + 1' },
  ERR_RECORD_TRUNCATED: { rc: -8, code: 'RECORD_TRUNCATED', message: 'a record runs past the end of its record or of the records section' },
  ERR_RECORD_BAD_LENGTH: { rc: -9, code: 'RECORD_BAD_LENGTH', message: 'a record, key, value or header length is negative or does not fit' },
  ERR_RECORD_BAD_OFFSET_DELTA: { rc: -10, code: 'RECORD_BAD_OFFSET_DELTA', message: 'record offset deltas do not run 0, 1, ... n-1 (or do not increase)' },
  ERR_VARINT_OVERFLOW: { rc: -11, code: 'VARINT_OVERFLOW', message: 'a varint is longer than 5 bytes (varlong: 10 bytes)' },
  ERR_HEADER_KEY_NULL: { rc: -12, code: 'HEADER_KEY_NULL', message: 'a record header has a null key: header keys must be strings' },
  ERR_HEADER_COUNT_INVALID: { rc: -13, code: 'HEADER_COUNT_INVALID', message: 'a record has a negative or impossible header count' },
  ERR_OUTPUT_CAPACITY: { rc: -14, code: 'CODEC_INTERNAL', message: 'codec output region too small (a bug in src/codec: please report it)' },
  ERR_RECORDS_TRAILING_BYTES: { rc: -15, code: 'RECORDS_TRAILING_BYTES', message: 'the records section has bytes after its last record' },
  ERR_STAGED_INPUT_INVALID: { rc: -16, code: 'CODEC_INTERNAL', message: 'codec staged input inconsistent (a bug in src/codec: please report it)' },
  ERR_DECOMPRESSED_TOO_LARGE: { rc: -17, code: 'DECOMPRESSED_TOO_LARGE', message: 'decompresses to more than the configured maximum (maxDecompressedBytes)' },
  ERR_LZ4_BAD_MAGIC: { rc: -18, code: 'CORRUPT_COMPRESSED_DATA', message: 'LZ4 frame has a bad magic number' },
  ERR_LZ4_BAD_DESCRIPTOR: { rc: -19, code: 'CORRUPT_COMPRESSED_DATA', message: 'LZ4 frame descriptor is invalid (version, reserved bits or block size)' },
  ERR_LZ4_HEADER_CHECKSUM: { rc: -20, code: 'CORRUPT_COMPRESSED_DATA', message: 'LZ4 frame header checksum does not match' },
  ERR_LZ4_BLOCK_SIZE: { rc: -21, code: 'CORRUPT_COMPRESSED_DATA', message: 'LZ4 block size exceeds the frame\'s maximum block size' },
  ERR_LZ4_BLOCK_CHECKSUM: { rc: -22, code: 'CORRUPT_COMPRESSED_DATA', message: 'LZ4 block checksum does not match' },
  ERR_LZ4_CONTENT_CHECKSUM: { rc: -23, code: 'CORRUPT_COMPRESSED_DATA', message: 'LZ4 content checksum does not match' },
  ERR_LZ4_CONTENT_SIZE: { rc: -24, code: 'CORRUPT_COMPRESSED_DATA', message: 'LZ4 frame decodes to a size other than its declared content size' },
  ERR_LZ4_TRUNCATED: { rc: -25, code: 'CORRUPT_COMPRESSED_DATA', message: 'LZ4 data is truncated' },
  ERR_LZ4_CORRUPT_BLOCK: { rc: -26, code: 'CORRUPT_COMPRESSED_DATA', message: 'LZ4 block is corrupt (bad match offset or overrun)' },
  ERR_LZ4_DICTIONARY: { rc: -27, code: 'UNSUPPORTED_COMPRESSION', message: 'LZ4 frame needs a dictionary (dictionary id set): not supported' },
  ERR_SNAPPY_TRUNCATED: { rc: -28, code: 'CORRUPT_COMPRESSED_DATA', message: 'Snappy data is truncated' },
  ERR_SNAPPY_CORRUPT: { rc: -29, code: 'CORRUPT_COMPRESSED_DATA', message: 'Snappy data is corrupt (bad length, tag or copy offset)' },
  ERR_SNAPPY_LENGTH_MISMATCH: { rc: -30, code: 'CORRUPT_COMPRESSED_DATA', message: 'Snappy data decodes to a size other than its declared length' },
  ERR_ZSTD_TRUNCATED: { rc: -31, code: 'CORRUPT_COMPRESSED_DATA', message: 'zstd data is truncated' },
  ERR_ZSTD_BAD_MAGIC: { rc: -32, code: 'CORRUPT_COMPRESSED_DATA', message: 'zstd data does not start with a zstd or skippable frame magic number' },
  ERR_ZSTD_FRAME_HEADER: { rc: -33, code: 'CORRUPT_COMPRESSED_DATA', message: 'zstd frame header is invalid (reserved bit set)' },
  ERR_ZSTD_WINDOW_TOO_LARGE: { rc: -34, code: 'UNSUPPORTED_COMPRESSION', message: 'zstd frame needs a window over 128 MiB (2^27, the reference decoder\'s default limit): compress with --long=27 or less' },
  ERR_ZSTD_DICTIONARY: { rc: -35, code: 'UNSUPPORTED_COMPRESSION', message: 'zstd frame needs a dictionary (dictionary id set): not supported' },
  ERR_ZSTD_BLOCK_TYPE: { rc: -36, code: 'CORRUPT_COMPRESSED_DATA', message: 'zstd block has the reserved block type' },
  ERR_ZSTD_BLOCK_SIZE: { rc: -37, code: 'CORRUPT_COMPRESSED_DATA', message: 'zstd block is larger than the block maximum (128 KiB or the window size)' },
  ERR_ZSTD_LITERALS: { rc: -38, code: 'CORRUPT_COMPRESSED_DATA', message: 'zstd literals section is corrupt (sizes or jump table)' },
  ERR_ZSTD_HUFFMAN: { rc: -39, code: 'CORRUPT_COMPRESSED_DATA', message: 'zstd Huffman tree or Huffman-coded literals are corrupt' },
  ERR_ZSTD_FSE_TABLE: { rc: -40, code: 'CORRUPT_COMPRESSED_DATA', message: 'zstd FSE table description is corrupt' },
  ERR_ZSTD_SEQUENCES: { rc: -41, code: 'CORRUPT_COMPRESSED_DATA', message: 'zstd sequences section is corrupt (header, modes or bitstream)' },
  ERR_ZSTD_NO_PREVIOUS_TABLE: { rc: -42, code: 'CORRUPT_COMPRESSED_DATA', message: 'zstd block repeats a Huffman or FSE table that no earlier block of its frame defined' },
  ERR_ZSTD_LITERALS_OVERRUN: { rc: -43, code: 'CORRUPT_COMPRESSED_DATA', message: 'zstd sequences use more literals than the block has' },
  ERR_ZSTD_MATCH_OFFSET: { rc: -44, code: 'CORRUPT_COMPRESSED_DATA', message: 'zstd match offset is zero or reaches before the start of its frame' },
  ERR_ZSTD_CONTENT_SIZE: { rc: -45, code: 'CORRUPT_COMPRESSED_DATA', message: 'zstd frame decodes to a size other than its declared content size' },
  ERR_ZSTD_CONTENT_CHECKSUM: { rc: -46, code: 'CORRUPT_COMPRESSED_DATA', message: 'zstd content checksum does not match' },
} as const satisfies Record<string, WasmError>

const WASM_ERRORS_BY_RC = new Map<number, WasmError>(Object.values(WASM_ERRORS).map((e) => [e.rc, e]))

export class CodecError extends Error {
  override name = 'CodecError'
  constructor(
    readonly code: CodecErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

export function wasmError(rc: number, where: string): CodecError {
  const known = WASM_ERRORS_BY_RC.get(rc)
  if (known === undefined) return new CodecError('CODEC_INTERNAL', `${where}: unknown codec return code ${rc}`)
  return new CodecError(known.code, `${where}: ${known.message}`)
}
