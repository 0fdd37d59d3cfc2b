// Each partition's replicas as its leader knows them (DescribeQuorum naming data partitions):
// epoch, HW, log start, the ISR now, and each replica's log end, flushed offset, lag and last
// fetch. Routed to each partition's leader in batches (the broker's per-request limit); a
// partition whose leader moved (NOT_LEADER_OR_FOLLOWER) or is unreachable is asked again after
// a metadata refresh, at most REPLICA_STATUS_ROUNDS_MAX rounds, then answered with its error.
import type { bitacora } from '../protocol/index.js'
import type { Broker } from './broker.js'
import type { Cluster } from './cluster.js'
import type { Deadline } from './deadline.js'
import { BitacoraError, ClientError, errorFromWire, isRetriableError } from './errors.js'
import { DESCRIBE_REPLICAS_PER_REQUEST_MAX, REPLICA_STATUS_ROUNDS_MAX } from './limits.js'
import type { TopicRouter } from './topic-router.js'

export interface ReplicaState {
  nodeId: number
  /** -1 where the leader has not heard from it in this epoch. */
  logEndOffset: number
  flushedOffset: number
  /** The leader's log end minus its log end; -1: not known. */
  lag: number
  lastFetchMsAgo: number
}

export interface PartitionReplicas {
  topic: string
  partition: number
  /** Null, or why the leader could not be asked (the fields below are then -1 / empty). */
  error: BitacoraError | ClientError | null
  leaderId: number
  leaderEpoch: number
  highWatermark: number
  logStartOffset: number
  /** The leader's in-sync replicas now (Metadata shows the ones the controller recorded). */
  isr: number[]
  /** The voters, the leader among them. */
  replicas: ReplicaState[]
  observers: ReplicaState[]
}

export async function describeReplicas(
  cluster: Cluster, router: TopicRouter, queries: ReadonlyArray<{ topic: string; partition: number }>, deadline: Deadline,
): Promise<PartitionReplicas[]> {
  const answers = new Map<string, PartitionReplicas>()
  const key = (topic: string, partition: number) => `${partition}:${topic}`
  let remaining = [...queries]
  for (let round = 1; remaining.length > 0; round++) {
    const last = round >= REPLICA_STATUS_ROUNDS_MAX
    const byBroker = new Map<Broker, Array<{ topic: string; partition: number }>>()
    for (const q of remaining) {
      const broker = await router.leader(q.topic, q.partition, deadline)
      byBroker.set(broker, [...(byBroker.get(broker) ?? []), q])
    }
    const again: typeof remaining = []
    await Promise.all([...byBroker].flatMap(([broker, qs]) => chunks(qs, DESCRIBE_REPLICAS_PER_REQUEST_MAX).map(async (chunk) => {
      let response: bitacora.IDescribeQuorumResponse
      try {
        response = await broker.request('describeQuorum', { topics: byTopic(chunk) })
      } catch (err) {
        if (!isRetriableError(err) || last) {
          for (const q of chunk) answers.set(key(q.topic, q.partition), failed(q, err as BitacoraError))
        } else again.push(...chunk)
        return
      }
      for (const q of chunk) {
        const r = response.partitions?.find((p) => p.topic === q.topic && (p.partition ?? 0) === q.partition)
        const err = r ? errorFromWire(r.error, `replicas of ${q.topic}/${q.partition}`) : new ClientError('PROTOCOL_ERROR', `no answer for ${q.topic}/${q.partition}`)
        if (err !== null && isRetriableError(err) && !last) {
          cluster.metadata.markStale(q.topic)
          again.push(q)
        } else answers.set(key(q.topic, q.partition), err !== null ? failed(q, err) : partitionReplicas(q, r!))
      }
    })))
    remaining = again
  }
  return queries.map((q) => answers.get(key(q.topic, q.partition))!)
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

function byTopic(qs: ReadonlyArray<{ topic: string; partition: number }>): bitacora.DescribeQuorumRequest.ITopicPartitions[] {
  const topics = new Map<string, number[]>()
  for (const q of qs) topics.set(q.topic, [...(topics.get(q.topic) ?? []), q.partition])
  return [...topics].map(([name, partitions]) => ({ name, partitions }))
}

function failed(q: { topic: string; partition: number }, error: BitacoraError | ClientError): PartitionReplicas {
  return { ...q, error, leaderId: -1, leaderEpoch: -1, highWatermark: -1, logStartOffset: -1, isr: [], replicas: [], observers: [] }
}

function partitionReplicas(q: { topic: string; partition: number }, r: bitacora.DescribeQuorumResponse.IPartitionQuorum): PartitionReplicas {
  const state = (x: bitacora.IQuorumReplica): ReplicaState => ({
    nodeId: x.nodeId ?? 0, logEndOffset: num(x.logEndOffset), flushedOffset: num(x.flushedOffset), lag: num(x.lag), lastFetchMsAgo: num(x.lastFetchMsAgo),
  })
  return {
    ...q, error: null, leaderId: r.leaderId ?? -1, leaderEpoch: r.leaderEpoch ?? -1, highWatermark: num(r.highWatermark), logStartOffset: num(r.logStartOffset),
    isr: r.isr ?? [], replicas: (r.voters ?? []).map(state), observers: (r.observers ?? []).map(state),
  }
}

/** An int64 field (read as a number: protocol/long-as-number.ts); -1 when absent. */
function num(v: unknown): number {
  return typeof v === 'number' ? v : v === null || v === undefined ? -1 : Number(v)
}
