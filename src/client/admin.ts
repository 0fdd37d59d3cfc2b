// Topic, configuration and controller-quorum administration (quorum-admin.ts). Topic and config
// changes go to the active controller when metadata names one, else to any reachable broker;
// reads go to any broker. Retriable failures of the request as a whole (NOT_CONTROLLER among
// them) are retried with back-off, each call within apiTimeoutMs, retries and connection
// attempts included; per-topic and per-resource errors come back in the results.
import { bitacora } from '../protocol/index.js'
import { RetryPolicy, type RetryOptions } from './backoff.js'
import type { Cluster } from './cluster.js'
import { Deadline } from './deadline.js'
import { BitacoraError, errorFromWire, isErrorCode, isRetriableError } from './errors.js'
import { API_TIMEOUT_MS_DEFAULT } from './limits.js'
import { GroupAdmin, type CommittedOffset, type GroupDescription, type GroupListing, type OffsetToCommit, type TopicPartitions } from './group-admin.js'
import { EARLIEST, LATEST, listOffsets, type OffsetAnswer } from './offsets.js'
import { QuorumAdmin, type QuorumDescription } from './quorum-admin.js'
import { describeReplicas, type PartitionReplicas } from './replica-status.js'
import { retryUntil } from './retry-until.js'
import { Sleeper } from './sleep.js'
import { TopicRouter } from './topic-router.js'
import type { ApiName } from '../protocol/index.js'
import type { RequestBody, ResponseBody } from './connection.js'
import type { PartitionInfo } from './metadata.js'

export interface NewTopic {
  topic: string
  /** Default: the broker's default. */
  partitions?: number
  replicationFactor?: number
  configs?: Record<string, string>
}

export interface TopicResult {
  topic: string
  /** 16-byte UUID, hex. */
  topicId: string
  error: BitacoraError | null
}

export interface TopicDescription {
  topic: string
  topicId: string
  internal: boolean
  partitions: PartitionInfo[]
  error: BitacoraError | null
}

export type ResourceType = 'topic' | 'broker'

export interface ConfigResource {
  type: ResourceType
  name: string
}

export interface ConfigEntry {
  name: string
  value: string
  isDefault: boolean
  readOnly: boolean
  documentation: string
}

export interface ConfigResult {
  resource: ConfigResource
  entries: ConfigEntry[]
  error: BitacoraError | null
}

export type OffsetSpec = 'earliest' | 'latest' | { timestamp: number }

/** A preferred election's outcome for one partition: error null once its preferred replica leads. */
export interface ReassignmentResult {
  topic: string
  partition: number
  /** Null: the move (or its cancel) is recorded. */
  error: BitacoraError | null
}

export interface ElectionResult {
  topic: string
  partition: number
  /** ELECTION_NOT_NEEDED: it led already; PREFERRED_LEADER_NOT_AVAILABLE: it cannot lead now (fenced, not registered). */
  error: BitacoraError | null
}

const RESOURCE_TYPES: Record<ResourceType, bitacora.ConfigResourceType> = {
  topic: bitacora.ConfigResourceType.TOPIC,
  broker: bitacora.ConfigResourceType.BROKER,
}

const hex = (b: Uint8Array | null | undefined) => [...(b ?? [])].map((x) => x.toString(16).padStart(2, '0')).join('')

export class Admin {
  private readonly retry: RetryPolicy
  private readonly sleeper = new Sleeper()
  private readonly router: TopicRouter
  private readonly quorum: QuorumAdmin
  private readonly groups: GroupAdmin
  private readonly apiTimeoutMs: number
  private closed = false

  constructor(
    private readonly cluster: Cluster, private readonly requestTimeoutMs: number,
    options: { retry?: RetryOptions; apiTimeoutMs?: number } = {}, random: () => number = Math.random,
  ) {
    this.retry = new RetryPolicy(options.retry, random)
    this.apiTimeoutMs = options.apiTimeoutMs ?? API_TIMEOUT_MS_DEFAULT
    this.router = new TopicRouter(cluster, this.retry, this.sleeper, () => this.closed)
    this.quorum = new QuorumAdmin(cluster, this.retry, this.sleeper, () => this.closed, this.apiTimeoutMs, requestTimeoutMs)
    this.groups = new GroupAdmin(cluster, this.retry, this.sleeper, () => this.closed, this.apiTimeoutMs)
  }

