// Waits for usable metadata: a topic's partition count, or a partition's leader broker.
// A topic being created (UNKNOWN_TOPIC_OR_PARTITION, LEADER_NOT_AVAILABLE), a cluster
// mid-election or a broker out of reach is retried with back-off until the caller's deadline,
// which no wait outlasts (a connection attempt in progress included); a non-retriable error
// (INVALID_TOPIC_EXCEPTION, CONNECTION_REFUSED) is thrown at once. Out of time, the error says
// why: NO_BROKER_AVAILABLE when no broker could be reached, else TOPIC_NOT_AVAILABLE.
import { ErrorCode } from '../protocol/index.js'
import type { RetryPolicy } from './backoff.js'
import type { Broker } from './broker.js'
import type { Cluster } from './cluster.js'
import { EXPIRED, type Deadline } from './deadline.js'
import { BitacoraError, ClientError, isRetriableError } from './errors.js'
import type { Sleeper } from './sleep.js'

export class TopicRouter {
  constructor(
    private readonly cluster: Cluster,
    private readonly retry: RetryPolicy,
    private readonly sleeper: Sleeper,
    private readonly isClosed: () => boolean,
  ) {}

  partitionCount(topic: string, deadline: Deadline): Promise<number> {
    return this.until<number>(topic, deadline, () => {
      const t = this.cluster.metadata.topic(topic)
      if (t && t.error === null && t.partitions.length > 0) return t.partitions.length
      return t?.error ?? new BitacoraError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic ${topic} is not in the metadata`)
    })
  }

  leader(topic: string, partition: number, deadline: Deadline): Promise<Broker> {
    return this.until<Broker>(topic, deadline, () => {
      const t = this.cluster.metadata.topic(topic)
      if (t?.error) return t.error
      const p = t?.partitions[partition]
      if (t && t.partitions.length > 0 && p === undefined) {
        return new ClientError('INVALID_ARGUMENT', `partition ${partition} does not exist: topic ${topic} has ${t.partitions.length}`)
      }
      const broker = p && p.leader >= 0 ? this.cluster.brokerById(p.leader) : undefined
      return broker ?? new BitacoraError(ErrorCode.LEADER_NOT_AVAILABLE, `${topic}/${partition} has no known leader`)
    })
  }

  private async until<T>(topic: string, deadline: Deadline, probe: () => T | Error): Promise<T> {
    const what = `metadata of topic ${topic}`
    let last: Error | undefined
    for (let failures = 1; ; failures++) {
      if (this.isClosed()) throw new ClientError('CLIENT_CLOSED', 'closed while waiting for metadata')
      let result: T | Error | typeof EXPIRED
      try {
        const refreshed = await deadline.race(this.cluster.ensureTopics([topic]), this.cluster.now())
        result = refreshed === EXPIRED ? EXPIRED : probe()
      } catch (err) {
        result = err as Error
      }
      if (result === EXPIRED) throw deadline.expired(what, last, 'TOPIC_NOT_AVAILABLE')
      if (!(result instanceof Error)) return result
      if (!isRetriableError(result)) throw result
      last = result
      this.cluster.metadata.markStale(topic)
      const delay = this.retry.backoff.delayMs(failures - 1)
      if (this.cluster.now() + delay >= deadline.at) throw deadline.expired(what, last, 'TOPIC_NOT_AVAILABLE')
      await this.sleeper.sleep(delay)
    }
  }
}
