// Checks of stored batches. Recovery and reads need "is this a whole, uncorrupted batch?",
// which framing + CRC32C answers for every batch, compressed or not; recovery then also walks
// the records section in WASM for uncompressed batches (codec.validateBatch). Compressed
// batches get framing + CRC only until the codec decompresses (the compression issue).
import { CodecError, readBatchHeader, type BatchHeader, type Codec } from '../codec/index.js'
import { BATCH_HEADER_BYTES, LOG_OVERHEAD_BYTES } from '../codec/index.js'
import { STORED_BATCH_BYTES_MAX } from './limits.js'

/**
 * Reads and sanity-checks the framing fields of the batch header at bytes[at]. Returns the
 * header, or a reason it cannot be a batch. Needs BATCH_HEADER_BYTES available.
 */
export function checkFraming(bytes: Uint8Array, at = 0): BatchHeader | string {
  if (bytes.length - at < BATCH_HEADER_BYTES) return 'truncated header'
  const h = readBatchHeader(bytes, at)
  if (h.magic !== 2) return `magic ${h.magic}`
  if (h.sizeBytes < BATCH_HEADER_BYTES || h.sizeBytes > STORED_BATCH_BYTES_MAX) return `impossible size ${h.sizeBytes}`
  if (h.lastOffsetDelta < 0 || h.baseOffset < 0 || !Number.isSafeInteger(h.nextOffset)) return 'impossible offsets'
  return h
}

/** Framing + CRC32C of the whole batch at bytes[0..]. Returns the header or a reason. */
export function checkCrc(codec: Codec, bytes: Uint8Array): BatchHeader | string {
  const h = checkFraming(bytes)
  if (typeof h === 'string') return h
  if (bytes.length < h.sizeBytes) return `truncated: ${bytes.length} of ${h.sizeBytes} bytes`
  if (!codec.batchCrcMatches(bytes, h)) return 'CRC mismatch'
  return h
}

/**
 * The full check recovery does: framing, CRC and (uncompressed) the records section.
 * Offsets need not be contiguous: compaction leaves gaps.
 */
export function checkStored(codec: Codec, bytes: Uint8Array): BatchHeader | string {
  const h = checkFraming(bytes)
  if (typeof h === 'string' || h.compression !== 'none') return checkCrc(codec, bytes)
  if (bytes.length < h.sizeBytes) return `truncated: ${bytes.length} of ${h.sizeBytes} bytes`
  // validateBatch checks the CRC in the same WASM pass as the walk: once per batch, not twice
  // (every follower append and recovery runs this; the second CRC was ~5 % of a follower's CPU).
  try {
    codec.validateBatch(bytes.subarray(0, h.sizeBytes), { contiguous: false })
    return h
  } catch (err) {
    if (err instanceof CodecError) return err.code === 'BATCH_BAD_CRC' ? 'CRC mismatch' : `${err.code}: ${err.message}`
    throw err
  }
}

export { LOG_OVERHEAD_BYTES }
