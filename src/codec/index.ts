// Public surface of the codec: load once with `await loadCodec()`, then call it synchronously.
export { Codec, loadCodec } from './codec.js'
export { CodecError, type CodecErrorCode } from './errors.js'
export {
  BATCH_HEADER_BYTES, LOG_OVERHEAD_BYTES, readBatchHeader, splitBatches, stampBatch,
} from './header.js'
export { BATCH_BYTES_MAX } from './limits.js'
export * from './types.js'
