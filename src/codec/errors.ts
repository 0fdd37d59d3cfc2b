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

/** Negative return codes of the WASM module (assembly/errors.ts), by number. */
const WASM_ERRORS: Record<number, [CodecErrorCode, string]> = {
  [-1]: ['BATCH_TRUNCATED', 'record batch is truncated: fewer bytes than its header or batchLength declares'],
  [-2]: ['BATCH_BAD_LENGTH', 'record batch has an impossible batchLength (smaller than the v2 header)'],
  [-3]: ['BATCH_BAD_MAGIC', 'record batch magic is not 2: only Kafka RecordBatch v2 is supported'],
  [-4]: ['BATCH_BAD_CRC', 'record batch CRC32C does not match its contents: the batch is corrupt'],
  [-5]: ['UNSUPPORTED_COMPRESSION', 'record batch names an unknown compression codec (attributes bits 0-2 > 4)'],
  [-6]: ['RECORD_COUNT_INVALID', 'record batch has a negative or impossible record count or lastOffsetDelta'],
  [-7]: ['RECORD_COUNT_MISMATCH', 'record count disagrees with lastOffsetDelta + 1'],
  [-8]: ['RECORD_TRUNCATED', 'a record runs past the end of its record or of the records section'],
  [-9]: ['RECORD_BAD_LENGTH', 'a record, key, value or header length is negative or does not fit'],
  [-10]: ['RECORD_BAD_OFFSET_DELTA', 'record offset deltas do not run 0, 1, ... n-1 (or do not increase)'],
  [-11]: ['VARINT_OVERFLOW', 'a varint is longer than 5 bytes (varlong: 10 bytes)'],
  [-12]: ['HEADER_KEY_NULL', 'a record header has a null key: header keys must be strings'],
  [-13]: ['HEADER_COUNT_INVALID', 'a record has a negative or impossible header count'],
  [-14]: ['CODEC_INTERNAL', 'codec output region too small (a bug in src/codec: please report it)'],
  [-15]: ['RECORDS_TRAILING_BYTES', 'the records section has bytes after its last record'],
  [-16]: ['CODEC_INTERNAL', 'codec staged input inconsistent (a bug in src/codec: please report it)'],
  [-17]: ['DECOMPRESSED_TOO_LARGE', 'decompresses to more than the configured maximum (maxDecompressedBytes)'],
  [-18]: ['CORRUPT_COMPRESSED_DATA', 'LZ4 frame has a bad magic number'],
  [-19]: ['CORRUPT_COMPRESSED_DATA', 'LZ4 frame descriptor is invalid (version, reserved bits or block size)'],
  [-20]: ['CORRUPT_COMPRESSED_DATA', 'LZ4 frame header checksum does not match'],
  [-21]: ['CORRUPT_COMPRESSED_DATA', 'LZ4 block size exceeds the frame\'s maximum block size'],
  [-22]: ['CORRUPT_COMPRESSED_DATA', 'LZ4 block checksum does not match'],
  [-23]: ['CORRUPT_COMPRESSED_DATA', 'LZ4 content checksum does not match'],
  [-24]: ['CORRUPT_COMPRESSED_DATA', 'LZ4 frame decodes to a size other than its declared content size'],
  [-25]: ['CORRUPT_COMPRESSED_DATA', 'LZ4 data is truncated'],
  [-26]: ['CORRUPT_COMPRESSED_DATA', 'LZ4 block is corrupt (bad match offset or overrun)'],
  [-27]: ['UNSUPPORTED_COMPRESSION', 'LZ4 frame needs a dictionary (dictionary id set): not supported'],
  [-28]: ['CORRUPT_COMPRESSED_DATA', 'Snappy data is truncated'],
  [-29]: ['CORRUPT_COMPRESSED_DATA', 'Snappy data is corrupt (bad length, tag or copy offset)'],
  [-30]: ['CORRUPT_COMPRESSED_DATA', 'Snappy data decodes to a size other than its declared length'],
}

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
  const known = WASM_ERRORS[rc]
  if (known === undefined) return new CodecError('CODEC_INTERNAL', `${where}: unknown codec return code ${rc}`)
  return new CodecError(known[0], `${where}: ${known[1]}`)
}
