// Output formats of Kafka's perf tools, and a progress bar for terminals. MB means MiB
// (1024 x 1024 bytes), as in Kafka's tools.
import type { LatencySummary } from './perf-histogram.js'

export const MIB = 1024 * 1024

export interface ProduceTotals {
  records: number
  bytes: number
  elapsedMs: number
  latency: LatencySummary
}

const f = (n: number, digits: number) => n.toFixed(digits)

/** Kafka producer perf-test's final line (percentiles with two decimals: ours are sub-millisecond). */
export function producerFinalLine(t: ProduceTotals): string {
  const seconds = t.elapsedMs / 1000
  const l = t.latency
  return (
    `${t.records} records sent, ${f(t.records / seconds, 1)} records/sec (${f(t.bytes / MIB / seconds, 2)} MB/sec), ` +
    `${f(l.avgMs, 2)} ms avg latency, ${f(l.maxMs, 2)} ms max latency, ${f(l.p50Ms, 2)} ms 50th, ${f(l.p95Ms, 2)} ms 95th, ` +
    `${f(l.p99Ms, 2)} ms 99th, ${f(l.p999Ms, 2)} ms 99.9th.`
  )
}

/** Kafka producer perf-test's periodic line (every 5 s, for the window just ended). */
export function producerWindowLine(t: ProduceTotals): string {
  const seconds = t.elapsedMs / 1000
  return (
    `${t.records} records sent, ${f(t.records / seconds, 1)} records/sec (${f(t.bytes / MIB / seconds, 2)} MB/sec), ` +
    `${f(t.latency.avgMs, 1)} ms avg latency, ${f(t.latency.maxMs, 1)} ms max latency.`
  )
}

export interface ConsumeTotals {
  records: number
  bytes: number
  startMs: number
  endMs: number
  /** Time from the first fetch to the last record. */
  fetchMs: number
}

export const CONSUMER_HEADER = 'start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec'

function timeOf(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '')
}

/** Kafka consumer perf-test's summary line (after CONSUMER_HEADER). */
export function consumerLine(t: ConsumeTotals): string {
  const mb = t.bytes / MIB
  const total = Math.max(1, t.endMs - t.startMs) / 1000
  const fetch = Math.max(1, t.fetchMs) / 1000
  return [
    timeOf(t.startMs), timeOf(t.endMs), f(mb, 4), f(mb / total, 4), String(t.records), f(t.records / total, 4),
    String(Math.round(t.fetchMs)), f(mb / fetch, 4), f(t.records / fetch, 4),
  ].join(', ')
}

/** A one-line progress bar redrawn in place on a terminal; silent elsewhere. */
export class ProgressBar {
  private lastDraw = 0
  constructor(private readonly total: number, private readonly out: NodeJS.WriteStream = process.stderr, private readonly label = '') {}

  update(done: number, nowMs: number, force = false): void {
    if (!this.out.isTTY || (!force && nowMs - this.lastDraw < 200)) return
    this.lastDraw = nowMs
    const width = 30
    const frac = this.total > 0 ? Math.min(1, done / this.total) : 0
    const fill = Math.round(frac * width)
    this.out.write(`\r${this.label}[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${(frac * 100).toFixed(0).padStart(3)}% ${done}/${this.total}`)
  }

  clear(): void {
    if (this.out.isTTY) this.out.write('\r\x1b[K')
  }
}
