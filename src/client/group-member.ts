// A consumer's membership in a group (KIP-848, the server-driven protocol): it heartbeats its
// subscription to the group's coordinator and applies the assignment each answer carries —
// partitions it must give up are taken out of the consumer, their positions committed
// (auto-commit), onRevoked called, and only then reported released; new ones get their
// committed offsets, then onAssigned. So a partition is never consumed by two members: the
// coordinator gives it to another only after this one reported it released. A member that
// learns it was fenced or removed, or that could not heartbeat for its whole session, drops
// every partition (onRevoked) and joins again.
import { ErrorCode, type bitacora } from '../protocol/index.js'
import type { Broker } from './broker.js'
import type { Cluster } from './cluster.js'
import { BitacoraError, ClientError, errorFromWire, isRetriableError } from './errors.js'
import { AUTO_COMMIT_INTERVAL_MS_DEFAULT, GROUP_RETRY_MS_MAX, GROUP_RETRY_MS_MIN, REBALANCE_TIMEOUT_MS_DEFAULT, SESSION_TIMEOUT_MS_DEFAULT, intOption } from './limits.js'
import { timerClock, type Clock } from './heartbeat-clock.js'
import { Sleeper } from './sleep.js'

export interface TopicPartitionRef {
  topic: string
  partition: number
}

/** A subscription: topic names, or an RE2 pattern matched against whole topic names on the broker. */
export type Subscription = readonly string[] | { pattern: string }

export interface GroupOptions {
  groupId: string
  /** Shown by describe (default 'bitacora-js'). */
  clientId?: string
  /** Static membership: a restarted member with the same id takes its place without a reassignment. */
  instanceId?: string
  /** Default 45 s (Kafka's) in Node, 90 s in the browser bundle (background tabs run timers about once a minute). */
  sessionTimeoutMs?: number
  rebalanceTimeoutMs?: number
  serverAssignor?: 'uniform' | 'range'
  /** Commit positions every autoCommitIntervalMs and on every revocation. Default true. */
  autoCommit?: boolean
  autoCommitIntervalMs?: number
  /** Called once partitions are this member's (their committed positions set), before any of their records. */
  onAssigned?: (partitions: TopicPartitionRef[]) => void | Promise<void>
  /** Called once partitions are no longer consumed here, before the coordinator hears they are released. */
  onRevoked?: (partitions: TopicPartitionRef[]) => void | Promise<void>
}

/**
 * What the platform decides for a member: the session timeout when the application gives none,
 * and the clock it waits on between heartbeats (the browser entry: a Worker, and more than 60 s).
 */
export interface GroupPlatform {
  sessionTimeoutMsDefault: number
  clock: () => Clock
}

export const NODE_GROUP_PLATFORM: GroupPlatform = { sessionTimeoutMsDefault: SESSION_TIMEOUT_MS_DEFAULT, clock: () => timerClock }

/** What the member needs of its consumer. */
export interface MemberHost {
  assign(partitions: readonly TopicPartitionRef[]): void
  seek(topic: string, partition: number, offset: number): void
  position(topic: string, partition: number): number | undefined
}

const key = (tp: TopicPartitionRef) => `${tp.partition}:${tp.topic}`
/** The member lost its partitions: it drops them and joins again. */
const RESTART_CODES = new Set<string>(['FENCED_MEMBER_EPOCH', 'UNKNOWN_MEMBER_ID'])
/** The coordinator moved, or is not there yet: find it again after a back-off. */
const REDISCOVER_CODES = new Set<string>(['NOT_COORDINATOR', 'COORDINATOR_NOT_AVAILABLE', 'COORDINATOR_LOAD_IN_PROGRESS'])

