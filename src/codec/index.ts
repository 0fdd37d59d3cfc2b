// Public surface of the codec: load once with `await loadCodec()`, then call it synchronously.
export { RecordBatchBuilder, utf8Length } from './builder.js'
export { Codec, loadCodec } from './codec.js'
export { CodecError, type CodecErrorCode } from './errors.js'
export {
  BATCH_HEADER_BYTES, LOG_OVERHEAD_BYTES, readBatchHeader, splitBatches, stampBatch,
} from './header.js'
export { BATCH_BYTES_MAX, DECOMPRESSED_BYTES_MAX } from './limits.js'
export { supportedCompression } from './platform-compression.js'
export * from './types.js'
