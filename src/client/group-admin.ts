// Consumer group administration: list, describe, delete, and an admin's committed offsets
// (fetch; commit from outside the membership, which the coordinator takes only while the group
// has no members). ListGroups goes to every broker (each answers for the groups it coordinates);
// the rest go to the group's coordinator, found again on each attempt, so NOT_COORDINATOR and
// COORDINATOR_LOAD_IN_PROGRESS after a failover are retried with back-off like any retriable
// failure, within apiTimeoutMs.
import { ErrorCode, type bitacora } from '../protocol/index.js'
import type { RetryPolicy } from './backoff.js'
import type { Broker } from './broker.js'
import type { Cluster } from './cluster.js'
import { Deadline } from './deadline.js'
import { BitacoraError, errorFromWire, isRetriableError } from './errors.js'
import { retryUntil } from './retry-until.js'
import type { Sleeper } from './sleep.js'

export interface GroupListing {
  groupId: string
  /** empty, assigning, reconciling, stable */
  state: string
  members: number
  /** The server-side assignor in use (uniform, range). */
  assignor: string
}

export interface TopicPartitions {
  topic: string
  partitions: number[]
}

export interface GroupMemberDescription {
  memberId: string
  instanceId: string | null
  clientId: string
  clientHost: string
  memberEpoch: number
  /** stable, unrevoked, unreleased, away (a static member that left for now) */
  state: string
  subscribedTopicNames: string[]
  subscribedTopicRegex: string | null
  assignment: TopicPartitions[]
  pendingRevocation: TopicPartitions[]
  target: TopicPartitions[]
}

export interface GroupDescription {
  groupId: string
  state: string
  groupEpoch: number
  assignmentEpoch: number
  assignor: string
  /** The broker that answered: the group's coordinator. */
  coordinator: { nodeId: number; url: string }
  members: GroupMemberDescription[]
  /** GROUP_ID_NOT_FOUND, INVALID_GROUP_ID, ... (the rest is then empty). */
  error: BitacoraError | null
}

export interface CommittedOffset {
  topic: string
  partition: number
  /** -1: nothing committed. */
  offset: number
  leaderEpoch: number
  metadata: string
}

export interface OffsetToCommit {
  topic: string
  partition: number
  offset: number
  metadata?: string
}

/** The codes that mean "ask where the group's coordinator is again". */
const REDISCOVER = new Set<number>([ErrorCode.NOT_COORDINATOR, ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS])

const topicPartitions = (list: bitacora.ITopicPartitionList[] | null | undefined): TopicPartitions[] =>
  (list ?? []).map((t) => ({ topic: t.topic ?? '', partitions: [...(t.partitions ?? [])].sort((a, b) => a - b) }))

export class GroupAdmin {
  constructor(
    private readonly cluster: Cluster,
    private readonly retry: RetryPolicy,
    private readonly sleeper: Sleeper,
    private readonly isClosed: () => boolean,
    private readonly apiTimeoutMs: number,
  ) {}

