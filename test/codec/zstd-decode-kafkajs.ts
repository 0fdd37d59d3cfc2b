// kafkajs writing zstd batches, as a test oracle: kafkajs has no zstd codec of its own, so this
// registers a small plug-in over the @mongodb-js/zstd native binding (as kafkajs-lz4 does for
// LZ4 in oracle.ts); the records section is then one zstd frame, as Kafka's producers write it.
// Not a test file.
import { createRequire } from 'node:module'
import { kafkajsEncode, type GenBatch } from './oracle.js'
import { nativeCompress, nativeDecompress } from './zstd-oracle.js'

const require = createRequire(import.meta.url)
const { Types, Codecs } = require('kafkajs/src/protocol/message/compression/index.js')

let level = 3
Codecs[Types.ZSTD] = () => ({
  compress: async (encoder: { buffer: Buffer }) => Buffer.from(await nativeCompress(encoder.buffer, level)),
  decompress: async (buffer: Buffer) => Buffer.from(await nativeDecompress(buffer)),
})

/** `b` as kafkajs encodes it with compression zstd (attribute codec 4) at `zstdLevel`. */
export async function kafkajsZstdBatch(b: GenBatch, zstdLevel = 3): Promise<Uint8Array> {
  level = zstdLevel
  return kafkajsEncode(b, 'zstd')
}
