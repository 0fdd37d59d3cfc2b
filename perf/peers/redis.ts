// Redis Streams as a perf system, driven at its best: XADDs go out in explicit pipelines of up
// to PIPELINE_RECORDS (one write and one reply burst per pipeline; on this machine an explicit
// pipeline of 1,000 XADDs reached about twice the records/s of auto-pipelined per-record
// promises), at most the runner's window outstanding (the same for every system); reads with
// XREAD COUNT in a loop. Durability is the server's (AOF fsync everysec or always) or, with
// replicas, `WAIT n` after each pipeline: acknowledged once n replicas have the writes in memory.
import { Redis } from 'ioredis'
import type { PerfConsumer, PerfProducer } from '../../src/cli/perf-adapter.js'

const READ_COUNT = 10_000
/** XADDs per pipeline: the size that measured best here (1,000 and 2,000 were within noise). */
const PIPELINE_RECORDS = 1_000
/** How long a pipeline's WAIT may wait for its replicas before its records count as failed. */
const WAIT_TIMEOUT_MS = 10_000

export class RedisSystem {
  private readonly clients: Redis[] = []
  private constructor(private readonly url: string) {}

  static async connect(url: string): Promise<RedisSystem> {
    const system = new RedisSystem(url)
    await system.client().ping()
    return system
  }

  private client(): Redis {
    const client = new Redis(this.url, { maxRetriesPerRequest: 1 })
    this.clients.push(client)
    return client
  }

  async ensureTopic(topic: string): Promise<void> {
    await this.clients[0]!.del(topic)
  }

  /** A producer; with `waitReplicas` > 0 each pipeline ends with WAIT for that many replicas. */
  producer(topic: string, waitReplicas = 0): PerfProducer {
    const client = this.client()
    let values: Uint8Array[] = []
    let dones: Array<(error: Error | null) => void> = []
    let scheduled = false
    let outstanding = 0
    let drained: (() => void) | null = null
    const settle = (batch: typeof dones, error: Error | null) => {
      for (const done of batch) done(error)
      outstanding -= batch.length
      if (outstanding === 0) drained?.()
    }
    const sendPipeline = () => {
      scheduled = false
      if (values.length === 0) return
      const batchValues = values
      const batchDones = dones
      values = []
      dones = []
      const pipeline = client.pipeline()
      for (const v of batchValues) pipeline.xadd(topic, '*', 'v', Buffer.from(v.buffer, v.byteOffset, v.byteLength))
      if (waitReplicas > 0) pipeline.wait(waitReplicas, WAIT_TIMEOUT_MS)
      pipeline.exec().then(
        (replies) => {
          const failed = replies?.find(([err]) => err !== null)?.[0]
          if (failed) return settle(batchDones, failed)
          const replicated = waitReplicas > 0 ? Number(replies![replies!.length - 1]![1]) : 0
          if (replicated < waitReplicas) return settle(batchDones, new Error(`WAIT ${waitReplicas}: only ${replicated} replicas acknowledged within ${WAIT_TIMEOUT_MS} ms`))
          settle(batchDones, null)
        },
        (err: Error) => settle(batchDones, err),
      )
    }
    return {
      send: (value, done) => {
        // Kept by reference until the pipeline goes out (ioredis copies it then): the runners
        // never change a value after sending it.
        values.push(value)
        dones.push(done)
        outstanding++
        if (values.length >= PIPELINE_RECORDS) sendPipeline()
        else if (!scheduled) {
          scheduled = true
          setImmediate(sendPipeline)
        }
      },
      flush: () => {
        sendPipeline()
        return outstanding === 0 ? Promise.resolve() : new Promise<void>((resolve) => (drained = resolve))
      },
      close: async () => {},
    }
  }

  async consumer(topic: string): Promise<PerfConsumer> {
    const client = this.client()
    let stopped = false
    return {
      async consume(onRecord) {
        let last = '0-0'
        while (!stopped) {
          const answer = (await client.xreadBuffer('COUNT', READ_COUNT, 'BLOCK', 100, 'STREAMS', topic, last)) as
            | Array<[Buffer, Array<[Buffer, Buffer[]]>]>
            | null
          if (answer === null) continue
          const entries = answer[0]![1]
          for (const [, fields] of entries) onRecord(fields[1]!)
          last = entries[entries.length - 1]![0].toString()
        }
      },
      stop() {
        stopped = true
      },
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.quit().catch(() => c.disconnect())))
  }
}