  /** Every group of the cluster, by id: each broker lists those it coordinates. */
  async listGroups(): Promise<GroupListing[]> {
    return this.withRetry('listGroups', async () => {
      await this.cluster.refreshMetadata()
      const brokers = this.cluster.metadata.brokerList().filter((b) => !b.fenced)
      const answers = await Promise.all(brokers.map((b) => this.cluster.brokerAt(b.url).request('listGroups', {})))
      const byId = new Map<string, GroupListing>()
      for (const r of answers) {
        for (const g of r.groups ?? []) {
          const id = g.groupId ?? ''
          // During a coordinator move two brokers may both list a group: keep one.
          if (!byId.has(id)) byId.set(id, { groupId: id, state: g.state ?? '', members: g.members ?? 0, assignor: g.assignor ?? '' })
        }
      }
      return [...byId.values()].sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0))
    })
  }

  /** One description per group id, in order; an unknown group carries GROUP_ID_NOT_FOUND. */
  describeGroups(groupIds: readonly string[]): Promise<GroupDescription[]> {
    return Promise.all(groupIds.map((groupId) => this.atCoordinator(groupId, 'describeGroups', async (broker, coordinator) => {
      const g = (await broker.request('describeGroups', { groupIds: [groupId] })).groups?.[0]
      const error = errorFromWire(g?.error, `group ${groupId}`)
      if (error && REDISCOVER.has(g?.error?.code ?? 0)) throw error
      return {
        groupId, state: g?.state ?? '', groupEpoch: g?.groupEpoch ?? 0, assignmentEpoch: g?.assignmentEpoch ?? 0, assignor: g?.assignor ?? '', coordinator, error,
        members: (g?.members ?? []).map((m) => ({
          memberId: m.memberId ?? '', instanceId: m.instanceId ?? null, clientId: m.clientId ?? '', clientHost: m.clientHost ?? '',
          memberEpoch: m.memberEpoch ?? 0, state: m.state ?? '', subscribedTopicNames: [...(m.subscribedTopicNames ?? [])],
          subscribedTopicRegex: m.subscribedTopicRegex ?? null, assignment: topicPartitions(m.assignment),
          pendingRevocation: topicPartitions(m.pendingRevocation), target: topicPartitions(m.target),
        })),
      }
    })))
  }

  /** Deletes each group (refused with NON_EMPTY_GROUP while it has members); one result per id. */
  deleteGroups(groupIds: readonly string[]): Promise<Array<{ groupId: string; error: BitacoraError | null }>> {
    return Promise.all(groupIds.map((groupId) => this.atCoordinator(groupId, 'deleteGroups', async (broker) => {
      const r = (await broker.request('deleteGroups', { groupIds: [groupId] })).results?.[0]
      const error = errorFromWire(r?.error) // the result names its group: the broker's message need not again
      if (error && REDISCOVER.has(r?.error?.code ?? 0)) throw error
      return { groupId, error }
    })))
  }

  /** The group's committed offsets: of the partitions named, or every one it has. Sorted by topic, partition. */
  fetchOffsets(groupId: string, topics?: readonly TopicPartitions[]): Promise<CommittedOffset[]> {
    return this.atCoordinator(groupId, 'offsetFetch', async (broker) => {
      const r = await broker.request('offsetFetch', { groupId, topics: (topics ?? []).map((t) => ({ name: t.topic, partitions: [...t.partitions] })) })
      const error = errorFromWire(r.error, `offsets of group ${groupId}`)
      if (error) throw error
      return (r.topics ?? []).flatMap((t) => (t.partitions ?? []).map((p) => ({
        topic: t.name ?? '', partition: p.index ?? 0, offset: Number(p.offset ?? -1), leaderEpoch: p.leaderEpoch ?? -1, metadata: p.metadata ?? '',
      }))).sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition))
    })
  }

  /**
   * Commits offsets as an admin (no member: epoch -1), all in one write: the coordinator takes
   * them only while the group has no members (else UNKNOWN_MEMBER_ID, nothing written), as Kafka's
   * kafka-consumer-groups --reset-offsets. Throws the first error.
   */
  commitOffsets(groupId: string, offsets: readonly OffsetToCommit[]): Promise<void> {
    const byTopic = new Map<string, bitacora.OffsetCommitRequest.IPartition[]>()
    for (const o of offsets) byTopic.set(o.topic, [...(byTopic.get(o.topic) ?? []), { index: o.partition, offset: o.offset, metadata: o.metadata ?? '' }])
    return this.atCoordinator(groupId, 'offsetCommit', async (broker) => {
      const r = await broker.request('offsetCommit', { groupId, memberId: '', memberEpoch: -1, topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })) })
      const error = errorFromWire(r.error, `commit of group ${groupId}`)
        ?? (r.topics ?? []).flatMap((t) => (t.partitions ?? []).map((p) => errorFromWire(p.error, `commit of ${t.name}/${p.index ?? 0} in group ${groupId}`))).find((e) => e !== null)
      if (error) throw error
    })
  }

  /** Runs `body` on the group's coordinator, finding it again on each attempt. */
  private atCoordinator<T>(groupId: string, what: string, body: (broker: Broker, coordinator: { nodeId: number; url: string }) => Promise<T>): Promise<T> {
    return this.withRetry(what, async () => {
      const found = (await (await this.cluster.anyBroker()).request('findCoordinator', { groupIds: [groupId] })).coordinators?.[0]
      const error = errorFromWire(found?.error, `finding the coordinator of group ${groupId}`)
      if (error) throw error
      if (!found?.url) throw new BitacoraError(ErrorCode.COORDINATOR_NOT_AVAILABLE, `no coordinator for group ${groupId} yet`)
      return body(this.cluster.brokerAt(found.url), { nodeId: found.nodeId ?? -1, url: found.url })
    })
  }

  private withRetry<T>(what: string, attempt: () => Promise<T>): Promise<T> {
    const deadline = Deadline.after(this.apiTimeoutMs, 'apiTimeoutMs', this.cluster.now())
    return retryUntil({ now: () => this.cluster.now(), retry: this.retry, sleeper: this.sleeper, isClosed: this.isClosed }, what, deadline, isRetriableError, attempt)
  }
}
