// The records users hand the producer and get from the consumer, and the conversions between
// them and the codec's RecordInput. Strings are UTF-8 encoded here once, at send time.
import { utf8Length, type DecodedRecord, type RecordHeader, type RecordInput } from '../codec/index.js'
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
  /**
   * -1 when not known: with acks=0 (the broker does not answer), and for an idempotent batch
   * whose retry found the leader no longer remembering it while a later batch of it had been
   * acknowledged, so it is in the log, written once, at an offset no broker can tell any more
   * (as Kafka's producer reports one answered DUPLICATE_SEQUENCE_NUMBER).
   */
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

/** A key, value or header value as bytes (strings are UTF-8 encoded here, once). */
export function toBytes(b: Bytes | null | undefined): Uint8Array | null {
  if (b == null) return null
  return typeof b === 'string' ? utf8.encode(b) : b
}

const NO_HEADERS: RecordHeader[] = []

/** A record's headers as the codec takes them (the shared empty list when it has none). */
export function toHeaders(headers: ProducerRecord['headers']): RecordHeader[] {
  if (!headers) return NO_HEADERS
  const out: RecordHeader[] = []
  if (Array.isArray(headers)) {
    for (const h of headers as ReadonlyArray<{ key: string; value: Bytes | null }>) out.push({ key: h.key, value: toBytes(h.value) })
  } else {
    for (const [key, value] of Object.entries(headers)) out.push({ key, value: toBytes(value as Bytes | null) })
  }
  return out
}

/** Throws INVALID_ARGUMENT for a record the producer cannot take. */
export function checkRecord(r: ProducerRecord): void {
  if (typeof r.topic !== 'string' || r.topic.length === 0) throw new ClientError('INVALID_ARGUMENT', 'record.topic must be a non-empty string')
  if (r.value === undefined) throw new ClientError('INVALID_ARGUMENT', 'record.value is required (use null for a tombstone)')
}

/** The codec's input for a user record, with its timestamp fixed now if not given. */
export function toRecordInput(r: ProducerRecord, now: number): RecordInput {
  checkRecord(r)
  return { key: toBytes(r.key), value: toBytes(r.value), headers: toHeaders(r.headers), timestamp: r.timestamp ?? now }
}

/**
 * An upper bound on a record's encoded size (as Kafka's estimateSizeInBytesUpperBound):
 * length, attributes, timestamp and offset deltas, key and value lengths as varints of at most
 * 5 bytes (10 for the timestamp), and each header's key and value.
 */
export function estimateRecordBytes(r: RecordInput): number {
  return recordBytesUpperBound(r.key ?? null, r.value, r.headers ?? NO_HEADERS)
}

export function recordBytesUpperBound(key: Uint8Array | null, value: Uint8Array | null, headers: readonly RecordHeader[]): number {
  let size = 5 + 1 + 10 + 5 + 5 + (key?.length ?? 0) + 5 + (value?.length ?? 0) + 5
  for (let i = 0; i < headers.length; i++) size += 5 + utf8Length(headers[i].key) + 5 + (headers[i].value?.length ?? 0)
  return size
}

export function toConsumerRecord(topic: string, partition: number, r: DecodedRecord): ConsumerRecord {
  return { topic, partition, offset: r.offset, timestamp: r.timestamp, key: r.key, value: r.value, headers: r.headers }
}
