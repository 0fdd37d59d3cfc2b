// Codec micro-benchmarks (benny): CRC32C and RecordBatch v2 encode+decode, each beside its
// baselines measured in the same run. `npm run bench:micro [-- --quick] [-- --json FILE]`.
import b from 'benny'
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { createRequire } from 'node:module'
import { crc32c as nativeCrc32c } from '@node-rs/crc32'
import { loadCodec, type RecordInput } from '../src/codec/index.js'
import { instantiateCodec, Scratch } from '../src/codec/wasm.js'

const require = createRequire(import.meta.url)
const kafkajsCrc32c: (b: Buffer) => number = require('kafkajs/src/protocol/recordBatch/crc32C/crc32C.js')
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js')
const KafkajsRecord = require('kafkajs/src/protocol/recordBatch/record/v0/index.js')
const decodeKafkajsBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js')
const KafkajsDecoder = require('kafkajs/src/protocol/decoder.js')

const { values: args } = parseArgs({ options: { quick: { type: 'boolean' }, json: { type: 'string' } } })
const quick = args.quick ?? false
const caseOptions = quick ? { maxTime: 0.2, minSamples: 2 } : { maxTime: 2, minSamples: 10 }

export interface MicroResult {
  suite: string
  name: string
  opsPerSec: number
  mbPerSec: number
  marginPct: number
}
const results: MicroResult[] = []

/** Deterministic pseudo-random bytes (xorshift), so every run measures the same input. */
function pseudoRandomBytes(n: number, seed = 0x9e3779b9): Uint8Array {
  const out = new Uint8Array(n)
  let x = seed >>> 0
  for (let i = 0; i < n; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}

function report(suite: string, bytesPerOp: number, baselines: string[]) {
  return b.complete((summary) => {
    const rows = summary.results.map((r) => ({ suite, name: r.name, opsPerSec: r.ops, mbPerSec: (r.ops * bytesPerOp) / 1e6, marginPct: r.margin }))
    results.push(...rows)
    for (const row of rows) {
      const ratios = baselines
        .filter((base) => base !== row.name)
        .map((base) => {
          const other = rows.find((x) => x.name === base)
          return other ? `${(row.opsPerSec / other.opsPerSec).toFixed(2)}x ${base}` : ''
        })
        .filter(Boolean)
      console.log(
        `  ${row.name.padEnd(34)} ${row.opsPerSec.toFixed(0).padStart(10)} ops/s ${row.mbPerSec.toFixed(0).padStart(7)} MB/s ±${row.marginPct.toFixed(1)}%  ${ratios.join(', ')}`,
      )
    }
  })
}

async function crcSuites(): Promise<void> {
  const codec = await loadCodec()
  const wasm = await instantiateCodec()
  const scratch = new Scratch(wasm)
  for (const size of [4 * 1024, 64 * 1024, 1024 * 1024]) {
    const data = pseudoRandomBytes(size)
    const buf = Buffer.from(data)
    const ptr = scratch.reserve(size)
    scratch.u8.set(data, ptr)
    const label = `crc32c ${size / 1024} KiB`
    console.log(`\n${label}`)
    await b.suite(
      label,
      b.add('wasm (data in module memory)', () => wasm.crc32cUpdate(0, ptr, size), caseOptions),
      b.add('wasm codec.crc32c (copy in + crc)', () => codec.crc32c(data), caseOptions),
      b.add('kafkajs (JavaScript)', () => kafkajsCrc32c(buf), caseOptions),
      b.add('@node-rs/crc32 (native SSE4.2)', () => nativeCrc32c(buf), caseOptions),
      report(label, size, ['kafkajs (JavaScript)', '@node-rs/crc32 (native SSE4.2)']),
    )
  }
}

function records100(count: number): RecordInput[] {
  const key = pseudoRandomBytes(10, 7)
  return Array.from({ length: count }, (_, i) => ({
    key,
    value: pseudoRandomBytes(90, i + 1),
    timestamp: 1_700_000_000_000 + i,
  }))
}

async function batchSuites(): Promise<void> {
  const codec = await loadCodec()
  for (const count of [1, 100, 1000]) {
    const records = records100(count)
    const kafkajsRecords = records.map((r, i) => ({
      offsetDelta: i,
      timestampDelta: r.timestamp! - records[0].timestamp!,
      key: Buffer.from(r.key!),
      value: Buffer.from(r.value!),
    }))
    const encoded = codec.encodeBatch(records)
    const label = `batch encode+decode, ${count} x 100-byte records`
    console.log(`\n${label} (${encoded.length} bytes)`)
    await b.suite(
      label,
      b.add('wasm codec', () => {
        const batch = codec.encodeBatch(records)
        codec.decodeBatch(batch)
      }, caseOptions),
      b.add('kafkajs', async () => {
        const enc = await RecordBatch({
          firstTimestamp: records[0].timestamp,
          maxTimestamp: records[count - 1].timestamp,
          lastOffsetDelta: count - 1,
          records: kafkajsRecords.map(KafkajsRecord),
        })
        await decodeKafkajsBatch(new KafkajsDecoder(enc.buffer))
      }, caseOptions),
      report(label, encoded.length, ['kafkajs']),
    )
  }
}

await crcSuites()
await batchSuites()
if (args.json) writeFileSync(args.json, JSON.stringify({ date: new Date().toISOString(), results }, null, 2))
