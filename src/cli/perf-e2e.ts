// End-to-end latency: produce records at a fixed rate for a bounded time while a consumer reads
// the same topic — in this process (`bitacora perf e2e`) or in another (the perf suite runs the
// two sides as separate processes so neither's work slows the other). Each record carries its
// send time in its first 8 bytes (float64 ms on the machine's monotonic clock, which every
// process here shares), so latency is consumed-at minus sent-at. After its last record is
// acknowledged the sender writes an end marker saying how many records it sent, so the
// receiver knows when it has them all without any other channel. A warm-up comes first, its
// records marked as such and not measured (runE2eSend).
import { burstClock, kafkaPayload, windowFor, type PerfConsumer, type PerfProducer } from './perf-adapter.js'
import { LatencyHistogram, type LatencySummary } from './perf-histogram.js'
import { Throttle } from './perf-throttle.js'

/** Records carry [send time][sent count][failed count] (the counts only in the end marker). */
export const E2E_RECORD_BYTES_MIN = 24
/** The end marker's send-time field: no real send time is negative. */
const END_MARKER = -1
/** A warm-up record's send-time field: not measured. */
const WARM_UP = -2
/** Seconds at the rate before measuring (runE2eSend). */
export const E2E_WARMUP_SECONDS_DEFAULT = 1

/**
 * Milliseconds on CLOCK_MONOTONIC (process.hrtime), shared by every process on the machine;
 * read as performance.now() plus an offset taken once, because hrtime.bigint() costs more.
 */
const CLOCK_OFFSET_MS = Number(process.hrtime.bigint()) / 1e6 - performance.now()
export const sharedClockMs = (): number => performance.now() + CLOCK_OFFSET_MS

// A record's three float64 fields, read and written through one scratch array in the machine's
// byte order (both sides run on this machine): a DataView per record was most of the
// receiver's garbage at 100 k records/s.
const field = new Float64Array(1)
const fieldBytes = new Uint8Array(field.buffer)
function writeField(bytes: Uint8Array, at: number, value: number): void {
  field[0] = value
  bytes.set(fieldBytes, at)
}
function readField(bytes: Uint8Array, at: number): number {
  for (let i = 0; i < 8; i++) fieldBytes[i] = bytes[at + i]!
  return field[0]!
}

export interface E2eSendOptions {
  /** Records per second (must be > 0). */
  rate: number
  seconds: number
  recordSize: number
  window?: number
  /** Seconds at the rate before measuring (default E2E_WARMUP_SECONDS_DEFAULT). */
  warmupSeconds?: number
}

export interface E2eSent {
  targetRate: number
  achievedRate: number
  sent: number
  failed: number
}

export interface E2eReceiveOptions {
  /** Give up waiting for the end marker and the records before it after this many seconds. */
  maxSeconds: number
  /** Seconds to wait for the records the end marker counts once it arrived. */
  drainSeconds?: number
}

export interface E2eReceived {
  received: number
  /** What the end marker said; -1 when none arrived within maxSeconds. */
  sent: number
  failed: number
  latency: LatencySummary
}

export type E2eResult = E2eSent & { received: number; latency: LatencySummary }

