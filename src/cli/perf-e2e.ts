// End-to-end latency: produce records at a fixed rate for a bounded time while consuming the
// same topic in the same process; each record carries its send time (performance.now(), a
// float64 in its first 8 bytes), so latency is consumed-at minus sent-at. Reports percentiles
// of those latencies and the rate actually achieved.
import { kafkaPayload, windowFor, type PerfConsumer, type PerfProducer } from './perf-adapter.js'
import { LatencyHistogram, type LatencySummary } from './perf-histogram.js'
import { Throttle } from './perf-throttle.js'

export interface E2eOptions {
  /** Records per second (must be > 0). */
  rate: number
  seconds: number
  recordSize: number
  window?: number
  /** Seconds to wait for the last records after sending stopped. */
  drainSeconds?: number
  print?: (line: string) => void
}

export interface E2eResult {
  targetRate: number
  achievedRate: number
  sent: number
  received: number
  failed: number
  latency: LatencySummary
}

export async function runE2e(producer: PerfProducer, consumer: PerfConsumer, o: E2eOptions): Promise<E2eResult> {
  const print = o.print ?? ((line: string) => console.log(line))
  if (!(o.rate > 0)) throw new Error('e2e needs a positive rate')
  const size = Math.max(8, o.recordSize)
  const base = kafkaPayload(size)
  const window = o.window ?? windowFor(size)
  const hist = new LatencyHistogram()
  let received = 0
  let sent = 0
  let failed = 0
  let outstanding = 0
  const consuming = consumer.consume((value) => {
    if (value.length < 8) return
    const sentAt = new DataView(value.buffer, value.byteOffset, 8).getFloat64(0, true)
    hist.recordMs(performance.now() - sentAt)
    received++
  })
  const start = performance.now()
  const throttle = new Throttle(o.rate, start)
  const endAt = start + o.seconds * 1000
  // Send in small bursts on a 1 ms timer: what is due by now, so the rate holds on average.
  while (performance.now() < endAt) {
    const now = performance.now()
    const due = Math.floor(((now - start) * o.rate) / 1000)
    while (sent < due && outstanding < window) {
      const value = base.slice()
      new DataView(value.buffer).setFloat64(0, performance.now(), true)
      outstanding++
      sent++
      producer.send(value, (err) => {
        outstanding--
        if (err !== null) failed++
      })
    }
    const wait = throttle.waitMs(sent + 1, performance.now())
    await new Promise((r) => setTimeout(r, Math.max(1, Math.min(wait, 5))))
  }
  const sendMs = performance.now() - start
  await producer.flush()
  const drainUntil = performance.now() + (o.drainSeconds ?? 5) * 1000
  while (received < sent - failed && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 5))
  consumer.stop()
  await consuming
  const latency = hist.summary()
  const achievedRate = sent / (sendMs / 1000)
  print(
    `e2e ${o.rate} records/s target, ${achievedRate.toFixed(0)} sent/s, ${received}/${sent} received: ` +
      `${latency.avgMs.toFixed(2)} ms avg, ${latency.p50Ms.toFixed(2)} ms 50th, ${latency.p95Ms.toFixed(2)} ms 95th, ` +
      `${latency.p99Ms.toFixed(2)} ms 99th, ${latency.p999Ms.toFixed(2)} ms 99.9th, ${latency.maxMs.toFixed(2)} ms max.`,
  )
  return { targetRate: o.rate, achievedRate, sent, received, failed, latency }
}
