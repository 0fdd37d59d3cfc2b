// Restart figure (issue 21): one broker whose log holds --gib GiB over --partitions partitions,
// restarted after a clean shutdown (SIGTERM) and after a crash (SIGKILL). Run it under the
// process-test lock, after `npm run build` (it runs the built CLI):
//
//   flock /tmp/bitacora-process-tests.lock npx tsx perf/restart.ts [--gib 2] [--partitions 4] [--runs 3] [--json FILE]
//
// The log is written by the storage engine directly (PartitionLog.appendAsLeader into the
// directories of a topic the broker created, while the broker is stopped, at the epoch its
// replicas hold): real RecordBatch v2 batches of 16 records of 1 KiB (uncompressed, so a
// recovery scan validates every record), the same batch bytes repeated with a new base offset
// each. A producer would take minutes to write 2 GiB on this shared machine; the log it would
// leave is the same (1 GiB segments, the default: the active segments hold most of it).
//
// "Serving" = from spawning the process to a ListOffsets(latest) answered for every partition at
// or past the records written (each partition led, its log open). Also reported: when the process
// printed "listening" (every log open), the broker's CPU seconds until serving (/proc: what load
// barely moves), and how its logs opened (its "broker started" line: opened from a clean-shutdown
// marker or recovered, bytes scanned, fsyncs). The page cache holds the log (warm restart: the
// machine is shared and dropping caches needs root).
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { NODE_FLAGS } from '../src/cli/node-flags.js'
import { loadCodec } from '../src/codec/index.js'
import { createClient } from '../src/client/node.js'
import { PartitionLog } from '../src/storage/index.js'
import { freePort, removeDir, tempDir } from './processes.js'
import { cpuSeconds } from './proc-stats.js'

const BIN = new URL('../dist/cli/main.js', import.meta.url).pathname
const TOPIC = 'restart'
const RECORD_BYTES = 1024
const RECORDS_PER_BATCH = 16
/** Batches handed to one append (about 1 MiB). */
const BATCHES_PER_APPEND = 64
/** A start (a crash recovery of 2 GiB included) must serve within this. */
const SERVE_TIMEOUT_MS = 180_000

export interface RestartPlan {
  bytes: number
  partitions: number
  runs: number
}

export function restartPlan(quick: boolean): RestartPlan {
  return quick ? { bytes: 64 * 1024 * 1024, partitions: 2, runs: 1 } : { bytes: 2 * 1024 ** 3, partitions: 4, runs: 3 }
}

/** How the broker's data partitions opened (its "broker started" line). */
export interface OpenedLogs {
  partitions: number
  cleanShutdown: number
  scannedBytes: number
  /** Below the active segments' recovery points: headers walked, not validated (after a crash). */
  trustedBytes: number
  truncatedBytes: number
}

export interface RestartTiming {
  how: 'clean' | 'killed'
  /** Spawn -> "listening" printed (every log open). */
  listeningMs: number
  /** Spawn -> ListOffsets answered for every partition. */
  servingMs: number
  /** The broker's CPU seconds from its start until serving. */
  cpuSeconds: number
  logs: OpenedLogs | null
  /** fsyncs of the broker's file layer from its start to "broker started". */
  fsyncs: number | null
}

export interface RestartResult {
  plan: RestartPlan
  /** Bytes actually in the partitions' logs. */
  logBytes: number
  /** SIGTERM -> exit of the clean stops (the close writes indexes and the markers). */
  stopMs: number[]
  runs: RestartTiming[]
  error?: string
}

interface Running {
  pid: number
  url: string
  output: () => string
  exited: Promise<void>
  kill: (signal: 'SIGTERM' | 'SIGKILL') => Promise<void>
}

