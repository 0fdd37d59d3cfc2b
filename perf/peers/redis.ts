// Redis Streams as a perf system, used the way ioredis recommends for throughput: XADD with
// auto-pipelining (every command issued in one event-loop tick goes out in one write), at most
// the runner's window outstanding (the same for every system); reads with XREAD COUNT in a loop.
// Durability is the server's: AOF fsync everysec or always.
import { Redis } from 'ioredis'
import type { PerfConsumer, PerfProducer } from '../../src/cli/perf-adapter.js'

const READ_COUNT = 10_000

export class RedisSystem {
  private readonly clients: Redis[] = []
  private constructor(private readonly url: string) {}

  static async connect(url: string): Promise<RedisSystem> {
    const system = new RedisSystem(url)
    await system.client().ping()
    return system
  }

  private client(): Redis {
    const client = new Redis(this.url, { enableAutoPipelining: true, maxRetriesPerRequest: 1 })
    this.clients.push(client)
    return client
  }

  async ensureTopic(topic: string): Promise<void> {
    await this.clients[0]!.del(topic)
  }

  producer(topic: string): PerfProducer {
    const client = this.client()
    return {
      send: (value, done) => {
        client.xadd(topic, '*', 'v', Buffer.from(value.buffer, value.byteOffset, value.byteLength)).then(() => done(null), done)
      },
      flush: async () => {},
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
