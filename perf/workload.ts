// One workload against one system, in a fresh process (so no system inherits another's heap,
// JIT state or sockets): `node --import tsx perf/workload.ts '<json spec>'`. Prints the runner's
// Kafka-format lines, then `@@RESULT <json>` as its last line.
//
// The runners and the Bitácora client are loaded from the build (dist/, what `npm run build`
// ships and the broker runs), not from src/ through tsx: tsx compiles with esbuild's keepNames,
// which wraps functions in name-setting helpers, and the same consumer spent about 60 % more CPU
// (and 7x the GC) that way. Every system's workload runs the same compiled runner code.
import type { PerfConsumer, PerfProducer } from '../src/cli/perf-adapter.js'
import { NatsSystem } from './peers/nats.js'
import { RedisSystem } from './peers/redis.js'

const dist = (path: string) => new URL(`../dist/${path}`, import.meta.url).href
const { createClient } = (await import(dist('client/node.js'))) as typeof import('../src/client/node.js')
const { bitacoraConsumer, bitacoraProducer, ensureTopic } = (await import(dist('cli/perf-bitacora.js'))) as typeof import('../src/cli/perf-bitacora.js')
const { runConsume } = (await import(dist('cli/perf-consume.js'))) as typeof import('../src/cli/perf-consume.js')
const { runE2eReceive, runE2eSend } = (await import(dist('cli/perf-e2e.js'))) as typeof import('../src/cli/perf-e2e.js')
const { runProduce } = (await import(dist('cli/perf-produce.js'))) as typeof import('../src/cli/perf-produce.js')

export type SystemKind = 'bitacora' | 'nats' | 'redis'

export interface WorkloadSpec {
  system: SystemKind
  /** A server's URL, or a cluster's separated by commas. */
  url: string
  /**
   * e2e-receive creates the topic, prints @@READY once consuming, and returns once the sender's
   * end marker and the records before it arrived; e2e-send (started after) sends at `rate`.
   */
  kind: 'produce' | 'consume' | 'e2e-send' | 'e2e-receive'
  topic: string
  recordSize: number
  /** produce / consume */
  records?: number
  /** produce: records/s (default -1, unthrottled). */
  throughput?: number
  /** e2e-send */
  rate?: number
  seconds?: number
  /** e2e-send: seconds at the rate before measuring (default: runE2eSend's). */
  warmupSeconds?: number
  maxSeconds: number
  /** Bitácora only. */
  acks?: 0 | 1 | -1
  lingerMs?: number
  /**
   * Copies of each record (default 1): Bitácora's topic replication factor, NATS's stream
   * replicas, Redis's primary plus `WAIT replicationFactor - 1` replicas per pipeline.
   */
  replicationFactor?: number
  /** Bitácora only: partitions of the topic the producer creates (default 1). */
  partitions?: number
  /** produce: the topic exists already (several producers share it): do not recreate it. */
  topicExists?: boolean
}

interface Opened {
  ensureTopic(): Promise<void>
  producer(): Promise<PerfProducer>
  consumer(): Promise<PerfConsumer>
  close(): Promise<void>
}

async function open(spec: WorkloadSpec): Promise<Opened> {
  if (spec.system === 'bitacora') {
    const client = createClient({ brokers: spec.url.split(','), clientId: 'bitacora-perf' })
    const producerOptions = { acks: spec.acks ?? 1, ...(spec.lingerMs !== undefined ? { lingerMs: spec.lingerMs } : {}) }
    return {
      ensureTopic: () => ensureTopic(client, spec.topic, spec.partitions ?? 1, true, spec.replicationFactor ?? 1),
      producer: () => bitacoraProducer(client, spec.topic, producerOptions),
      consumer: () => bitacoraConsumer(client, spec.topic, 1, 'earliest'),
      close: () => client.close(),
    }
  }
  const copies = spec.replicationFactor ?? 1
  if (spec.system === 'nats') {
    const system = await NatsSystem.connect(spec.url)
    return {
      ensureTopic: () => system.ensureTopic(spec.topic, copies),
      producer: async () => system.producer(spec.topic),
      consumer: () => system.consumer(spec.topic),
      close: () => system.close(),
    }
  }
  const system = await RedisSystem.connect(spec.url)
  return {
    ensureTopic: () => system.ensureTopic(spec.topic),
    producer: async () => system.producer(spec.topic, copies - 1),
    consumer: () => system.consumer(spec.topic),
    close: () => system.close(),
  }
}

async function run(spec: WorkloadSpec): Promise<unknown> {
  const system = await open(spec)
  try {
    if (spec.kind === 'produce') {
      if (!spec.topicExists) await system.ensureTopic()
      const producer = await system.producer()
      try {
        const cpu = process.cpuUsage()
        const result = await runProduce(producer, { records: spec.records!, recordSize: spec.recordSize, throughput: spec.throughput ?? -1, maxSeconds: spec.maxSeconds, progress: false })
        const used = process.cpuUsage(cpu)
        return { ...result, cpuSeconds: (used.user + used.system) / 1e6 }
      } finally {
        await producer.close()
      }
    }
    if (spec.kind === 'consume') {
      return await runConsume(await system.consumer(), { records: spec.records!, maxSeconds: spec.maxSeconds, progress: false })
    }
    if (spec.kind === 'e2e-receive') {
      await system.ensureTopic()
      const consumer = await system.consumer()
      const receiving = runE2eReceive(consumer, { maxSeconds: spec.maxSeconds })
      console.log('@@READY')
      return await receiving
    }
    const producer = await system.producer()
    try {
      return await runE2eSend(producer, { rate: spec.rate!, seconds: spec.seconds!, recordSize: spec.recordSize, ...(spec.warmupSeconds !== undefined ? { warmupSeconds: spec.warmupSeconds } : {}) })
    } finally {
      await producer.close()
    }
  } finally {
    await system.close()
  }
}

const spec = JSON.parse(process.argv[2] ?? '{}') as WorkloadSpec
const hardStop = setTimeout(() => {
  console.error(`workload exceeded ${spec.maxSeconds + 60} s; exiting`)
  process.exit(3)
}, (spec.maxSeconds + 60) * 1000)
hardStop.unref()
try {
  const result = await run(spec)
  console.log(`@@RESULT ${JSON.stringify(result)}`)
  process.exitCode = 0
} catch (err) {
  console.log(`@@ERROR ${JSON.stringify((err as Error).stack ?? String(err))}`)
  process.exitCode = 1
}
// Clients may hold timers; the result is out, so leave now.
setTimeout(() => process.exit(), 200).unref()
