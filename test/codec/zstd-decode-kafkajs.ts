// kafkajs writing zstd batches, as a test oracle: kafkajs has no zstd codec of its own, so this
// registers a small plug-in over the @mongodb-js/zstd native binding (as kafkajs-lz4 does for
// LZ4 in oracle.ts); the records section is then one zstd frame, as Kafka's producers write it.
// Not a test file.
import { createRequire } from 'node:module'
import { maxTimestampOf, type GenBatch } from './oracle.js'
import { nativeCompress, nativeDecompress } from './zstd-oracle.js'

const require = createRequire(import.meta.url)
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js')
const KafkajsRecord = require('kafkajs/src/protocol/recordBatch/record/v0/index.js')
const Long = require('kafkajs/src/utils/long.js')
const { Types, Codecs } = require('kafkajs/src/protocol/message/compression/index.js')

let level = 3
Codecs[Types.ZSTD] = () => ({
  compress: async (encoder: { buffer: Buffer }) => Buffer.from(await nativeCompress(encoder.buffer, level)),
  decompress: async (buffer: Buffer) => Buffer.from(await nativeDecompress(buffer)),
})

const buf = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b.buffer, b.byteOffset, b.byteLength))

/** `b` as kafkajs encodes it with compression zstd (attribute codec 4) at `zstdLevel`. */
export async function kafkajsZstdBatch(b: GenBatch, zstdLevel = 3): Promise<Uint8Array> {
  level = zstdLevel
  const encoder = await RecordBatch({
    compression: Types.ZSTD,
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
