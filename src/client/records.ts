// The records users hand the producer and get from the consumer, and the conversions between
// them and the codec's RecordInput. Strings are UTF-8 encoded here once, at send time.
import type { DecodedRecord, RecordHeader, RecordInput } from '../codec/index.js'
import { ClientError } from './errors.js'

export type Bytes = Uint8Array | string

export interface ProducerRecord {
  topic: string
  /** Explicit partition; otherwise murmur2(key), or the sticky partition for a null key. */
  partition?: number
  /** null (or absent) and empty are distinct. */
  key?: Bytes | null
  value: Bytes | null
  /** An object (one value per key) or a list (keys may repeat, as Kafka allows). */
  headers?: Record<string, Bytes | null> | ReadonlyArray<{ key: string; value: Bytes | null }>
  /** Milliseconds since the epoch; defaults to the time of send(). */
  timestamp?: number
}

export interface RecordMetadata {
  topic: string
  partition: number
  /** -1 with acks=0 (the broker does not answer). */
  offset: number
}

export interface ConsumerRecord {
  topic: string
  partition: number
  offset: number
  timestamp: number
  /** Views into the fetched frame (zero-copy): copy one to keep it while dropping the rest. */
  key: Uint8Array | null
  value: Uint8Array | null
  headers: RecordHeader[]
}

const utf8 = new TextEncoder()

function toBytes(b: Bytes | null | undefined): Uint8Array | null {
  if (b == null) return null
  return typeof b === 'string' ? utf8.encode(b) : b
}

/** The codec's input for a user record, with its timestamp fixed now if not given. */
export function toRecordInput(r: ProducerRecord, now: number): RecordInput {
  if (typeof r.topic !== 'string' || r.topic.length === 0) throw new ClientError('INVALID_ARGUMENT', 'record.topic must be a non-empty string')
  if (r.value === undefined) throw new ClientError('INVALID_ARGUMENT', 'record.value is required (use null for a tombstone)')
  const headers: RecordHeader[] = []
  if (Array.isArray(r.headers)) {
    for (const h of r.headers as ReadonlyArray<{ key: string; value: Bytes | null }>) headers.push({ key: h.key, value: toBytes(h.value) })
  } else if (r.headers) {
    for (const [key, value] of Object.entries(r.headers)) headers.push({ key, value: toBytes(value as Bytes | null) })
  }
  return { key: toBytes(r.key), value: toBytes(r.value), headers, timestamp: r.timestamp ?? now }
}

/** UTF-8 length of a string without encoding it. */
function utf8Length(s: string): number {
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) n += 1
    else if (c < 0x800) n += 2
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4
      i++
    } else n += 3
  }
  return n
}

/**
 * An upper bound on a record's encoded size (as Kafka's estimateSizeInBytesUpperBound):
 * length, attributes, timestamp and offset deltas, key and value lengths as varints of at most
 * 5 bytes (10 for the timestamp), and each header's key and value.
 */
export function estimateRecordBytes(r: RecordInput): number {
  let size = 5 + 1 + 10 + 5 + 5 + (r.key?.length ?? 0) + 5 + (r.value?.length ?? 0) + 5
  for (const h of r.headers ?? []) size += 5 + utf8Length(h.key) + 5 + (h.value?.length ?? 0)
  return size
}

export function toConsumerRecord(topic: string, partition: number, r: DecodedRecord): ConsumerRecord {
  return { topic, partition, offset: r.offset, timestamp: r.timestamp, key: r.key, value: r.value, headers: r.headers }
}
