// The consumer workload of Kafka's kafka-consumer-perf-test: read `records` records from the
// start of a topic and report MB, MB/s, records, records/s and the fetch time (first record
// asked for to last record read). Bounded by `maxSeconds`.
import type { PerfConsumer } from './perf-adapter.js'
import { CONSUMER_HEADER, consumerLine, ProgressBar, type ConsumeTotals } from './perf-format.js'

export interface ConsumeOptions {
  records: number
  maxSeconds?: number
  print?: (line: string) => void
  progress?: boolean
}

export interface ConsumeResult extends ConsumeTotals {
  recordsPerSec: number
  mbPerSec: number
  timedOut: boolean
}

export async function runConsume(consumer: PerfConsumer, o: ConsumeOptions): Promise<ConsumeResult> {
  const print = o.print ?? ((line: string) => console.log(line))
  const bar = o.progress === false ? null : new ProgressBar(o.records, process.stderr, 'consume ')
  let records = 0
  let bytes = 0
  let lastAt = 0
  let stopped = false
  const startMs = Date.now()
  const start = performance.now()
  const timeout = setTimeout(() => {
    stopped = true
    consumer.stop()
  }, (o.maxSeconds ?? 600) * 1000)
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
    if (barTimer) clearInterval(barTimer)
    bar?.clear()
  }
  const end = lastAt || performance.now()
  const fetchMs = end - start
  const totals: ConsumeTotals = { records, bytes, startMs, endMs: startMs + fetchMs, fetchMs }
  print(CONSUMER_HEADER)
  print(consumerLine(totals))
  const seconds = Math.max(1e-3, fetchMs / 1000)
  return { ...totals, recordsPerSec: records / seconds, mbPerSec: bytes / 1048576 / seconds, timedOut: records < o.records }
}