async function spawnBroker(dataDir: string, port: number): Promise<Running & { listeningMs: number; spawnedAt: number }> {
  const spawnedAt = performance.now()
  const child = spawn(process.execPath, [...NODE_FLAGS, BIN, 'broker', '--port', String(port), '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  child.stderr.on('data', (d) => (out = (out + d).slice(-1_000_000)))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const kill = async (signal: 'SIGTERM' | 'SIGKILL') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    await exited
  }
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the broker did not listen within ${SERVE_TIMEOUT_MS} ms:\n${out.slice(-2000)}`)), SERVE_TIMEOUT_MS)
    const check = () => {
      const m = /listening on (ws:\/\/\S+)/.exec(out)
      if (m === null) return
      clearTimeout(timer)
      child.stdout.off('data', check)
      resolve(m[1])
    }
    child.stdout.on('data', check)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`the broker exited (${code}) before listening:\n${out.slice(-2000)}`))
    })
  })
  return { pid: child.pid!, url, output: () => out, exited, kill, listeningMs: performance.now() - spawnedAt, spawnedAt }
}

/** Resolves once every partition answers ListOffsets(latest) at or past `end[p]`. */
async function serving(url: string, ends: readonly number[]): Promise<void> {
  const client = createClient({ brokers: [url], clientId: 'perf-restart' })
  try {
    const deadline = Date.now() + SERVE_TIMEOUT_MS
    for (;;) {
      const answers = await client.admin().listOffsets(TOPIC, 'latest')
      if (answers.length === ends.length && answers.every((a) => a.offset >= ends[a.partition])) return
      if (Date.now() > deadline) throw new Error(`ListOffsets answered ${JSON.stringify(answers)}, not the ends ${ends.join(', ')}`)
      await new Promise((r) => setTimeout(r, 5))
    }
  } finally {
    await client.close()
  }
}

/** The "broker started" line's logs and fsyncs. */
function startedLine(output: string): { logs: OpenedLogs | null; fsyncs: number | null } {
  const line = output.split('\n').find((l) => l.includes('"msg":"broker started"'))
  if (line === undefined) return { logs: null, fsyncs: null }
  const parsed = JSON.parse(line) as { logs?: OpenedLogs; fsyncs?: number }
  return { logs: parsed.logs ?? null, fsyncs: parsed.fsyncs ?? null }
}

async function timedStart(dataDir: string, port: number, ends: readonly number[], how: RestartTiming['how']): Promise<{ broker: Running; timing: RestartTiming }> {
  const broker = await spawnBroker(dataDir, port)
  try {
    await serving(broker.url, ends)
  } catch (err) {
    await broker.kill('SIGKILL')
    throw err
  }
  const servingMs = performance.now() - broker.spawnedAt
  const cpu = cpuSeconds(broker.pid)
  const timing = { how, listeningMs: broker.listeningMs, servingMs, cpuSeconds: cpu, ...startedLine(broker.output()) }
  console.log(`  ${how === 'clean' ? 'after SIGTERM' : 'after SIGKILL'}: listening ${broker.listeningMs.toFixed(0)} ms, serving ${servingMs.toFixed(0)} ms, ` +
    `${cpu.toFixed(2)} CPU s; logs ${JSON.stringify(timing.logs)}, ${timing.fsyncs} fsyncs`)
  return { broker, timing }
}

/** Fills each partition's log (the broker stopped) to about bytes / partitions; returns each log end. */
async function fill(dataDir: string, topicId: string, plan: RestartPlan): Promise<{ ends: number[]; bytes: number }> {
  const codec = await loadCodec()
  let seed = 0x9e3779b9
  const value = () => {
    const v = new Uint8Array(RECORD_BYTES)
    for (let i = 0; i < v.length; i++) {
      seed = (seed * 1_103_515_245 + 12_345) >>> 0
      v[i] = seed >>> 24
    }
    return v
  }
  const ends: number[] = []
  let bytes = 0
  for (let p = 0; p < plan.partitions; p++) {
    const dir = join(dataDir, `${topicId}-${p}`)
    const log = await PartitionLog.open({ dir, codec })
    const epoch = Math.max(1, log.latestEpoch)
    const batch = codec.encodeBatch(Array.from({ length: RECORDS_PER_BATCH }, (_, i) => ({ key: null, value: value(), timestamp: Date.now() + i })))
    const chunk = new Uint8Array(batch.length * BATCHES_PER_APPEND)
    for (let i = 0; i < BATCHES_PER_APPEND; i++) chunk.set(batch, i * batch.length)
    const target = plan.bytes / plan.partitions
    while (log.stats().sizeBytes < target) await log.appendAsLeader(chunk, epoch, { prevalidated: true })
    bytes += log.stats().sizeBytes
    ends.push(log.logEndOffset)
    await log.close()
  }
  return { ends, bytes }
}

export async function measureRestart(plan: RestartPlan): Promise<RestartResult> {
  const dataDir = tempDir('restart')
  const result: RestartResult = { plan, logBytes: 0, stopMs: [], runs: [] }
  try {
    const port = await freePort()
    const first = await spawnBroker(dataDir, port)
    const client = createClient({ brokers: [first.url], clientId: 'perf-restart' })
    const [created] = await client.admin().createTopics([{ topic: TOPIC, partitions: plan.partitions, replicationFactor: 1 }])
    await client.close()
    if (created.error) throw created.error
    await serving(first.url, new Array<number>(plan.partitions).fill(0))
    await first.kill('SIGTERM')
    const filled = await fill(dataDir, created.topicId, plan)
    result.logBytes = filled.bytes
    console.log(`  ${(filled.bytes / 1024 ** 3).toFixed(2)} GiB in ${plan.partitions} partitions (log ends ${filled.ends.join(', ')})`)
    for (let run = 1; run <= plan.runs; run++) {
      const clean = await timedStart(dataDir, port, filled.ends, 'clean')
      result.runs.push(clean.timing)
      await clean.broker.kill('SIGKILL')
      const killed = await timedStart(dataDir, port, filled.ends, 'killed')
      result.runs.push(killed.timing)
      const stopping = performance.now()
      await killed.broker.kill('SIGTERM')
      result.stopMs.push(performance.now() - stopping)
    }
  } catch (err) {
    result.error = (err as Error).message.split('\n')[0]
    console.log(`  FAILED: ${result.error}`)
  } finally {
    removeDir(dataDir)
  }
  return result
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

/** One line per kind of restart: median and spread of the runs. */
export function summarize(r: RestartResult): string[] {
  return (['clean', 'killed'] as const).map((how) => {
    const runs = r.runs.filter((x) => x.how === how)
    if (runs.length === 0) return `${how}: no run`
    const s = runs.map((x) => x.servingMs)
    const cpu = runs.map((x) => x.cpuSeconds)
    return `${how === 'clean' ? 'after SIGTERM' : 'after SIGKILL'}: serving median ${median(s).toFixed(0)} ms (${Math.min(...s).toFixed(0)}–${Math.max(...s).toFixed(0)}), ` +
      `CPU ${median(cpu).toFixed(2)} s (${Math.min(...cpu).toFixed(2)}–${Math.max(...cpu).toFixed(2)}), ${runs.length} runs`
  })
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const { values } = parseArgs({ options: { gib: { type: 'string' }, partitions: { type: 'string' }, runs: { type: 'string' }, json: { type: 'string' } } })
  const plan: RestartPlan = {
    bytes: Math.round(Number(values.gib ?? 2) * 1024 ** 3), partitions: Number(values.partitions ?? 4), runs: Number(values.runs ?? 3),
  }
  const result = await measureRestart(plan)
  for (const line of summarize(result)) console.log(line)
  if (values.json) writeFileSync(values.json, JSON.stringify(result, null, 2))
  if (result.error !== undefined) process.exitCode = 1
}
