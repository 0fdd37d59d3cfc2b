// Public surface of the codec: load once with `await loadCodec()`, then call it synchronously.
export { RecordBatchBuilder, utf8Length } from './builder.js'
export { Codec, loadCodec } from './codec.js'
export { CodecError, type CodecErrorCode } from './errors.js'
export { declaredBatchBytes, readBatchHeader, splitBatches, stampBatch } from './header.js'
export {
  BATCH_HEADER, BATCH_HEADER_BYTES, HEADER_INDEX_INTS, HEADER_INDEX_SLOT, LOG_OVERHEAD_BYTES,
  RECORD_INDEX_INTS, RECORD_INDEX_SLOT, type BatchHeaderField, type HeaderField,
} from './layout.js'
export { BATCH_BYTES_MAX, DECOMPRESSED_BYTES_MAX } from './limits.js'
export { supportedCompression } from './platform-compression.js'
export * from './types.js'