  async createTopics(topics: readonly NewTopic[], options: { validateOnly?: boolean; timeoutMs?: number } = {}): Promise<TopicResult[]> {
    const response = await this.call('createTopics', {
      topics: topics.map((t) => ({ name: t.topic, partitions: t.partitions ?? 0, replicationFactor: t.replicationFactor ?? 0, configs: t.configs ?? {} })),
      validateOnly: options.validateOnly ?? false,
      timeoutMs: options.timeoutMs ?? this.requestTimeoutMs,
    })
    return topicResults(response.topics)
  }

  async deleteTopics(topics: readonly string[], options: { timeoutMs?: number } = {}): Promise<TopicResult[]> {
    const response = await this.call('deleteTopics', { names: [...topics], timeoutMs: options.timeoutMs ?? this.requestTimeoutMs })
    for (const t of topics) this.cluster.forgetTopic(t)
    return topicResults(response.topics)
  }

  /** Metadata of the named topics, or of every topic when none is named. */
  async describeTopics(topics: readonly string[] = []): Promise<TopicDescription[]> {
    const response = await this.call('metadata', { topics: [...topics] })
    this.cluster.metadata.update(response, this.cluster.now())
    return (response.topics ?? []).map((t) => {
      const partitions: PartitionInfo[] = (t.partitions ?? []).map((p) => ({
        partition: p.index ?? 0, leader: p.leaderId ?? -1, leaderEpoch: p.leaderEpoch ?? -1,
        replicas: p.replicas ?? [], inSyncReplicas: p.inSyncReplicas ?? [], error: errorFromWire(p.error),
        ...(p.addingReplicas?.length || p.removingReplicas?.length ? { addingReplicas: p.addingReplicas ?? [], removingReplicas: p.removingReplicas ?? [] } : {}),
      })).sort((a, b) => a.partition - b.partition)
      return { topic: t.name ?? '', topicId: hex(t.topicId), internal: t.internal ?? false, partitions, error: errorFromWire(t.error, `topic ${t.name}`) }
    })
  }

  /** Offsets of partitions of `topic` (all of them by default), from their leaders. */
  async listOffsets(topic: string, spec: OffsetSpec = 'latest', partitions?: readonly number[]): Promise<OffsetAnswer[]> {
    const deadline = Deadline.after(this.apiTimeoutMs, 'apiTimeoutMs', this.cluster.now())
    const count = await this.router.partitionCount(topic, deadline)
    const timestamp = spec === 'earliest' ? EARLIEST : spec === 'latest' ? LATEST : spec.timestamp
    const queries = (partitions ?? [...Array(count).keys()]).map((partition) => ({ topic, partition, timestamp }))
    return listOffsets(this.cluster, this.router, this.retry, this.sleeper, queries, deadline)
  }

  /**
   * Each partition of `topic` (all by default) as its leader knows it: epoch, HW, log start, its
   * ISR now, and each replica's log end, flushed offset and lag. A partition whose leader could
   * not be asked carries its error.
   */
  async describeReplicas(topic: string, partitions?: readonly number[]): Promise<PartitionReplicas[]> {
    const deadline = Deadline.after(this.apiTimeoutMs, 'apiTimeoutMs', this.cluster.now())
    const count = await this.router.partitionCount(topic, deadline)
    return describeReplicas(this.cluster, this.router, (partitions ?? [...Array(count).keys()]).map((partition) => ({ topic, partition })), deadline)
  }

  async describeConfigs(resources: ReadonlyArray<ConfigResource & { keys?: string[] }>): Promise<ConfigResult[]> {
    const response = await this.call('describeConfigs', {
      resources: resources.map((r) => ({ resource: { type: RESOURCE_TYPES[r.type], name: r.name }, keys: r.keys ?? [] })),
    })
    return (response.results ?? []).map((r) => ({
      resource: resourceOf(r.resource),
      error: errorFromWire(r.error, `configs of ${r.resource?.name}`),
      entries: (r.entries ?? []).map((e) => ({
        name: e.name ?? '', value: e.value ?? '', isDefault: e.isDefault ?? false, readOnly: e.readOnly ?? false, documentation: e.documentation ?? '',
      })),
    }))
  }