/** A version 4 UUID (crypto.randomUUID needs a secure context in browsers; getRandomValues does not). */
export function memberUuid(): string {
  const b = crypto.getRandomValues(new Uint8Array(16))
  b[6] = (b[6] & 0x0f) | 0x40
  b[8] = (b[8] & 0x3f) | 0x80
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

export class GroupMember {
  readonly memberId = memberUuid()
  private epoch = 0
  private readonly owned = new Map<string, TopicPartitionRef>()
  private coordinator: Broker | null = null
  private readonly clock: Clock
  private readonly sleeper: Sleeper
  private closed = false
  private running: Promise<void> | null = null
  private lastHeardMs: number
  private nextAutoCommitMs: number
  private failures = 0
  private subscriptionSent = false
  /** A failure no retry mends (an invalid pattern, say): the consumer's iterator throws it. */
  fatal: Error | null = null
  readonly sessionTimeoutMs: number
  private readonly rebalanceTimeoutMs: number
  private readonly autoCommitIntervalMs: number

  constructor(
    private readonly cluster: Cluster,
    private readonly host: MemberHost,
    private readonly options: GroupOptions,
    private subscription: Subscription,
    private readonly clientId: string,
    platform: GroupPlatform = NODE_GROUP_PLATFORM,
  ) {
    if (typeof options.groupId !== 'string' || options.groupId.length === 0) throw new ClientError('INVALID_ARGUMENT', 'a group consumer needs a groupId')
    this.sessionTimeoutMs = intOption('sessionTimeoutMs', options.sessionTimeoutMs, platform.sessionTimeoutMsDefault, 1)
    this.rebalanceTimeoutMs = intOption('rebalanceTimeoutMs', options.rebalanceTimeoutMs, REBALANCE_TIMEOUT_MS_DEFAULT, 1)
    this.autoCommitIntervalMs = intOption('autoCommitIntervalMs', options.autoCommitIntervalMs, AUTO_COMMIT_INTERVAL_MS_DEFAULT, 1)
    this.lastHeardMs = cluster.now()
    this.nextAutoCommitMs = cluster.now() + this.autoCommitIntervalMs
    this.clock = platform.clock()
    this.sleeper = new Sleeper(this.clock)
  }

  /** The partitions this member consumes now. */
  assignment(): TopicPartitionRef[] {
    return [...this.owned.values()]
  }

  get memberEpoch(): number {
    return this.epoch
  }

  start(): void {
    this.running ??= this.loop()
  }

  /** A new subscription, sent with the next heartbeat (sent at once). */
  resubscribe(subscription: Subscription): void {
    this.subscription = subscription
    this.subscriptionSent = false
    this.sleeper.wakeAll()
  }

  /** Commits the positions of the owned partitions (or the offsets given); throws the first partition's error. */
  async commit(offsets?: readonly (TopicPartitionRef & { offset: number; metadata?: string })[]): Promise<void> {
    const wanted = offsets ?? this.positions([...this.owned.values()])
    if (wanted.length === 0) return
    const topics = new Map<string, bitacora.OffsetCommitRequest.IPartition[]>()
    for (const o of wanted) topics.set(o.topic, [...(topics.get(o.topic) ?? []), { index: o.partition, offset: o.offset, leaderEpoch: -1, metadata: 'metadata' in o ? (o.metadata ?? '') : '' }])
    const coordinator = await this.findCoordinator()
    const r = await coordinator.request('offsetCommit', {
      groupId: this.options.groupId, memberId: this.memberId, memberEpoch: this.epoch, topics: [...topics].map(([name, partitions]) => ({ name, partitions })),
    })
    const error = errorFromWire(r.error, `commit of group ${this.options.groupId}`) ?? (r.topics ?? []).flatMap((t) => (t.partitions ?? []).map((p) => errorFromWire(p.error, `commit of ${t.name}/${p.index}`))).find((e) => e !== null)
    if (error) {
      if (REDISCOVER_CODES.has(error.code)) this.coordinator = null
      throw error
    }
  }

  /** Leaves the group: gives up every partition (committing first with auto-commit), then tells the coordinator. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.sleeper.wakeAll()
    await this.running?.catch(() => undefined)
    try {
      if (this.epoch <= 0) return
      // Commits only with auto-commit: with it off, the application commits what it chose to.
      await this.revoke([...this.owned.values()], this.options.autoCommit !== false).catch(() => undefined)
      await this.heartbeatOnce(this.options.instanceId !== undefined ? -2 : -1).catch(() => undefined)
    } finally {
      this.clock.close()
    }
  }

  private positions(partitions: readonly TopicPartitionRef[]): (TopicPartitionRef & { offset: number })[] {
    return partitions.flatMap((tp) => {
      const offset = this.host.position(tp.topic, tp.partition)
      return offset === undefined ? [] : [{ ...tp, offset }]
    })
  }

  private async loop(): Promise<void> {
    while (!this.closed) {
      let waitMs: number
      try {
        if (this.cluster.now() - this.lastHeardMs > this.sessionTimeoutMs && this.owned.size > 0) {
          // Not heard by the coordinator for a whole session: it has given these away.
          await this.lose()
        }
        waitMs = await this.heartbeatAndReconcile()
        this.failures = 0
        if (this.options.autoCommit !== false && this.cluster.now() >= this.nextAutoCommitMs) {
          this.nextAutoCommitMs = this.cluster.now() + this.autoCommitIntervalMs
          await this.commit().catch(() => undefined) // the next interval tries again
        }
      } catch (err) {
        if (this.closed) return
        if (!isRetriableError(err) && !(err instanceof BitacoraError && (REDISCOVER_CODES.has(err.code) || RESTART_CODES.has(err.code)))) {
          this.fatal = err as Error
          return
        }
        this.coordinator = null
        waitMs = Math.min(GROUP_RETRY_MS_MAX, GROUP_RETRY_MS_MIN * 2 ** Math.min(this.failures++, 10))
      }
      if (waitMs > 0) await this.sleeper.sleep(waitMs)
    }
  }

  /** One heartbeat and what its answer asks; resolves with how long to wait before the next. */
  private async heartbeatAndReconcile(): Promise<number> {
    const r = await this.heartbeatOnce(this.epoch)
    const error = errorFromWire(r.error, `group ${this.options.groupId}`)
    if (error) {
      if (RESTART_CODES.has(error.code)) {
        await this.lose()
        return 0
      }
      throw error
    }
    this.lastHeardMs = this.cluster.now()
    this.epoch = r.memberEpoch ?? 0
    this.subscriptionSent = true
    const target = new Map<string, TopicPartitionRef>()
    for (const e of r.assignment ?? []) for (const partition of e.partitions ?? []) target.set(key({ topic: e.topic ?? '', partition }), { topic: e.topic ?? '', partition })
    const revoked = [...this.owned.values()].filter((tp) => !target.has(key(tp)))
    const added = [...target.values()].filter((tp) => !this.owned.has(key(tp)))
    if (revoked.length > 0) await this.revoke(revoked, this.options.autoCommit !== false)
    if (added.length > 0) await this.add(added)
    // A change is reported at once (the coordinator waits for it to hand partitions on).
    return revoked.length > 0 || added.length > 0 ? 0 : (r.heartbeatIntervalMs ?? 0)
  }

  private heartbeatOnce(memberEpoch: number): Promise<bitacora.IConsumerGroupHeartbeatResponse> {
    const sendSubscription = memberEpoch === 0 || !this.subscriptionSent
    const sub = this.subscription
    const owned = new Map<string, number[]>()
    for (const tp of this.owned.values()) owned.set(tp.topic, [...(owned.get(tp.topic) ?? []), tp.partition])
    return this.findCoordinator().then((c) =>
      c.request('consumerGroupHeartbeat', {
        groupId: this.options.groupId,
        memberId: this.memberId,
        memberEpoch,
        instanceId: this.options.instanceId,
        sessionTimeoutMs: this.sessionTimeoutMs,
        rebalanceTimeoutMs: this.rebalanceTimeoutMs,
        serverAssignor: this.options.serverAssignor,
        subscription: sendSubscription ? (Array.isArray(sub) ? { topicNames: [...sub] } : { topicRegex: (sub as { pattern: string }).pattern }) : undefined,
        owned: { topics: [...owned].map(([topic, partitions]) => ({ topic, partitions })) },
        clientId: this.clientId,
      }),
    )
  }

  private async findCoordinator(): Promise<Broker> {
    if (this.coordinator) return this.coordinator
    const any = await this.cluster.anyBroker()
    const r = await any.request('findCoordinator', { groupIds: [this.options.groupId] })
    const c = r.coordinators?.[0]
    const error = errorFromWire(c?.error, `finding the coordinator of group ${this.options.groupId}`)
    if (error) throw error
    if (!c?.url) throw new BitacoraError(ErrorCode.COORDINATOR_NOT_AVAILABLE, `no coordinator for group ${this.options.groupId} yet`)
    this.coordinator = this.cluster.brokerAt(c.url)
    return this.coordinator
  }

  /** Stops consuming `partitions` (positions committed first when asked), then tells the application. */
  private async revoke(partitions: readonly TopicPartitionRef[], commit: boolean): Promise<void> {
    const positions = this.positions(partitions)
    for (const tp of partitions) this.owned.delete(key(tp))
    this.host.assign([...this.owned.values()])
    if (commit && positions.length > 0) await this.commit(positions).catch(() => undefined)
    await this.options.onRevoked?.(partitions.map((tp) => ({ ...tp })))
  }

  private async add(partitions: readonly TopicPartitionRef[]): Promise<void> {
    const committed = await this.committedOffsets(partitions)
    for (const tp of partitions) this.owned.set(key(tp), tp)
    this.host.assign([...this.owned.values()])
    for (const tp of partitions) {
      const offset = committed.get(key(tp))
      if (offset !== undefined && offset >= 0) this.host.seek(tp.topic, tp.partition, offset)
    }
    await this.options.onAssigned?.(partitions.map((tp) => ({ ...tp })))
  }

  /** The partitions were given away without this member's say (fenced, removed, or silent past its session). */
  private async lose(): Promise<void> {
    await this.revoke([...this.owned.values()], false)
    this.epoch = 0
    this.subscriptionSent = false
  }

  private async committedOffsets(partitions: readonly TopicPartitionRef[]): Promise<Map<string, number>> {
    const topics = new Map<string, number[]>()
    for (const tp of partitions) topics.set(tp.topic, [...(topics.get(tp.topic) ?? []), tp.partition])
    const coordinator = await this.findCoordinator()
    const r = await coordinator.request('offsetFetch', { groupId: this.options.groupId, topics: [...topics].map(([name, ps]) => ({ name, partitions: ps })) })
    const error = errorFromWire(r.error, `fetching the committed offsets of group ${this.options.groupId}`)
    if (error) throw error
    const out = new Map<string, number>()
    for (const t of r.topics ?? []) for (const p of t.partitions ?? []) out.set(key({ topic: t.name ?? '', partition: p.index ?? 0 }), Number(p.offset ?? -1))
    return out
  }
}
