// Storage benchmark (`npm run bench:storage`): append MB/s with flush=always (1, 8 and 64
// appends in flight) and flush=interval, for 1 KiB and 64 KiB batches, and read MB/s, each
// beside this machine's plain-fs sequential write rate and fsync rate measured in the same run.
// Runs everything RUNS times (default 3) and reports the median of each figure.
// Appends pass `prevalidated` as the broker does (its produce path has already run
// codec.validateBatch); one extra row shows the cost of validating again inside the log.
//
//   npx tsx perf/storage.ts [--runs 3] [--seconds 1.5] [--dir /tmp]
import * as fs from 'node:fs'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadCodec, type Codec } from '../src/codec/index.js'
import { PartitionLog, type LogConfig } from '../src/storage/index.js'

const args = new Map<string, string>()
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1])
const RUNS = Number(args.get('runs') ?? 3)
const SECONDS = Number(args.get('seconds') ?? 1.5)
const BASE_DIR = args.get('dir') ?? tmpdir()
const BYTES_CAP = 768 * 1024 * 1024 // per measurement, so a fast disk does not fill /tmp
const MB = 1e6

const codec = await loadCodec()

function scratchDir(): string {
  return mkdtempSync(join(BASE_DIR, 'bitacora-bench-'))
}

/** A batch of about `size` bytes (records of ~1 KiB, or 8 records for small batches). */
function batchOf(c: Codec, size: number): Uint8Array {
  const count = size >= 8192 ? Math.round(size / 1024) : 8
  const valueBytes = Math.max(1, Math.floor((size - 61) / count) - 12)
  const value = new Uint8Array(valueBytes).map((_, i) => (i * 131) & 0xff)
  return c.encodeBatch(Array.from({ length: count }, () => ({ value, timestamp: Date.now() })))
}

