// End-to-end latency: produce records at a fixed rate for a bounded time while a consumer reads
// the same topic — in this process (`bitacora perf e2e`) or in another (the perf suite runs the
// two sides as separate processes so neither's work slows the other). Each record carries its
// send time in its first 8 bytes (float64 ms on the machine's monotonic clock, which every
// process here shares), so latency is consumed-at minus sent-at. After its last record is
// acknowledged the sender writes an end marker saying how many records it sent, so the
// receiver knows when it has them all without any other channel.
import { kafkaPayload, windowFor, type PerfConsumer, type PerfProducer } from './perf-adapter.js'
import { LatencyHistogram, type LatencySummary } from './perf-histogram.js'
import { Throttle } from './perf-throttle.js'

/** Records carry [send time][sent count][failed count] (the counts only in the end marker). */
export const E2E_RECORD_BYTES_MIN = 24
/** The end marker's send-time field: no real send time is negative. */
const END_MARKER = -1

/**
 * Milliseconds on CLOCK_MONOTONIC (process.hrtime), shared by every process on the machine;
 * read as performance.now() plus an offset taken once, because hrtime.bigint() costs more.
 */
const CLOCK_OFFSET_MS = Number(process.hrtime.bigint()) / 1e6 - performance.now()
export const sharedClockMs = (): number => performance.now() + CLOCK_OFFSET_MS

export interface E2eSendOptions {
  /** Records per second (must be > 0). */
  rate: number
  seconds: number
  recordSize: number
  window?: number
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

/** Sends at `rate` for `seconds`, then the end marker once everything sent is acknowledged. */
export async function runE2eSend(producer: PerfProducer, o: E2eSendOptions): Promise<E2eSent> {
  if (!(o.rate > 0)) throw new Error('e2e needs a positive rate')
  const size = Math.max(E2E_RECORD_BYTES_MIN, o.recordSize)
  const base = kafkaPayload(size)
  const window = o.window ?? windowFor(size)
  let sent = 0
  let failed = 0
  let outstanding = 0
  const start = performance.now()
  const throttle = new Throttle(o.rate, start)
  const endAt = start + o.seconds * 1000
  // Send in small bursts on a 1 ms timer: what is due by now, so the rate holds on average.
  while (performance.now() < endAt) {
    const due = Math.floor(((performance.now() - start) * o.rate) / 1000)
    while (sent < due && outstanding < window) {
      const value = base.slice()
      new DataView(value.buffer).setFloat64(0, sharedClockMs(), true)
      outstanding++
      sent++
      producer.send(value, (err) => {
        outstanding--
        if (err !== null) failed++
      })
    }
    const wait = throttle.waitMs(sent + 1, performance.now())
    await sleep(Math.max(1, Math.min(wait, 5)))
  }
  const sendMs = performance.now() - start
  await producer.flush()
  const marker = base.slice()
  const view = new DataView(marker.buffer)
  view.setFloat64(0, END_MARKER, true)
  view.setFloat64(8, sent, true)
  view.setFloat64(16, failed, true)
  const markerError = await new Promise<Error | null>((resolve) => {
    producer.send(marker, resolve)
    void producer.flush()
  })
  if (markerError) throw new Error(`e2e: the end marker was not acknowledged: ${markerError.message}`)
  return { targetRate: o.rate, achievedRate: sent / (sendMs / 1000), sent, failed }
}

/** Records latencies until the end marker and every record it counts arrived (or time runs out). */
export async function runE2eReceive(consumer: PerfConsumer, o: E2eReceiveOptions): Promise<E2eReceived> {
  const hist = new LatencyHistogram()
  let received = 0
  let sent = -1
  let failed = 0
  const consuming = consumer.consume((value) => {
    if (value.length < E2E_RECORD_BYTES_MIN) return
    const view = new DataView(value.buffer, value.byteOffset, E2E_RECORD_BYTES_MIN)
    const sentAt = view.getFloat64(0, true)
    if (sentAt === END_MARKER) {
      sent = view.getFloat64(8, true)
      failed = view.getFloat64(16, true)
      return
    }
    hist.recordMs(sharedClockMs() - sentAt)
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
