// The consumer workload of Kafka's kafka-consumer-perf-test: read `records` records from the
// start of a topic and report MB, MB/s, records, records/s and the fetch time (first record
// asked for to last record read). Bounded by `maxSeconds`, and by `idleMs` without a record
// (Kafka's --timeout).
import type { PerfConsumer } from './perf-adapter.js'
import { CONSUMER_HEADER, consumerLine, ProgressBar, type ConsumeTotals } from './perf-format.js'

export interface ConsumeOptions {
  records: number
  maxSeconds?: number
  /** Stop when no record arrived for this long (default: no such limit). */
  idleMs?: number
  print?: (line: string) => void
  progress?: boolean
}

export interface ConsumeResult extends ConsumeTotals {
  recordsPerSec: number
  mbPerSec: number
  timedOut: boolean
  /** Why a run that read fewer records than asked ended (absent when it read them all). */
  stoppedBy?: 'max-seconds' | 'idle'
}

export async function runConsume(consumer: PerfConsumer, o: ConsumeOptions): Promise<ConsumeResult> {
  const print = o.print ?? ((line: string) => console.log(line))
  const bar = o.progress === false ? null : new ProgressBar(o.records, process.stderr, 'consume ')
  let records = 0
  let bytes = 0
  let lastAt = 0
  let stopped = false
  let stoppedBy: ConsumeResult['stoppedBy']
  const stopFor = (why: NonNullable<ConsumeResult['stoppedBy']>) => {
    stoppedBy ??= why
    stopped = true
    consumer.stop()
  }
  const startMs = Date.now()
  const start = performance.now()
  const timeout = setTimeout(() => stopFor('max-seconds'), (o.maxSeconds ?? 600) * 1000)
  // Idleness is sampled (a tenth of idleMs apart), not timed per record: records come by millions.
  let seen = 0
  let seenAt = performance.now()
  const idleTimer = o.idleMs === undefined ? null : setInterval(() => {
    const now = performance.now()
    if (records !== seen) {
      seen = records
      seenAt = now
    } else if (now - seenAt >= o.idleMs!) stopFor('idle')
  }, Math.max(10, o.idleMs / 10))
  const barTimer = bar ? setInterval(() => bar.update(records, performance.now()), 250) : null
  try {
    await consumer.consume((value) => {
      if (stopped) return
      records++
      bytes += value.length
      if (records >= o.records) {
        lastAt = performance.now()
        stopped = true
        consumer.stop()
      }
    })
  } finally {
    clearTimeout(timeout)
    if (idleTimer) clearInterval(idleTimer)
    if (barTimer) clearInterval(barTimer)
    bar?.clear()
  }
  const end = lastAt || performance.now()
  const fetchMs = end - start
  const totals: ConsumeTotals = { records, bytes, startMs, endMs: startMs + fetchMs, fetchMs }
  print(CONSUMER_HEADER)
  print(consumerLine(totals))
  const seconds = Math.max(1e-3, fetchMs / 1000)
  const timedOut = records < o.records
  return { ...totals, recordsPerSec: records / seconds, mbPerSec: bytes / 1048576 / seconds, timedOut, ...(timedOut && stoppedBy ? { stoppedBy } : {}) }
}
