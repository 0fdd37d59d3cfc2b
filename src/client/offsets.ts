// ListOffsets, routed to each partition's leader, retried on retriable errors (a new leader
// answers OFFSET_NOT_AVAILABLE until its high watermark catches up; a deposed or lagging one
// FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH) until the deadline, which no wait outlasts; a
// leader hint newer than the cache's is followed at once. Shared by the consumer (seek, reset)
// and the admin.
import type { bitacora } from '../protocol/index.js'
import type { RetryPolicy } from './backoff.js'
import type { Broker } from './broker.js'
import type { Cluster } from './cluster.js'
import { EXPIRED, giveUp, type Deadline } from './deadline.js'
import { ClientError, errorFromWire, isRetriableError } from './errors.js'
import { hintOf } from './metadata.js'
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
  let failures = 0
  while (remaining.length > 0) {
    let lastError: unknown
    const byBroker = new Map<Broker, OffsetQuery[]>()
    for (const q of remaining) {
      const broker = await router.leader(q.topic, q.partition, deadline)
      byBroker.set(broker, [...(byBroker.get(broker) ?? []), q])
    }
    const failed: OffsetQuery[] = []
    const redirected: OffsetQuery[] = []
    const round = Promise.all([...byBroker].map(async ([broker, qs]) => {
      try {
        const response = await broker.request('listOffsets', request(cluster, qs))
        for (const q of qs) {
          const r = find(response, q)
          const err = r ? errorFromWire(r.error, `list offsets of ${q.topic}/${q.partition}`) : new ClientError('PROTOCOL_ERROR', `no answer for ${q.topic}/${q.partition}`)
          if (err && redirects(err.code) && cluster.metadata.applyLeaderHint(q.topic, q.partition, hintOf(r))) {
            redirected.push(q) // to the hinted leader, at once
          } else if (err) {
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
    remaining = [...redirected, ...failed]
    if (failed.length === 0) continue // every retry goes to a newer leader: no back-off
    failures++
    const now = cluster.now()
    const delay = retry.nextDelayMs(lastError, failures, now, deadline.at)
    if (delay === null) throw giveUp(what, `(${failures} attempts, ${deadline.bound})`, lastError)
    await sleeper.sleep(delay)
  }
  return queries.map((q) => answers.get(`${q.partition}:${q.topic}`)!)
}

/** A leader hint may come with these: a newer leader to ask at once. */
function redirects(code: string): boolean {
  return code === 'NOT_LEADER_OR_FOLLOWER' || code === 'FENCED_LEADER_EPOCH'
}

/** Each query carries the leader epoch the cache knows, so a deposed or lagging leader is told apart (KIP-320). */
function request(cluster: Cluster, qs: OffsetQuery[]): bitacora.IListOffsetsRequest {
  const topics = new Map<string, bitacora.ListOffsetsRequest.IPartitionQuery[]>()
  for (const q of qs) {
    const query = { index: q.partition, timestamp: q.timestamp, currentLeaderEpoch: cluster.metadata.leaderEpochOf(q.topic, q.partition) }
    topics.set(q.topic, [...(topics.get(q.topic) ?? []), query])
  }
  return { topics: [...topics].map(([name, partitions]) => ({ name, partitions })) }
}

function find(response: bitacora.IListOffsetsResponse, q: OffsetQuery) {
  return response.topics?.find((t) => t.name === q.topic)?.partitions?.find((p) => (p.index ?? 0) === q.partition)
}
