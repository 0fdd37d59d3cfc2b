// Codec micro-benchmarks (benny): CRC32C, RecordBatch v2 encode+decode, and LZ4 / Snappy /
// zstd compression and decompression on the fixed corpus of perf/corpus.ts, each beside its
// baselines measured in the same run. `npm run bench:micro [-- --quick] [-- --json FILE] [-- --suite compression]`.
import b from 'benny'
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { createRequire } from 'node:module'
import { crc32c as nativeCrc32c } from '@node-rs/crc32'
import { loadCodec, type RecordInput } from '../src/codec/index.js'
import { instantiateCodec, Scratch } from '../src/codec/wasm.js'
import { corpus, corpusPart, CORPUS_KINDS } from './corpus.js'

const require = createRequire(import.meta.url)
const kafkajsCrc32c: (b: Buffer) => number = require('kafkajs/src/protocol/recordBatch/crc32C/crc32C.js')
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js')
const KafkajsRecord = require('kafkajs/src/protocol/recordBatch/record/v0/index.js')
const decodeKafkajsBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js')
const KafkajsDecoder = require('kafkajs/src/protocol/decoder.js')

const { values: args } = parseArgs({
  options: { quick: { type: 'boolean' }, json: { type: 'string' }, suite: { type: 'string', multiple: true } },
})
const SUITES = ['crc', 'batch', 'compression']
const suites = args.suite ?? SUITES
for (const s of suites) if (!SUITES.includes(s)) throw new Error(`unknown --suite ${s} (known: ${SUITES.join(', ')})`)
const quick = args.quick ?? false
const caseOptions = quick ? { maxTime: 0.05, minSamples: 2 } : { maxTime: 2, minSamples: 10 }

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

// The native addons are dev dependencies of the benchmark only.
function nativeCompressors() {
  try {
    return {
      lz4napi: require('lz4-napi') as { compressFrameSync(b: Buffer): Buffer; decompressFrameSync(b: Buffer): Buffer },
      snappy: require('snappy') as { compressSync(b: Buffer): Buffer; uncompressSync(b: Buffer): Buffer },
      // The NAPI bindings themselves: the package's index.js wrapper drops the level argument.
      zstd: require('@mongodb-js/zstd/bindings.js') as { compress(b: Buffer, level: number): Promise<Buffer> },
    }
  } catch (err) {
    throw new Error(`the compression benchmark needs the lz4-napi, snappy and @mongodb-js/zstd packages: ${(err as Error).message}`)
  }
}

/** Compressed sizes, ours against the native addons, per corpus kind and for the whole corpus. */
async function compressionSizes(): Promise<void> {
  const codec = await loadCodec()
  const { lz4napi, snappy, zstd } = nativeCompressors()
  console.log('\ncompressed size (bytes): wasm vs native (zstd: native level 1), and wasm / native')
  const parts: Array<[string, Uint8Array]> = [...CORPUS_KINDS.map((k): [string, Uint8Array] => [k, corpusPart(k, 256 * 1024)]), ['whole corpus', corpus()]]
  for (const [name, data] of parts) {
    const buf = Buffer.from(data)
    const lz4 = [codec.compress('lz4', data).length, lz4napi.compressFrameSync(buf).length]
    const sn = [codec.compress('snappy', data).length, snappy.compressSync(buf).length]
    const zs = [codec.compress('zstd', data).length, (await zstd.compress(buf, 1)).length]
    const raw = await rawSnappyLength(data)
    console.log(
      `  ${name.padEnd(14)} ${String(data.length).padStart(8)}  lz4 ${lz4[0]} vs ${lz4[1]} (${(lz4[0] / lz4[1]).toFixed(3)})` +
        `  snappy xerial ${sn[0]}, raw ${raw} vs ${sn[1]} (raw ${(raw / sn[1]).toFixed(3)})` +
        `  zstd ${zs[0]} vs ${zs[1]} (${(zs[0] / zs[1]).toFixed(3)})`,
    )
  }
}

let rawSnappyTools: { wasm: Awaited<ReturnType<typeof instantiateCodec>>; scratch: Scratch } | undefined
async function rawSnappyLength(data: Uint8Array): Promise<number> {
  rawSnappyTools ??= await (async () => {
    const wasm = await instantiateCodec()
    return { wasm, scratch: new Scratch(wasm) }
  })()
  const { wasm, scratch } = rawSnappyTools
  const src = scratch.reserve(data.length + wasm.snappyRawBound(data.length) + 8)
  scratch.u8.set(data, src)
  return wasm.snappyCompressRaw(src, data.length, src + ((data.length + 7) & ~7))
}

/**
 * Throughput on the whole corpus (1 MiB). "module memory" rows call the WASM exports on data
 * already in the module (what the batch codec does); "codec.*" rows add the copies in and out
 * of a standalone call. MB/s is of uncompressed bytes in both directions.
 */
