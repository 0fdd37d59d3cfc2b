// Pure-JS access to the RecordBatch v2 header: read it, stamp baseOffset and
// partitionLeaderEpoch in place (both lie outside the CRC), and split concatenated batches.
// No WASM needed: these are a few fixed-offset reads.
import { CodecError } from './errors.js'
import { COMPRESSION_CODECS, type BatchHeader } from './types.js'

export const BATCH_HEADER_BYTES = 61
/** baseOffset and batchLength precede what batchLength counts. */
export const LOG_OVERHEAD_BYTES = 12
export const CRC_START = 21

export const ATTR_COMPRESSION_MASK = 0x07
export const ATTR_LOG_APPEND_TIME = 0x08
export const ATTR_TRANSACTIONAL = 0x10
export const ATTR_CONTROL = 0x20

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
  const attributes = v.getInt16(o + 21)
  const baseOffset = getInt64(v, o)
  const batchLength = v.getInt32(o + 8)
  const lastOffsetDelta = v.getInt32(o + 23)
  return {
    baseOffset,
    batchLength,
    sizeBytes: batchLength + LOG_OVERHEAD_BYTES,
    partitionLeaderEpoch: v.getInt32(o + 12),
    magic: v.getInt8(o + 16),
    crc: v.getUint32(o + 17),
    attributes,
    compression: COMPRESSION_CODECS[attributes & ATTR_COMPRESSION_MASK] ?? 'unknown',
    timestampType: attributes & ATTR_LOG_APPEND_TIME ? 'LogAppendTime' : 'CreateTime',
    transactional: (attributes & ATTR_TRANSACTIONAL) !== 0,
    control: (attributes & ATTR_CONTROL) !== 0,
    lastOffsetDelta,
    nextOffset: baseOffset + lastOffsetDelta + 1,
    baseTimestamp: getInt64(v, o + 27),
    maxTimestamp: getInt64(v, o + 35),
    producerId: getInt64(v, o + 43),
    producerEpoch: v.getInt16(o + 51),
    baseSequence: v.getInt32(o + 53),
    recordCount: v.getInt32(o + 57),
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
  setInt64(v, offset, baseOffset)
  v.setInt32(offset + 12, partitionLeaderEpoch)
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
    const size = left >= LOG_OVERHEAD_BYTES ? v.getInt32(at + 8) + LOG_OVERHEAD_BYTES : -1
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
