// Pure-JS access to the RecordBatch v2 header: read it, stamp baseOffset and
// partitionLeaderEpoch in place (both lie outside the CRC), and split concatenated batches.
// No WASM needed: these are a few fixed-offset reads (the offsets are in layout.ts).
import { CodecError } from './errors.js'
import {
  ATTR_COMPRESSION_MASK, ATTR_CONTROL, ATTR_LOG_APPEND_TIME, ATTR_TRANSACTIONAL, BATCH_HEADER,
  BATCH_HEADER_BYTES, LOG_OVERHEAD_BYTES,
} from './layout.js'
import { COMPRESSION_CODECS, type BatchHeader } from './types.js'

// A module-level name, so V8 folds the field offsets to constants (it does not for imports).
const H = BATCH_HEADER

const TWO_POW_32 = 4294967296

export function getInt64(view: DataView, at: number): number {
  return view.getInt32(at) * TWO_POW_32 + view.getUint32(at + 4)
}

export function setInt64(view: DataView, at: number, value: number): void {
  if (!Number.isSafeInteger(value)) {
    throw new CodecError('INVALID_ARGUMENT', `int64 field value ${value} is not a safe integer (|v| < 2^53)`)
  }
  const hi = Math.floor(value / TWO_POW_32)
  view.setInt32(at, hi)
  view.setUint32(at + 4, value - hi * TWO_POW_32)
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/** The size in bytes that the batch at view[at] declares (its batchLength field, plus what precedes it). */
export function declaredBatchBytes(view: DataView, at = 0): number {
  return view.getInt32(at + H.batchLength.at) + LOG_OVERHEAD_BYTES
}

/** Reads the header of the batch at bytes[offset]. Checks only that the header is there. */
export function readBatchHeader(bytes: Uint8Array, offset = 0): BatchHeader {
  if (bytes.length - offset < BATCH_HEADER_BYTES) {
    throw new CodecError(
      'BATCH_TRUNCATED',
      `record batch header needs ${BATCH_HEADER_BYTES} bytes, only ${bytes.length - offset} present`,
    )
  }
  const v = viewOf(bytes)
  const o = offset
  const attributes = v.getInt16(o + H.attributes.at)
  const baseOffset = getInt64(v, o + H.baseOffset.at)
  const batchLength = v.getInt32(o + H.batchLength.at)
  const lastOffsetDelta = v.getInt32(o + H.lastOffsetDelta.at)
  return {
    baseOffset,
    batchLength,
    sizeBytes: batchLength + LOG_OVERHEAD_BYTES,
    partitionLeaderEpoch: v.getInt32(o + H.partitionLeaderEpoch.at),
    magic: v.getInt8(o + H.magic.at),
    crc: v.getUint32(o + H.crc.at),
    attributes,
    compression: COMPRESSION_CODECS[attributes & ATTR_COMPRESSION_MASK] ?? 'unknown',
    timestampType: attributes & ATTR_LOG_APPEND_TIME ? 'LogAppendTime' : 'CreateTime',
    transactional: (attributes & ATTR_TRANSACTIONAL) !== 0,
    control: (attributes & ATTR_CONTROL) !== 0,
    lastOffsetDelta,
    nextOffset: baseOffset + lastOffsetDelta + 1,
    baseTimestamp: getInt64(v, o + H.baseTimestamp.at),
    maxTimestamp: getInt64(v, o + H.maxTimestamp.at),
    producerId: getInt64(v, o + H.producerId.at),
    producerEpoch: v.getInt16(o + H.producerEpoch.at),
    baseSequence: v.getInt32(o + H.baseSequence.at),
    recordCount: v.getInt32(o + H.recordCount.at),
  }
}

/**
 * Writes baseOffset and partitionLeaderEpoch into the batch at bytes[offset], in place.
 * Both lie outside the CRC, so the batch stays valid: this is the leader's whole rewrite.
 */
export function stampBatch(bytes: Uint8Array, baseOffset: number, partitionLeaderEpoch: number, offset = 0): void {
  if (bytes.length - offset < BATCH_HEADER_BYTES) {
    throw new CodecError('BATCH_TRUNCATED', 'cannot stamp: record batch header is truncated')
  }
  const v = viewOf(bytes)
  setInt64(v, offset + H.baseOffset.at, baseOffset)
  v.setInt32(offset + H.partitionLeaderEpoch.at, partitionLeaderEpoch)
}

/**
 * Splits concatenated batches (a produce payload, a fetch response, a segment slice) into
 * [start, end) byte ranges, by their batchLength fields only. A trailing partial batch is
 * an error unless `allowPartialTail` (a fetch may end mid-batch, as Kafka's does).
 */
export function splitBatches(bytes: Uint8Array, allowPartialTail = false): Array<[number, number]> {
  const v = viewOf(bytes)
  const ranges: Array<[number, number]> = []
  let at = 0
  while (at < bytes.length) {
    const left = bytes.length - at
    const size = left >= LOG_OVERHEAD_BYTES ? declaredBatchBytes(v, at) : -1
    if (left >= LOG_OVERHEAD_BYTES && size < BATCH_HEADER_BYTES) {
      throw new CodecError('BATCH_BAD_LENGTH', `record batch at byte ${at} declares an impossible size ${size}`)
    }
    if (size < 0 || size > left) {
      if (allowPartialTail) break
      throw new CodecError('BATCH_TRUNCATED', `record batch at byte ${at} is truncated (${left} bytes left)`)
    }
    ranges.push([at, at + size])
    at += size
  }
  return ranges
}
