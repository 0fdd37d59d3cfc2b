// `bitacora perf produce|consume|e2e`: Kafka's perf tools against a Bitácora cluster.
//   produce  kafka-producer-perf-test: --num-records, --record-size, --throughput (-1 unthrottled),
//            --acks, --batch-bytes, --linger-ms, --compression, --partitions; a line every 5 s.
//   consume  kafka-consumer-perf-test's summary (MB, MB/sec, records, records/sec, fetch time);
//            fewer records than asked is exit 1 with the reason.
//   e2e      end-to-end latency percentiles at a fixed rate.
// --json FILE writes the result as JSON too.
import { writeFileSync } from 'node:fs'
import type { Client } from '../client/node.js'
import { choiceFlag, intFlag } from './args.js'
import { ACKS_CHOICES, CLIENT_FLAGS, COMPRESSION_CHOICES, parseClientFlags } from './client-config.js'
import { CLIENT_HELP, bootstrapServers, describeTopic, withClient } from './connect.js'
import { OperationalError, UsageError } from './errors.js'
import { PERF_CONSUME_IDLE_MS_DEFAULT, REQUEST_BYTES_MAX_FLAG_MAX, REQUEST_BYTES_MAX_FLAG_MIN } from './limits.js'
import { bitacoraConsumer, bitacoraProducer, ensureTopic } from './perf-bitacora.js'
import { runConsume, type ConsumeResult } from './perf-consume.js'
import { E2E_RECORD_BYTES_MIN, runE2e } from './perf-e2e.js'
import { runProduce } from './perf-produce.js'

export const PERF_USAGE = `usage: bitacora perf produce|consume|e2e [options]

produce (kafka-producer-perf-test):
  -t, --topic T            topic (default perf-test; created if absent)
  --num-records N          records to send (required)
  --record-size BYTES      bytes per record value (required)
  --throughput N           records/s, -1 for unthrottled (required)
  --acks 0|1|all           (default all)
  --batch-bytes N          producer batch size in bytes (default: the client's, 64 KiB)
  --linger-ms N            producer linger (default: the client's, 5)
  --request-bytes-max N    largest produce request, so the largest record (default: the client's, 1 MiB)
  -z, --compression CODEC  none, gzip, snappy, lz4, zstd (default none)
  --partitions N           partitions when the topic is created (default 1)
  --max-seconds N          stop sending after N seconds (default 600)
consume (kafka-consumer-perf-test):
  -t, --topic T  --messages N  (records to read from the start)  --max-seconds N (default 600)
  --timeout-ms N           stop after N ms without a record (Kafka's --timeout) (default ${PERF_CONSUME_IDLE_MS_DEFAULT})
  Reading fewer than --messages records is exit 1, saying why.
e2e (end-to-end latency at a fixed rate, measured after 1 s at that rate as warm-up):
  -t, --topic T  --rate N (records/s)  --seconds N (default 10)  --record-size BYTES (default 100, at least ${E2E_RECORD_BYTES_MIN})
  --acks 0|1|all (default 1)  --linger-ms N (default 0)  --partitions N (default 1)
all: -J, --json FILE (write the result as JSON)
${CLIENT_HELP}`

export const PERF_SPEC = {
  ...CLIENT_FLAGS, topic: 'string', 'num-records': 'string', messages: 'string', 'record-size': 'string',
  throughput: 'string', acks: 'string', 'batch-bytes': 'string', 'linger-ms': 'string', compression: 'string', partitions: 'string',
  'max-seconds': 'string', rate: 'string', seconds: 'string', json: 'string', 'request-bytes-max': 'string', 'timeout-ms': 'string',
} as const

function required(name: string, value: number | undefined): number {
  if (value === undefined) throw new UsageError(`perf: --${name} is required`)
  return value
}

function acksOf(value: string | undefined, fallback: 0 | 1 | -1): 0 | 1 | -1 {
  const acks = choiceFlag('acks', value, ACKS_CHOICES)
  return acks === undefined ? fallback : acks === '0' ? 0 : acks === '1' ? 1 : -1
}