  /** Incremental: sets `set`, resets `reset` to defaults, leaves the rest. */
  async alterConfigs(
    changes: ReadonlyArray<ConfigResource & { set?: Record<string, string>; reset?: string[] }>,
    options: { validateOnly?: boolean } = {},
  ): Promise<Array<{ resource: ConfigResource; error: BitacoraError | null }>> {
    const response = await this.call('alterConfigs', {
      resources: changes.map((c) => ({ resource: { type: RESOURCE_TYPES[c.type], name: c.name }, set: c.set ?? {}, reset: c.reset ?? [] })),
      validateOnly: options.validateOnly ?? false,
    })
    return (response.results ?? []).map((r) => ({ resource: resourceOf(r.resource), error: errorFromWire(r.error, `alter configs of ${r.resource?.name}`) }))
  }

  /**
   * Hands partitions' leadership back to their preferred replicas (each partition's first), as
   * Kafka's preferred leader election: the named partitions of each topic given (all of a
   * topic's when it names none), or every partition of every topic when no topic is given. The
   * cluster also does this on its own once an imbalance has lasted a while
   * (--leader-rebalance-after-ms). Resolves with one result per partition.
   */
  async electPreferredLeaders(topics: ReadonlyArray<{ topic: string; partitions?: readonly number[] }> = [], options: { timeoutMs?: number } = {}): Promise<ElectionResult[]> {
    const response = await this.call('electLeaders', {
      topics: topics.map((t) => ({ name: t.topic, partitions: [...(t.partitions ?? [])] })), timeoutMs: options.timeoutMs ?? this.requestTimeoutMs,
    })
    return (response.results ?? []).map((r) => ({
      topic: r.topic ?? '', partition: r.partition ?? 0, error: errorFromWire(r.error, `preferred leader of ${r.topic}/${r.partition ?? 0}`),
    }))
  }

  /**
   * Moves partitions to new replicas (`replicas`, in preferred order), or cancels the move in
   * progress (`replicas: null`: back to the brokers it started on), as Kafka's
   * alterPartitionReassignments. Resolves with one result per partition once each move is
   * recorded; the move itself goes on in the cluster, one voter at a time: describeTopics shows
   * its addingReplicas / removingReplicas until it is over.
   */
  async alterPartitionReassignments(
    partitions: ReadonlyArray<{ topic: string; partition: number; replicas: readonly number[] | null }>, options: { timeoutMs?: number } = {},
  ): Promise<ReassignmentResult[]> {
    const byTopic = new Map<string, Array<{ partition: number; replicas: number[]; cancel: boolean }>>()
    for (const p of partitions) {
      const list = byTopic.get(p.topic) ?? []
      list.push({ partition: p.partition, replicas: [...(p.replicas ?? [])], cancel: p.replicas === null })
      byTopic.set(p.topic, list)
    }
    const response = await this.call('alterPartitionReassignments', {
      topics: [...byTopic].map(([name, list]) => ({ name, partitions: list })), timeoutMs: options.timeoutMs ?? this.requestTimeoutMs,
    })
    return (response.results ?? []).map((r) => ({
      topic: r.topic ?? '', partition: r.partition ?? 0, error: errorFromWire(r.error, `reassignment of ${r.topic}/${r.partition ?? 0}`),
    }))
  }

  /** The controller quorum: leader, epoch, high watermark, voters and observers with their lag, brokers. */
  describeQuorum(): Promise<QuorumDescription> {
    return this.quorum.describeQuorum()
  }

  /**
   * Makes node `nodeId`, listening at `url`, a controller voter once it has caught up (within
   * `timeoutMs`, default 60 s); resolves with the voter ids then in force.
   */
  addVoter(nodeId: number, url: string, options: { timeoutMs?: number } = {}): Promise<number[]> {
    return this.quorum.addVoter(nodeId, url, options)
  }

