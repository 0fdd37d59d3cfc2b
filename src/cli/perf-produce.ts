// The producer workload of Kafka's kafka-producer-perf-test: send `records` records of
// `recordSize` bytes as fast as allowed (or at `throughput` records/s), at most `window`
// unacknowledged at once, recording each record's latency from send() to its acknowledgement.
// A line in Kafka's format every 5 s and a final one; a progress bar on terminals. Bounded by
// `maxSeconds`: a run that exceeds it stops sending and reports what was acknowledged.
import { performance } from 'node:perf_hooks' // the global is a lazy getter: about 30 ns more per call
import { setImmediate as yieldToLoop } from 'node:timers/promises'
import { AckSlots, burstClock, kafkaPayload, windowFor, type PerfProducer } from './perf-adapter.js'
import { producerFinalLine, producerWindowLine, ProgressBar } from './perf-format.js'
import { LatencyHistogram, type LatencySummary } from './perf-histogram.js'
import { Throttle } from './perf-throttle.js'

export interface ProduceOptions {
  records: number
  recordSize: number
  /** Records per second; -1 for unthrottled. */
  throughput: number
  window?: number
  maxSeconds?: number
  reportIntervalMs?: number
  /** Where Kafka-format lines go (default: stdout). */
  print?: (line: string) => void
  progress?: boolean
}

export interface ProduceResult {
  records: number
  failed: number
  bytes: number
  elapsedMs: number
  recordsPerSec: number
  mbPerSec: number
  latency: LatencySummary
  timedOut: boolean
  firstError?: string
}

const YIELD_EVERY = 256

export async function runProduce(producer: PerfProducer, o: ProduceOptions): Promise<ProduceResult> {
  const print = o.print ?? ((line: string) => console.log(line))
  const window = o.window ?? windowFor(o.recordSize)
  const maxMs = (o.maxSeconds ?? 600) * 1000
  const interval = o.reportIntervalMs ?? 5000
  const payload = kafkaPayload(o.recordSize)
  const total = new LatencyHistogram()
  let windowHist = new LatencyHistogram()
  let windowBytes = 0
  let acked = 0
  let failed = 0
  let firstError: string | undefined
  let outstanding = 0
  let wakeSender: (() => void) | null = null
  const bar = o.progress === false ? null : new ProgressBar(o.records, process.stderr, 'produce ')

  const start = performance.now()
  let windowStart = start
  const throttle = new Throttle(o.throughput, start)
  const onSettled = () => {
    outstanding--
    if (wakeSender !== null && outstanding < window) {
      const wake = wakeSender
      wakeSender = null
      wake()
    }
  }
  const timer = setInterval(() => {
    const now = performance.now()
    print(producerWindowLine({ records: windowHist.count, bytes: windowBytes, elapsedMs: now - windowStart, latency: windowHist.summary() }))
    windowHist = new LatencyHistogram()
    windowBytes = 0
    windowStart = now
  }, interval)
  const barTimer = bar ? setInterval(() => bar.update(acked + failed, performance.now()), 250) : null

  const ackNow = burstClock()
  // A callback per record in flight, knowing its send time (as Kafka's PerfCallback), from reused slots.
  const slots = new AckSlots(window, (sentAt, err) => {
    if (err === null) {
      const ms = ackNow() - sentAt
      total.recordMs(ms)
      windowHist.recordMs(ms)
      windowBytes += o.recordSize
      acked++
    } else {
      failed++
      firstError ??= err.message
    }
    onSettled()
  })

  let sent = 0
  let timedOut = false
  try {
    for (; sent < o.records; sent++) {
      let now = performance.now()
      if (now - start > maxMs) {
        timedOut = true
        break
      }
      const wait = throttle.waitMs(sent, now)
      let waited = false
      if (wait > 0) {
        await new Promise((r) => setTimeout(r, Math.max(1, wait)))
        waited = true
      } else if (sent % YIELD_EVERY === 0 && sent > 0) {
        await yieldToLoop()
        waited = true
      }
      while (outstanding >= window) {
        await new Promise<void>((r) => (wakeSender = r))
        waited = true
      }
      if (waited) now = performance.now()
      outstanding++
      producer.send(payload, slots.take(now))
    }
    await producer.flush()
    // flush() covers what reached the producer; wait for the last acknowledgements to land.
    const deadline = performance.now() + 30_000
    while (outstanding > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5))
  } finally {
    clearInterval(timer)
    if (barTimer) clearInterval(barTimer)
    bar?.clear()
  }
  const elapsedMs = performance.now() - start
  const latency = total.summary()
  const bytes = acked * o.recordSize
  print(producerFinalLine({ records: acked, bytes, elapsedMs, latency }))
  return {
    records: acked, failed, bytes, elapsedMs, recordsPerSec: acked / (elapsedMs / 1000), mbPerSec: bytes / 1048576 / (elapsedMs / 1000),
    latency, timedOut, ...(firstError !== undefined ? { firstError } : {}),
  }
}
