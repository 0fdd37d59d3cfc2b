// `bitacora perf produce|consume|e2e`: Kafka's perf tools against a Bitácora cluster.
//   produce  kafka-producer-perf-test: --num-records, --record-size, --throughput (-1 unthrottled),
//            --acks, --batch-bytes, --linger-ms, --compression, --partitions; a line every 5 s.
//   consume  kafka-consumer-perf-test's summary (MB, MB/sec, records, records/sec, fetch time).
//   e2e      end-to-end latency percentiles at a fixed rate.
// --json FILE writes the result as JSON too.
import { writeFileSync } from 'node:fs'
import type { CompressionCodec } from '../client/node.js'
import { choiceFlag, intFlag, parseFlags } from './args.js'
import { BOOTSTRAP_HELP, bootstrapServers, describeTopic, withClient } from './connect.js'
import { UsageError } from './errors.js'
import { bitacoraConsumer, bitacoraProducer, ensureTopic } from './perf-bitacora.js'
import { runConsume } from './perf-consume.js'
import { runE2e } from './perf-e2e.js'
import { runProduce } from './perf-produce.js'

export const PERF_USAGE = `usage: bitacora perf produce|consume|e2e [options]

produce (kafka-producer-perf-test):
  --topic T                topic (default perf-test; created if absent)
  --num-records N          records to send (required)
  --record-size BYTES      bytes per record value (required)
  --throughput N           records/s, -1 for unthrottled (required)
  --acks 0|1|all           (default all)
  --batch-bytes N          producer batch size in bytes (default: the client's, 64 KiB)
  --linger-ms N            producer linger (default: the client's, 5)
  --compression CODEC      none, gzip, snappy, lz4 (zstd where available) (default none)
  --partitions N           partitions when the topic is created (default 1)
  --max-seconds N          stop sending after N seconds (default 600)
consume (kafka-consumer-perf-test):
  --topic T  --messages N  (records to read from the start)  --max-seconds N (default 600)
e2e (end-to-end latency at a fixed rate):
  --topic T  --rate N (records/s)  --seconds N (default 10)  --record-size BYTES (default 100, at least 8)
  --acks 0|1|all (default 1)  --linger-ms N (default 0)  --partitions N (default 1)
all: --json FILE (write the result as JSON)
${BOOTSTRAP_HELP}`

const SPEC = {
  help: 'boolean', 'bootstrap-server': 'string', topic: 'string', 'num-records': 'string', messages: 'string', 'record-size': 'string',
  throughput: 'string', acks: 'string', 'batch-bytes': 'string', 'linger-ms': 'string', compression: 'string', partitions: 'string',
  'max-seconds': 'string', rate: 'string', seconds: 'string', json: 'string',
} as const

const COMPRESSION = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const satisfies readonly CompressionCodec[]

function required(name: string, value: number | undefined): number {
  if (value === undefined) throw new UsageError(`perf: --${name} is required`)
  return value
}

function acksOf(value: string | undefined, fallback: 0 | 1 | -1): 0 | 1 | -1 {
  const acks = choiceFlag('acks', value, ['0', '1', 'all', '-1'] as const)
  return acks === undefined ? fallback : acks === '0' ? 0 : acks === '1' ? 1 : -1
}

export async function perfCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv
  const { flags } = parseFlags(`perf ${sub ?? ''}`.trim(), rest, SPEC)
  if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h' || flags.help) {
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
    const compression = choiceFlag('compression', flags.compression, COMPRESSION) ?? 'none'
    return withClient(brokers, async (client) => {
      await ensureTopic(client, topic, partitions, false)
      const producer = await bitacoraProducer(client, topic, {
        acks, compression, ...(batchBytes !== undefined ? { batchBytes } : {}), ...(lingerMs !== undefined ? { lingerMs } : {}),
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
    return withClient(brokers, async (client) => {
      const { partitions: parts } = await describeTopic(client, topic)
      const consumer = await bitacoraConsumer(client, topic, parts.length)
      const result = await runConsume(consumer, { records, maxSeconds })
      writeJson(result)
      return result.timedOut ? 1 : 0
    })
  }
  const rate = required('rate', intFlag('rate', flags.rate, 1))
  const seconds = intFlag('seconds', flags.seconds, 1, 3600) ?? 10
  const recordSize = intFlag('record-size', flags['record-size'], 8, 64 * 1024 * 1024) ?? 100
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
