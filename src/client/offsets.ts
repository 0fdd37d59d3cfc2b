// ListOffsets, routed to each partition's leader, retried on retriable errors (a new leader
// answers OFFSET_NOT_AVAILABLE until its high watermark catches up) until the deadline, which
// no wait outlasts. Shared by the consumer (seek, reset) and the admin.
import type { bitacora } from '../protocol/index.js'
import type { RetryPolicy } from './backoff.js'
import type { Broker } from './broker.js'
import type { Cluster } from './cluster.js'
import { EXPIRED, giveUp, type Deadline } from './deadline.js'
import { ClientError, errorFromWire, isRetriableError } from './errors.js'
import type { Sleeper } from './sleep.js'
import type { TopicRouter } from './topic-router.js'

export const EARLIEST = -2
export const LATEST = -1

export interface OffsetQuery {
  topic: string
  partition: number
  /** EARLIEST (-2), LATEST (-1, the high watermark), or a timestamp in ms. */
  timestamp: number
}

export interface OffsetAnswer {
  topic: string
  partition: number
  /** -1 when no record has a timestamp at or after the one asked for. */
  offset: number
  timestamp: number
  leaderEpoch: number
}

export async function listOffsets(
  cluster: Cluster, router: TopicRouter, retry: RetryPolicy, sleeper: Sleeper,
  queries: readonly OffsetQuery[], deadline: Deadline,
): Promise<OffsetAnswer[]> {
  const what = `offsets of ${[...new Set(queries.map((q) => q.topic))].join(', ')}`
  const answers = new Map<string, OffsetAnswer>()
  let remaining = [...queries]
  for (let failures = 1; remaining.length > 0; failures++) {
    let lastError: unknown
    const byBroker = new Map<Broker, OffsetQuery[]>()
    for (const q of remaining) {
      const broker = await router.leader(q.topic, q.partition, deadline)
      byBroker.set(broker, [...(byBroker.get(broker) ?? []), q])
    }
    const failed: OffsetQuery[] = []
    const round = Promise.all([...byBroker].map(async ([broker, qs]) => {
      try {
        const response = await broker.request('listOffsets', request(qs))
        for (const q of qs) {
          const r = find(response, q)
          const err = r ? errorFromWire(r.error, `list offsets of ${q.topic}/${q.partition}`) : new ClientError('PROTOCOL_ERROR', `no answer for ${q.topic}/${q.partition}`)
          if (err) {
            if (!isRetriableError(err)) throw err
            lastError = err
            cluster.metadata.markStale(q.topic)
            failed.push(q)
          } else {
            answers.set(`${q.partition}:${q.topic}`, { topic: q.topic, partition: q.partition, offset: r!.offset ?? -1, timestamp: r!.timestamp ?? -1, leaderEpoch: r!.leaderEpoch ?? -1 })
          }
        }
      } catch (err) {
        if (!isRetriableError(err)) throw err
        lastError = err
        for (const q of qs) cluster.metadata.markStale(q.topic)
        failed.push(...qs)
      }
    }))
    if ((await deadline.race(round, cluster.now())) === EXPIRED) throw deadline.expired(what, lastError)
    remaining = failed
    if (remaining.length === 0) break
    const now = cluster.now()
    const delay = retry.nextDelayMs(lastError, failures, now, deadline.at)
    if (delay === null) throw giveUp(what, `(${failures} attempts, ${deadline.bound})`, lastError)
    await sleeper.sleep(delay)
  }
  return queries.map((q) => answers.get(`${q.partition}:${q.topic}`)!)
}

function request(qs: OffsetQuery[]): bitacora.IListOffsetsRequest {
  const topics = new Map<string, bitacora.ListOffsetsRequest.IPartitionQuery[]>()
  for (const q of qs) topics.set(q.topic, [...(topics.get(q.topic) ?? []), { index: q.partition, timestamp: q.timestamp }])
  return { topics: [...topics].map(([name, partitions]) => ({ name, partitions })) }
}

function find(response: bitacora.IListOffsetsResponse, q: OffsetQuery) {
  return response.topics?.find((t) => t.name === q.topic)?.partitions?.find((p) => (p.index ?? 0) === q.partition)
}