  /** Takes node `nodeId` out of the controller voters; resolves with the voter ids then in force. */
  removeVoter(nodeId: number): Promise<number[]> {
    return this.quorum.removeVoter(nodeId)
  }

  /** Every consumer group of the cluster (id, state, member count, assignor), sorted by id. */
  listGroups(): Promise<GroupListing[]> {
    return this.groups.listGroups()
  }

  /** Groups' members (client id, host, assignment) from their coordinators; an unknown group carries GROUP_ID_NOT_FOUND. */
  describeGroups(groupIds: readonly string[]): Promise<GroupDescription[]> {
    return this.groups.describeGroups(groupIds)
  }

  /** Deletes groups with their committed offsets; a group with members is refused (NON_EMPTY_GROUP). */
  deleteGroups(groupIds: readonly string[]): Promise<Array<{ groupId: string; error: BitacoraError | null }>> {
    return this.groups.deleteGroups(groupIds)
  }

  /** A group's committed offsets (of the partitions named, or all it has); offset -1: none committed. */
  fetchGroupOffsets(groupId: string, topics?: readonly TopicPartitions[]): Promise<CommittedOffset[]> {
    return this.groups.fetchOffsets(groupId, topics)
  }

  /**
   * Sets a group's committed offsets from outside the group, in one write (Kafka's
   * alterConsumerGroupOffsets): refused, with nothing written, while the group has members.
   */
  alterGroupOffsets(groupId: string, offsets: readonly OffsetToCommit[]): Promise<void> {
    return this.groups.commitOffsets(groupId, offsets)
  }

  close(): void {
    this.closed = true
    this.sleeper.wakeAll()
  }

  private call<K extends ApiName>(api: K, body: RequestBody<K>): Promise<ResponseBody<K>> {
    const deadline = Deadline.after(this.apiTimeoutMs, 'apiTimeoutMs', this.cluster.now())
    const loop = { now: () => this.cluster.now(), retry: this.retry, sleeper: this.sleeper, isClosed: () => this.closed }
    return retryUntil(loop, api, deadline, isRetriableError, () => this.attempt(api, body))
  }

  private async attempt<K extends ApiName>(api: K, body: RequestBody<K>): Promise<ResponseBody<K>> {
    if (!CONTROLLER_APIS.has(api)) return (await this.cluster.anyBroker()).request(api, body)
    // Straight to the active controller when metadata names one (any node would forward it).
    const controller = this.cluster.brokerById(this.cluster.metadata.controllerId)
    let refused: unknown
    try {
      const response = await (controller ?? (await this.cluster.anyBroker())).request(api, body)
      refused = notControllerError(response)
      if (refused === null) return response
    } catch (err) {
      if (!isErrorCode(err, 'NOT_CONTROLLER')) throw err
      refused = err
    }
    // Learn who the controller is now; the retry (call's back-off) goes there.
    await this.cluster.refreshMetadata().catch(() => undefined)
    throw refused
  }
}

/** Requests the active controller decides; a node that is not it may answer NOT_CONTROLLER. */
const CONTROLLER_APIS: ReadonlySet<ApiName> = new Set(['createTopics', 'deleteTopics', 'alterConfigs'])

/** A NOT_CONTROLLER answer (for the request, or for any of its topics or resources), or null. */
function notControllerError(response: object): BitacoraError | null {
  const items = [
    ...((response as { topics?: { error?: bitacora.IError | null }[] }).topics ?? []),
    ...((response as { results?: { error?: bitacora.IError | null }[] }).results ?? []),
  ]
  for (const item of items) {
    if (item.error?.code === bitacora.ErrorCode.NOT_CONTROLLER) return errorFromWire(item.error, 'the node asked is not the active controller')
  }
  return null
}

function topicResults(topics: bitacora.ITopicResult[] | null | undefined): TopicResult[] {
  return (topics ?? []).map((t) => ({ topic: t.name ?? '', topicId: hex(t.topicId), error: errorFromWire(t.error, `topic ${t.name}`) }))
}

function resourceOf(r: bitacora.IConfigResource | null | undefined): ConfigResource {
  return { type: r?.type === bitacora.ConfigResourceType.BROKER ? 'broker' : 'topic', name: r?.name ?? '' }
}