async function compressionSuites(): Promise<void> {
  const codec = await loadCodec()
  const { lz4napi, snappy, zstd } = nativeCompressors()
  const wasm = await instantiateCodec()
  const scratch = new Scratch(wasm)
  const data = corpus()
  const buf = Buffer.from(data)
  const n = data.length
  const room = Math.max(wasm.lz4FrameBound(n), wasm.snappyXerialBound(n), wasm.zstdCompressBound(n))
  const src = scratch.reserve(3 * (n + room))
  const packed = src + n + room
  const out = packed + n + room
  scratch.u8.set(data, src)

  const lz4Frame = codec.compress('lz4', data)
  const lz4Len = wasm.lz4FrameCompress(src, n, packed)
  const napiFrame = lz4napi.compressFrameSync(buf)
  let label = 'lz4 compress, corpus 1 MiB'
  console.log(`\n${label}`)
  await b.suite(
    label,
    b.add('wasm lz4 frame (module memory)', () => wasm.lz4FrameCompress(src, n, out), caseOptions),
    b.add('wasm codec.compress lz4', () => codec.compress('lz4', data), caseOptions),
    b.add('lz4-napi compressFrameSync', () => lz4napi.compressFrameSync(buf), caseOptions),
    report(label, n, ['lz4-napi compressFrameSync']),
  )
  label = 'lz4 decompress, corpus 1 MiB'
  console.log(`\n${label}`)
  await b.suite(
    label,
    b.add('wasm lz4 frame (module memory)', () => wasm.lz4FrameDecompress(packed, lz4Len, out, n), caseOptions),
    b.add('wasm codec.decompress lz4', () => codec.decompress('lz4', lz4Frame), caseOptions),
    b.add('lz4-napi decompressFrameSync', () => lz4napi.decompressFrameSync(napiFrame), caseOptions),
    report(label, n, ['lz4-napi decompressFrameSync']),
  )

  const snappyStream = codec.compress('snappy', data)
  const rawLen = wasm.snappyCompressRaw(src, n, packed)
  const nativeRaw = snappy.compressSync(buf)
  label = 'snappy compress, corpus 1 MiB'
  console.log(`\n${label}`)
  await b.suite(
    label,
    b.add('wasm snappy raw (module memory)', () => wasm.snappyCompressRaw(src, n, out), caseOptions),
    b.add('wasm codec.compress snappy (xerial)', () => codec.compress('snappy', data), caseOptions),
    b.add('snappy compressSync (raw)', () => snappy.compressSync(buf), caseOptions),
    report(label, n, ['snappy compressSync (raw)']),
  )
  label = 'snappy decompress, corpus 1 MiB'
  console.log(`\n${label}`)
  await b.suite(
    label,
    b.add('wasm snappy raw (module memory)', () => wasm.snappyDecompressRaw(packed, rawLen, out, n), caseOptions),
    b.add('wasm codec.decompress snappy (xerial)', () => codec.decompress('snappy', snappyStream), caseOptions),
    b.add('snappy uncompressSync (raw)', () => snappy.uncompressSync(nativeRaw), caseOptions),
    report(label, n, ['snappy uncompressSync (raw)']),
  )

  // The native binding runs on libuv's thread pool and answers through a promise: its rows
  // include that hop (tens of microseconds against milliseconds of work on 1 MiB).
  label = 'zstd compress, corpus 1 MiB'
  console.log(`\n${label}`)
  await b.suite(
    label,
    b.add('wasm zstd frame (module memory)', () => wasm.zstdCompress(src, n, out), caseOptions),
    b.add('wasm codec.compress zstd', () => codec.compress('zstd', data), caseOptions),
    b.add('@mongodb-js/zstd level 1', async () => {
      await zstd.compress(buf, 1)
    }, caseOptions),
    report(label, n, ['@mongodb-js/zstd level 1']),
  )
}

/**
 * zstd decompression of the corpus (1 MiB): our WASM decoder against the @mongodb-js/zstd native
 * binding (the reference library), on the binding's own frames (level 3, no checksum, as
 * Kafka's Java producer writes them) and on the CLI's (level 3 with the XXH64 checksum; level
 * 19). The binding only has an async API: its rows include a thread-pool round trip per call.
 */
async function zstdDecodeSuites(): Promise<void> {
  const codec = await loadCodec()
  const zstd = require('@mongodb-js/zstd') as { compress(b: Buffer, level: number): Promise<Buffer>; decompress(b: Buffer): Promise<Buffer> }
  const { cliCompress } = await import('../test/codec/zstd-oracle.js')
  const wasm = await instantiateCodec()
  const scratch = new Scratch(wasm)
  const data = corpus()
  const n = data.length
  const frames: Array<[string, Uint8Array]> = [
    ['native level 3', new Uint8Array(await zstd.compress(Buffer.from(data), 3))],
    ['CLI -3 (checksum)', cliCompress(data, ['-3'])],
    ['CLI -19', cliCompress(data, ['-19'])],
  ]
  for (const [name, frame] of frames) {
    const src = scratch.reserve(frame.length + n + 16)
    scratch.u8.set(frame, src)
    const out = (src + frame.length + 7) & ~7
    const buf = Buffer.from(frame)
    const label = `zstd decompress, corpus 1 MiB, ${name} frame (${frame.length} bytes)`
    console.log(`\n${label}`)
    await b.suite(
      label,
      b.add('wasm zstd (module memory)', () => wasm.zstdDecompress(src, frame.length, out, n), caseOptions),
      b.add('wasm codec.decompress zstd', () => codec.decompress('zstd', frame), caseOptions),
      b.add('@mongodb-js/zstd decompress (async)', async () => zstd.decompress(buf), caseOptions),
      report(label, n, ['@mongodb-js/zstd decompress (async)']),
    )
  }
}

if (suites.includes('crc')) await crcSuites()
if (suites.includes('batch')) await batchSuites()
if (suites.includes('compression')) {
  await compressionSizes()
  await compressionSuites()
  await zstdDecodeSuites()
}
if (args.json) writeFileSync(args.json, JSON.stringify({ date: new Date().toISOString(), results }, null, 2))
