// Bitácora as a perf system: a producer and a consumer of one topic through the client, and
// a helper that (re)creates the topic.
import type { Client, CompressionCodec, Consumer, ProducerOptions } from '../client/node.js'
import type { PerfConsumer, PerfProducer } from './perf-adapter.js'

export interface BitacoraProducerOptions {
  acks: 0 | 1 | -1
  batchBytes?: number
  lingerMs?: number
  compression?: CompressionCodec
  requestBytesMax?: number
}

export async function bitacoraProducer(client: Client, topic: string, o: BitacoraProducerOptions): Promise<PerfProducer> {
  const options: ProducerOptions = { acks: o.acks, compression: o.compression ?? 'none' }
  if (o.batchBytes !== undefined) options.batchBytes = o.batchBytes
  if (o.lingerMs !== undefined) options.lingerMs = o.lingerMs
  if (o.requestBytesMax !== undefined) options.requestBytesMax = o.requestBytesMax
  const producer = await client.producer(options)
  return {
    send: (value, done) => producer.send({ topic, value }, done),
    flush: () => producer.flush(),
    close: () => producer.close({ timeoutMs: 10_000 }),
  }
}

/** Reads every partition of `topic` from `from` (default the earliest offset). */
export async function bitacoraConsumer(client: Client, topic: string, partitions: number, from: 'earliest' | 'latest' = 'earliest'): Promise<PerfConsumer> {
  let consumer: Consumer | null = null
  let stopped = false
  const made = await client.consumer({ autoOffsetReset: from, maxWaitMs: 100 })
  made.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition })))
  // 'latest' is resolved now, so records produced right after this call are read.
  const offsets = from === 'latest' ? await client.admin().listOffsets(topic, 'latest') : []
  for (let p = 0; p < partitions; p++) made.seek(topic, p, offsets.find((o) => o.partition === p)?.offset ?? 'earliest')
  consumer = made
  return {
    async consume(onRecord) {
      // The batch-level API: each record's value read from the fetched bytes, no record objects.
      for await (const batch of made.batches()) {
        for (let i = 0; i < batch.count; i++) {
          const value = batch.value(i)
          if (value !== null) onRecord(value)
        }
        if (stopped) break
      }
    },
    stop() {
      stopped = true
      consumer?.close()
    },
  }
}

/** Creates `topic` with `partitions` partitions, deleting an existing one first when `fresh`. */
export async function ensureTopic(client: Client, topic: string, partitions: number, fresh: boolean, replicationFactor = 1): Promise<void> {
  const admin = client.admin()
  if (fresh) {
    await admin.deleteTopics([topic])
    await new Promise((r) => setTimeout(r, 200))
  }
  const [result] = await admin.createTopics([{ topic, partitions, replicationFactor }])
  if (result?.error && result.error.code !== 'TOPIC_ALREADY_EXISTS') throw result.error
  // Wait until every partition has a leader, so the first sends do not measure an election.
  const deadline = Date.now() + 15_000
  for (;;) {
    const [d] = await admin.describeTopics([topic])
    if (d && !d.error && d.partitions.length === partitions && d.partitions.every((p) => p.leader >= 0)) return
    if (Date.now() > deadline) throw new Error(`topic ${topic}: partitions have no leader after 15 s`)
    await new Promise((r) => setTimeout(r, 100))
  }
}