/** Plain fs: sequential writes of `chunk` bytes for SECONDS, then one fdatasync. MB/s. */
function plainSequentialWrite(chunk: number): number {
  const dir = scratchDir()
  try {
    const fd = fs.openSync(join(dir, 'plain'), 'w')
    const buf = Buffer.alloc(chunk, 7)
    const start = performance.now()
    let written = 0
    while (performance.now() - start < SECONDS * 1000 && written < BYTES_CAP) {
      fs.writeSync(fd, buf, 0, chunk, written)
      written += chunk
    }
    fs.fdatasyncSync(fd)
    const seconds = (performance.now() - start) / 1000
    fs.closeSync(fd)
    return written / MB / seconds
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * Plain fs: append `chunk` bytes + fdatasync, repeated for SECONDS. Returns fsyncs/s and MB/s:
 * with chunk = 8 x 64 KiB this is the ceiling of flush=always with 8 appends of 64 KiB in flight.
 */
function plainWriteFsync(chunk: number): { perSecond: number; mbps: number } {
  const dir = scratchDir()
  try {
    const fd = fs.openSync(join(dir, 'fsync'), 'w')
    const buf = Buffer.alloc(chunk, 1)
    const start = performance.now()
    let n = 0
    while (performance.now() - start < SECONDS * 1000) {
      fs.writeSync(fd, buf, 0, buf.length, n * buf.length)
      fs.fdatasyncSync(fd)
      n++
    }
    const seconds = (performance.now() - start) / 1000
    fs.closeSync(fd)
    return { perSecond: n / seconds, mbps: (n * chunk) / MB / seconds }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

// Production-size segments (1 GiB, the default): a roll fsyncs the closed segment before the
// next append, so with small segments the figures would mostly measure rolls.
const LOG_CONFIG: Partial<LogConfig> = {}

/** Appends for SECONDS with `inFlight` concurrent appenders; with flush=always each waits for its fsync. */
async function appendRate(
  batchBytes: number, flush: 'always' | 'interval', inFlight: number, prevalidated = true,
): Promise<{ mbps: number; readMbps: number }> {
  const dir = scratchDir()
  try {
    const log = await PartitionLog.open({ dir, codec, config: { ...LOG_CONFIG, flush } })
    const batch = batchOf(codec, batchBytes)
    let bytes = 0
    const start = performance.now()
    const deadline = start + SECONDS * 1000
    const worker = async () => {
      while (performance.now() < deadline && bytes < BYTES_CAP) {
        const info = await log.appendAsLeader(batch, 0, { prevalidated })
        bytes += batch.length
        if (flush === 'always') await log.waitForFlush(info.nextOffset)
      }
    }
    await Promise.all(Array.from({ length: inFlight }, worker))
    await log.flush() // interval: the data counts once durable
    const mbps = bytes / MB / ((performance.now() - start) / 1000)
    const readMbps = flush === 'interval' ? await readRate(log) : 0
    await log.close()
    return { mbps, readMbps }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Reads the whole log (1 MiB reads, CRC-checked as served) and returns MB/s. */
async function readRate(log: PartitionLog): Promise<number> {
  const start = performance.now()
  let offset = log.logStartOffset
  let bytes = 0
  while (offset < log.logEndOffset) {
    const r = await log.read(offset, 1024 * 1024)
    bytes += r.bytes.length
    offset = r.nextOffset
  }
  return bytes / MB / ((performance.now() - start) / 1000)
}

type Row = Record<string, number>

async function oneRun(): Promise<Row> {
  const row: Row = {}
  row['plain seq write 64 KiB (MB/s)'] = plainSequentialWrite(64 * 1024)
  row['plain seq write 1 KiB (MB/s)'] = plainSequentialWrite(1024)
  row['plain 4 KiB write + fdatasync (/s)'] = plainWriteFsync(4096).perSecond
  row['plain 64 KiB write + fdatasync (MB/s)'] = plainWriteFsync(64 * 1024).mbps
  row['plain 8x64 KiB write + fdatasync (MB/s)'] = plainWriteFsync(8 * 64 * 1024).mbps
  for (const size of [1024, 64 * 1024]) {
    const label = size === 1024 ? '1 KiB' : '64 KiB'
    for (const inFlight of [1, 8, 64]) {
      row[`always ${label} x${inFlight} (MB/s)`] = (await appendRate(size, 'always', inFlight)).mbps
    }
    const interval = await appendRate(size, 'interval', 1)
    row[`interval ${label} (MB/s)`] = interval.mbps
    row[`read ${label} batches (MB/s)`] = interval.readMbps
  }
  row['interval 64 KiB, full validation in the log (MB/s)'] = (await appendRate(64 * 1024, 'interval', 1, false)).mbps
  return row
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

const runs: Row[] = []
for (let i = 0; i < RUNS; i++) {
  runs.push(await oneRun())
  console.error(`run ${i + 1}/${RUNS} done`)
}
const med: Row = {}
for (const key of Object.keys(runs[0])) med[key] = median(runs.map((r) => r[key]))
const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1))
console.log(`\nStorage benchmark: median of ${RUNS} runs, ${SECONDS} s per figure, dir ${BASE_DIR}\n`)
console.log(`| figure | median | runs |`)
console.log(`|---|---:|---|`)
for (const key of Object.keys(med)) console.log(`| ${key} | ${fmt(med[key])} | ${runs.map((r) => fmt(r[key])).join(', ')} |`)
const seq64 = med['plain seq write 64 KiB (MB/s)']
const seq1 = med['plain seq write 1 KiB (MB/s)']
console.log(`\nTargets (against the plain 64 KiB sequential write rate, ${fmt(seq64)} MB/s):`)
console.log(`  interval 64 KiB: ${fmt((100 * med['interval 64 KiB (MB/s)']) / seq64)} % (target >= 70 %)`)
console.log(`  always 64 KiB x8: ${fmt((100 * med['always 64 KiB x8 (MB/s)']) / seq64)} % (target >= 50 %); ` +
  `${fmt((100 * med['always 64 KiB x8 (MB/s)']) / med['plain 8x64 KiB write + fdatasync (MB/s)'])} % of plain fs doing the same group commit`)
console.log(`  interval 1 KiB vs plain 1 KiB writes (${fmt(seq1)} MB/s): ${fmt((100 * med['interval 1 KiB (MB/s)']) / seq1)} %`)