export interface E2eOptions extends E2eSendOptions {
  /** Seconds to wait for the last records after sending stopped. */
  drainSeconds?: number
  print?: (line: string) => void
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Records sent and failed so far, by a pacer (one per phase). */
interface Paced {
  sent: number
  failed: number
  outstanding: number
  sendMs: number
}

/**
 * Sends `rate` records a second for `seconds`, each stamped `stamp()` (a send time, or WARM_UP).
 * Small bursts on a 1 ms timer: what is due by now, so the rate holds on average. A burst's
 * records are views of one new array, each its own bytes (a client may keep a value until it is
 * sent): an ArrayBuffer per record made this tool the garbage collector's main work, and stole the
 * CPU the systems under test need. Resolves when sending stops; acknowledgements keep counting.
 */
async function sendAtRate(producer: PerfProducer, base: Uint8Array, rate: number, seconds: number, window: number, stamp: () => number): Promise<Paced> {
  const size = base.length
  const paced: Paced = { sent: 0, failed: 0, outstanding: 0, sendMs: 0 }
  const onSettled = (err: Error | null) => {
    paced.outstanding--
    if (err !== null) paced.failed++
  }
  const start = performance.now()
  const throttle = new Throttle(rate, start)
  const endAt = start + seconds * 1000
  while (performance.now() < endAt) {
    const due = Math.floor(((performance.now() - start) * rate) / 1000)
    const burst = Math.min(due - paced.sent, window - paced.outstanding)
    if (burst > 0) {
      const records = new Uint8Array(burst * size)
      const sentAt = stamp()
      for (let i = 0, at = 0; i < burst; i++, at += size) {
        records.set(base, at)
        writeField(records, at, sentAt)
        producer.send(records.subarray(at, at + size), onSettled)
      }
      paced.outstanding += burst
      paced.sent += burst
    }
    await sleep(Math.max(1, Math.min(throttle.waitMs(paced.sent + 1, performance.now()), 5)))
  }
  paced.sendMs = performance.now() - start
  return paced
}

/** Sends one record and resolves once it is acknowledged (or with its error). */
function sendAcknowledged(producer: PerfProducer, value: Uint8Array): Promise<Error | null> {
  return new Promise<Error | null>((resolve) => {
    producer.send(value, resolve)
    void producer.flush()
  })
}

/**
 * Sends at `rate` for `seconds`, then the end marker once everything sent is acknowledged. First a
 * warm-up the receiver does not measure: one record acknowledged (connections, metadata, a
 * producer id), then `warmupSeconds` at the rate (compiled code paths, buffers): what is measured
 * is the steady state, as the target asks, not a process's first second.
 */
export async function runE2eSend(producer: PerfProducer, o: E2eSendOptions): Promise<E2eSent> {
  if (!(o.rate > 0)) throw new Error('e2e needs a positive rate')
  const size = Math.max(E2E_RECORD_BYTES_MIN, o.recordSize)
  const base = kafkaPayload(size)
  const window = o.window ?? windowFor(size)
  const warmUp = () => WARM_UP
  const first = base.slice()
  writeField(first, 0, WARM_UP)
  const firstError = await sendAcknowledged(producer, first)
  if (firstError) throw new Error(`e2e: the first (warm-up) record was not acknowledged: ${firstError.message}`)
  const warm = await sendAtRate(producer, base, o.rate, o.warmupSeconds ?? E2E_WARMUP_SECONDS_DEFAULT, window, warmUp)
  const measured = await sendAtRate(producer, base, o.rate, o.seconds, window, sharedClockMs)
  await producer.flush()
  if (warm.failed > 0) throw new Error(`e2e: ${warm.failed} of ${warm.sent} warm-up records failed`)
  const marker = base.slice()
  writeField(marker, 0, END_MARKER)
  writeField(marker, 8, measured.sent)
  writeField(marker, 16, measured.failed)
  const markerError = await sendAcknowledged(producer, marker)
  if (markerError) throw new Error(`e2e: the end marker was not acknowledged: ${markerError.message}`)
  return { targetRate: o.rate, achievedRate: measured.sent / (measured.sendMs / 1000), sent: measured.sent, failed: measured.failed }
}

/** Records latencies until the end marker and every record it counts arrived (or time runs out). */
export async function runE2eReceive(consumer: PerfConsumer, o: E2eReceiveOptions): Promise<E2eReceived> {
  const hist = new LatencyHistogram()
  let received = 0
  let sent = -1
  let failed = 0
  // Records arrive a fetched batch at a time: one clock read per batch (microseconds apart).
  const now = burstClock(sharedClockMs)
  const consuming = consumer.consume((value) => {
    if (value.length < E2E_RECORD_BYTES_MIN) return
    const sentAt = readField(value, 0)
    if (sentAt === WARM_UP) return
    if (sentAt === END_MARKER) {
      sent = readField(value, 8)
      failed = readField(value, 16)
      return
    }
    hist.recordMs(now() - sentAt)
    received++
  })
  const giveUpAt = performance.now() + o.maxSeconds * 1000
  while (sent < 0 && performance.now() < giveUpAt) await sleep(5)
  // Records of other partitions may still be on their way after the marker.
  const drainUntil = Math.min(giveUpAt, performance.now() + (o.drainSeconds ?? 5) * 1000)
  while (sent >= 0 && received < sent - failed && performance.now() < drainUntil) await sleep(5)
  consumer.stop()
  await consuming
  return { received, sent, failed, latency: hist.summary() }
}

/** Both sides in this process. */
export async function runE2e(producer: PerfProducer, consumer: PerfConsumer, o: E2eOptions): Promise<E2eResult> {
  const print = o.print ?? ((line: string) => console.log(line))
  const receiving = runE2eReceive(consumer, { maxSeconds: o.seconds + 60, drainSeconds: o.drainSeconds ?? 5 })
  const sent = await runE2eSend(producer, o)
  const { received, latency } = await receiving
  const result = { ...sent, received, latency }
  print(e2eLine(result))
  return result
}

export function e2eLine(r: E2eResult): string {
  const l = r.latency
  return `e2e ${r.targetRate} records/s target, ${r.achievedRate.toFixed(0)} sent/s, ${r.received}/${r.sent} received: ` +
    `${l.avgMs.toFixed(2)} ms avg, ${l.p50Ms.toFixed(2)} ms 50th, ${l.p95Ms.toFixed(2)} ms 95th, ` +
    `${l.p99Ms.toFixed(2)} ms 99th, ${l.p999Ms.toFixed(2)} ms 99.9th, ${l.maxMs.toFixed(2)} ms max.`
}
