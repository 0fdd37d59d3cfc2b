// kafkajs as an independent implementation of RecordBatch v2, used only as a test oracle,
// and fast-check arbitraries for records. Not a test file itself.
import { createRequire } from 'node:module'
import fc from 'fast-check'
import type { RecordHeader, RecordInput } from '../../src/codec/index.js'

const require = createRequire(import.meta.url)
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js')
const decodeRecordBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js')
const KafkajsRecord = require('kafkajs/src/protocol/recordBatch/record/v0/index.js')
const KafkajsDecoder = require('kafkajs/src/protocol/decoder.js')
const Long = require('kafkajs/src/utils/long.js')
const { Types, Codecs } = require('kafkajs/src/protocol/message/compression/index.js')
// kafkajs's documented plug-ins for the codecs it lacks: kafkajs-lz4 (the `lz4` package,
// LZ4 frames) and kafkajs-snappy (snappyjs; writes raw Snappy, reads raw or xerial).
const LZ4Codec = require('kafkajs-lz4')
const SnappyCodec = require('kafkajs-snappy')
Codecs[Types.LZ4] = new LZ4Codec().codec
Codecs[Types.Snappy] = SnappyCodec
export const kafkajsCrc32c: (buf: Buffer) => number = require('kafkajs/src/protocol/recordBatch/crc32C/crc32C.js')

/** A record as generated: headers grouped by key, the only shape kafkajs can encode. */
export interface GenRecord {
  key: Uint8Array | null
  value: Uint8Array | null
  headers: Record<string, Uint8Array[]>
  timestampDelta: number
}

export interface GenBatch {
  records: GenRecord[]
  baseOffset: number
  baseTimestamp: number
  partitionLeaderEpoch: number
  producerId: number
  producerEpoch: number
  baseSequence: number
  transactional: boolean
}

const bytesOrNull = (maxLength: number) => fc.option(fc.uint8Array({ maxLength }), { nil: null, freq: 5 })

export const genRecord = (maxBytes = 200): fc.Arbitrary<GenRecord> =>
  fc.record({
    key: bytesOrNull(maxBytes / 4),
    value: bytesOrNull(maxBytes),
    headers: fc.dictionary(
      // kafkajs decodes headers into a plain object, so it mangles keys such as 'toString'.
      fc.string({ maxLength: 12 }).filter((k) => !(k in Object.prototype)),
      fc.array(fc.uint8Array({ maxLength: 16 }), { minLength: 1, maxLength: 2 }),
      { maxKeys: 3 },
    ),
    timestampDelta: fc.integer({ min: 0, max: 2 ** 31 }),
  })

export const genBatch = (maxRecords = 20, maxBytes = 200): fc.Arbitrary<GenBatch> =>
  fc.record({
    records: fc.array(genRecord(maxBytes), { minLength: 1, maxLength: maxRecords }),
    baseOffset: fc.integer({ min: 0, max: 2 ** 50 }),
    baseTimestamp: fc.integer({ min: 0, max: 2 ** 42 }),
    partitionLeaderEpoch: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
    producerId: fc.integer({ min: -1, max: 2 ** 50 }),
    producerEpoch: fc.integer({ min: -1, max: 2 ** 15 - 1 }),
    baseSequence: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
    transactional: fc.boolean(),
  })

/** Headers in the order kafkajs writes them: Object.keys order, each key's values in turn. */
export function flatHeaders(headers: Record<string, Uint8Array[]>): RecordHeader[] {
  return Object.keys(headers).flatMap((key) => headers[key].map((value) => ({ key, value })))
}

export function toRecordInputs(b: GenBatch): RecordInput[] {
  return b.records.map((r) => ({
    key: r.key,
    value: r.value,
    headers: flatHeaders(r.headers),
    timestamp: b.baseTimestamp + r.timestampDelta,
  }))
}

export function maxTimestampOf(b: GenBatch): number {
  return b.baseTimestamp + Math.max(...b.records.map((r) => r.timestampDelta))
}

const buf = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b.buffer, b.byteOffset, b.byteLength))

/** 'zstd' needs the plug-in zstd-decode-kafkajs.ts registers (kafkajs has no zstd codec). */
export type KafkajsCompression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'
const kafkajsTypes: Record<KafkajsCompression, number> = { none: Types.None, gzip: Types.GZIP, snappy: Types.Snappy, lz4: Types.LZ4, zstd: Types.ZSTD }

export async function kafkajsEncode(b: GenBatch, compression: KafkajsCompression = 'none'): Promise<Uint8Array> {
  const encoder = await RecordBatch({
    compression: kafkajsTypes[compression],
    firstOffset: Long.fromNumber(b.baseOffset),
    firstTimestamp: b.baseTimestamp,
    maxTimestamp: maxTimestampOf(b),
    partitionLeaderEpoch: b.partitionLeaderEpoch,
    lastOffsetDelta: b.records.length - 1,
    transactional: b.transactional,
    producerId: Long.fromNumber(b.producerId),
    producerEpoch: b.producerEpoch,
    firstSequence: b.baseSequence,
    records: b.records.map((r, i) =>
      KafkajsRecord({
        offsetDelta: i,
        timestampDelta: r.timestampDelta,
        key: buf(r.key),
        value: buf(r.value),
        headers: Object.fromEntries(Object.entries(r.headers).map(([k, vs]) => [k, vs.map(buf)])),
      }),
    ),
  })
  return new Uint8Array(encoder.buffer)
}

export interface KafkajsDecoded {
  firstOffset: string
  firstTimestamp: string
  maxTimestamp: string
  producerId: string
  records: Array<{
    offset: string
    timestamp: string
    key: Buffer | null
    value: Buffer | null
    headers: Record<string, Buffer | Buffer[]>
  }>
}

export async function kafkajsDecode(bytes: Uint8Array): Promise<KafkajsDecoded> {
  return decodeRecordBatch(new KafkajsDecoder(Buffer.from(bytes)))
}