export async function perfCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv
  if (sub === undefined) {
    console.error(PERF_USAGE)
    return 2
  }
  if (sub === 'help' || sub === '--help' || sub === '-h') {
    console.log(PERF_USAGE)
    return 0
  }
  const { flags } = parseClientFlags(`perf ${sub}`, rest, PERF_SPEC)
  if (flags.help) {
    console.log(PERF_USAGE)
    return 0
  }
  if (sub !== 'produce' && sub !== 'consume' && sub !== 'e2e') throw new UsageError(`perf: unknown workload '${sub}' (produce, consume, e2e)`)
  const topic = flags.topic ?? 'perf-test'
  const partitions = intFlag('partitions', flags.partitions, 1, 10_000) ?? 1
  const maxSeconds = intFlag('max-seconds', flags['max-seconds'], 1) ?? 600
  const brokers = bootstrapServers(flags['bootstrap-server'])
  const writeJson = (result: unknown) => {
    if (flags.json) writeFileSync(flags.json, JSON.stringify(result, null, 2))
  }

  if (sub === 'produce') {
    const records = required('num-records', intFlag('num-records', flags['num-records'], 1))
    const recordSize = required('record-size', intFlag('record-size', flags['record-size'], 0, 64 * 1024 * 1024))
    const throughput = required('throughput', intFlag('throughput', flags.throughput, -1))
    const acks = acksOf(flags.acks, -1)
    const batchBytes = intFlag('batch-bytes', flags['batch-bytes'], 1)
    const lingerMs = intFlag('linger-ms', flags['linger-ms'], 0)
    const compression = choiceFlag('compression', flags.compression, COMPRESSION_CHOICES) ?? 'none'
    const requestBytesMax = intFlag('request-bytes-max', flags['request-bytes-max'], REQUEST_BYTES_MAX_FLAG_MIN, REQUEST_BYTES_MAX_FLAG_MAX)
    return withClient(brokers, async (client) => {
      await ensureTopic(client, topic, partitions, false)
      const producer = await bitacoraProducer(client, topic, {
        acks, compression, ...(batchBytes !== undefined ? { batchBytes } : {}), ...(lingerMs !== undefined ? { lingerMs } : {}),
        ...(requestBytesMax !== undefined ? { requestBytesMax } : {}),
      })
      try {
        const result = await runProduce(producer, { records, recordSize, throughput: throughput === 0 ? -1 : throughput, maxSeconds })
        writeJson(result)
        return result.failed > 0 || result.timedOut ? 1 : 0
      } finally {
        await producer.close()
      }
    })
  }
  if (sub === 'consume') {
    const records = required('messages', intFlag('messages', flags.messages ?? flags['num-records'], 1))
    const idleMs = intFlag('timeout-ms', flags['timeout-ms'], 1) ?? PERF_CONSUME_IDLE_MS_DEFAULT
    return withClient(brokers, async (client) => {
      const { partitions: parts } = await describeTopic(client, topic)
      const held = await offsetsHeld(client, topic)
      if (held < records) {
        console.error(`bitacora: warning: topic '${topic}' holds at most ${held} records, fewer than --messages ${records}: `
          + `waiting for more (until ${idleMs} ms pass without one, --timeout-ms)`)
      }
      const consumer = await bitacoraConsumer(client, topic, parts.length)
      const result = await runConsume(consumer, { records, maxSeconds, idleMs })
      writeJson(result)
      if (result.timedOut) throw new OperationalError(shortfall(result, records, held, { idleMs, maxSeconds }))
      return 0
    })
  }
  const rate = required('rate', intFlag('rate', flags.rate, 1))
  const seconds = intFlag('seconds', flags.seconds, 1, 3600) ?? 10
  const recordSize = intFlag('record-size', flags['record-size'], E2E_RECORD_BYTES_MIN, 64 * 1024 * 1024) ?? 100
  const lingerMs = intFlag('linger-ms', flags['linger-ms'], 0) ?? 0
  const acks = acksOf(flags.acks, 1)
  return withClient(brokers, async (client) => {
    await ensureTopic(client, topic, partitions, false)
    const { partitions: parts } = await describeTopic(client, topic)
    const consumer = await bitacoraConsumer(client, topic, parts.length, 'latest')
    const producer = await bitacoraProducer(client, topic, { acks, lingerMs })
    try {
      const result = await runE2e(producer, consumer, { rate, seconds, recordSize })
      writeJson(result)
      return result.received < result.sent ? 1 : 0
    } finally {
      await producer.close()
    }
  })
}

/** Offsets between each partition's log start and end, summed: at most that many records (control markers take offsets too). */
async function offsetsHeld(client: Client, topic: string): Promise<number> {
  const admin = client.admin()
  const [starts, ends] = await Promise.all([admin.listOffsets(topic, 'earliest'), admin.listOffsets(topic, 'latest')])
  return ends.reduce((sum, end, i) => sum + Math.max(0, end.offset - starts[i].offset), 0)
}

/** Why a consume run read fewer records than asked. */
function shortfall(result: ConsumeResult, records: number, held: number, limits: { idleMs: number; maxSeconds: number }): string {
  const why = result.stoppedBy === 'idle'
    ? `no record arrived for ${limits.idleMs} ms (--timeout-ms)`
    : `--max-seconds ${limits.maxSeconds} ran out`
  return `perf consume: read ${result.records} of ${records} records: ${why}; the topic held at most ${held} when the run started`
}
