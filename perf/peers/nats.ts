// NATS JetStream as a perf system, used the way its docs recommend for throughput: async
// js.publish() with a bounded window of outstanding acks (the window is the runner's, the same
// for every system), one file-storage stream per topic (one replica, or R3 on a 3-server
// cluster: acknowledged once a majority stored it), and an ordered pull consumer delivering
// through a callback.
import { connect, RetentionPolicy, StorageType, type NatsConnection } from 'nats'
import type { PerfConsumer, PerfProducer } from '../../src/cli/perf-adapter.js'

export class NatsSystem {
  private constructor(private readonly nc: NatsConnection) {}

  /** `urls`: one server, or a cluster's servers separated by commas. */
  static async connect(urls: string): Promise<NatsSystem> {
    return new NatsSystem(await connect({ servers: urls.split(','), name: 'bitacora-perf' }))
  }

  /** (Re)creates the stream `topic` on subject `topic`, file storage, `replicas` copies. */
  async ensureTopic(topic: string, replicas = 1): Promise<void> {
    const jsm = await this.nc.jetstreamManager()
    await jsm.streams.delete(topic).catch(() => false)
    await jsm.streams.add({ name: topic, subjects: [topic], storage: StorageType.File, num_replicas: replicas, retention: RetentionPolicy.Limits })
  }

  producer(topic: string): PerfProducer {
    const js = this.nc.jetstream()
    return {
      send: (value, done) => {
        js.publish(topic, value).then(() => done(null), done)
      },
      flush: () => this.nc.flush(),
      close: async () => {},
    }
  }

  async consumer(topic: string): Promise<PerfConsumer> {
    const js = this.nc.jetstream()
    const consumer = await js.consumers.get(topic) // an ordered consumer, from the first message
    let stop: (() => void) | null = null
    let stopped = false
    return {
      async consume(onRecord) {
        if (stopped) return
        const messages = await consumer.consume({ max_messages: 10_000, callback: (m) => onRecord(m.data) })
        stop = () => messages.stop()
        if (stopped) messages.stop()
        await messages.closed()
      },
      stop() {
        stopped = true
        stop?.()
      },
    }
  }

  async close(): Promise<void> {
    await this.nc.drain()
  }
}
