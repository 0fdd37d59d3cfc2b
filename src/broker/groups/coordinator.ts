// The group coordinator: the shell around the pure core (core/). A group lives in the
// __consumer_offsets partition its id hashes to, and this broker coordinates it while it leads
// that partition. Each partition's requests run one at a time: the core's step on the group as
// the partition's state machine holds it (every committed record applied), then its records
// appended, committed (acks=all) and applied before the answer goes back, so the next request
// sees them and a coordinator failover loses nothing that was answered. Deadlines are this
// leadership's clock and start afresh on a new leader. Every batch is within the offsets topic's
// batch limit: a step that must be atomic and does not fit is refused whole; one that need not
// (DeleteGroups) and expiry go in several batches, appended in order with one wait for the commit.
import type { Codec } from '../../codec/index.js'
import type { MetadataImage, TopicImage } from '../../metadata/image.js'
import { ErrorCode, type ErrorName } from '../../protocol/index.js'
import type { Logger } from '../log.js'
import { ReplicaError } from '../partition/replica-error.js'
import type { ReplicaLookup } from '../partition/replica-manager.js'
import type { PartitionReplica } from '../partition/replica.js'
import type { StateMachineOptions } from '../partition/state-machine.js'
import { Serial } from '../../storage/index.js'
import type { GroupError } from './core/errors.js'
import { packInBatches } from './core/batches.js'
import { planExpiry, type ExpiryPlan } from './core/expire.js'
import type { Step } from './core/heartbeat.js'
import { groupIdProblem } from './core/offsets.js'
import type { GroupRecord } from './core/records.js'
import { emptyGroup, type GroupState, type MemberDeadlines } from './core/state.js'
import { GroupsMachine } from './groups-machine.js'
import {
  COORDINATOR_QUEUED_MAX, EXPIRY_CHECK_MS, GROUP_WRITE_TIMEOUT_MS, OFFSETS_TOPIC_CREATE_RETRY_MS, OFFSETS_TOPIC_PARTITIONS_DEFAULT,
} from './limits.js'
import { OFFSETS_TOPIC, offsetsPartitionFor, offsetsReplicationFactor } from './offsets-topic.js'
import { encodeGroupRecord } from './record-codec.js'

/** An error for the client, by Kafka's name. */
export interface CoordinatorError {
  readonly code: ErrorName
  readonly message: string
}

export type Outcome<R> = { readonly ok: R } | { readonly error: CoordinatorError }

export interface CoordinatorDeps {
  readonly brokerId: number
  readonly image: () => MetadataImage
  readonly replicas: Pick<ReplicaLookup, 'replica'>
  readonly codec: Codec
  readonly log: Logger
  /** Nodes of the cluster (controller voters, registered brokers: whichever are more): what the topic's replication factor may use. */
  readonly clusterNodes: () => number
  /** Creates __consumer_offsets through the controller; resolves with the error, or null. */
  readonly createOffsetsTopic: (partitions: number, replicationFactor: number) => Promise<CoordinatorError | null>
  readonly offsetsTopicPartitions?: number
  readonly offsetsTopicReplicationFactor?: number
  /**
   * The largest batch of group records (the produce path's limit for __consumer_offsets: its
   * max.message.bytes, else the broker's --max-batch-bytes, Kafka's message.max.bytes) and the
   * refusal naming what to raise. Within it a follower's fetch and a peer frame carry every batch.
   */
  readonly writeLimit: () => WriteLimit
  readonly now?: () => number
}

/** A batch limit and its refusal (api/topic-limits.ts batchLimit for __consumer_offsets). */
export interface WriteLimit {
  readonly bytesMax: number
  readonly refusal: (bytes: number) => string
}

/** Where a group is coordinated. */
export interface GroupHome {
  readonly topic: TopicImage
  readonly partition: number
}

interface PartitionShell {
  readonly queue: Serial
  /** The leader epoch the deadlines belong to. */
  epoch: number
  readonly deadlines: Map<string, ReadonlyMap<string, MemberDeadlines>>
  /** Groups whose expired members cannot be removed (even one is too large a write): logged once per leadership. */
  readonly unwritable: Set<string>
}

const err = (code: ErrorName, message: string): { error: CoordinatorError } => ({ error: { code, message } })

export class GroupCoordinator {
  private readonly machines = new Map<string, GroupsMachine>()
  private readonly shells = new Map<string, PartitionShell>()
  private creating = false
  private nextCreateMs = 0
  private timer: ReturnType<typeof setInterval> | null = null
  private readonly now: () => number

  constructor(private readonly deps: CoordinatorDeps) {
    this.now = deps.now ?? Date.now
  }

  /** The replica manager's hook: a replica of __consumer_offsets is a state-machine log of groups. */
  stateMachineFor(topic: TopicImage, partition: number): StateMachineOptions | undefined {
    if (topic.name !== OFFSETS_TOPIC) return undefined
    const machine = new GroupsMachine(this.deps.log)
    this.machines.set(`${topic.id}:${partition}`, machine)
    return { machine }
  }

  start(): void {
    this.timer ??= setInterval(() => void this.expireAll(), EXPIRY_CHECK_MS)
  }

  close(): void {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
  }

  /** The partition of the group (creating __consumer_offsets when first needed), or why there is none yet. */
  home(groupId: string): Outcome<GroupHome> {
    const bad = groupIdProblem(groupId)
    if (bad) return err(bad.code, bad.message)
    const topic = this.deps.image().topic(OFFSETS_TOPIC)
    if (!topic) return err('COORDINATOR_NOT_AVAILABLE', this.ensureOffsetsTopic())
    return { ok: { topic, partition: offsetsPartitionFor(groupId, topic.partitionStates.length) } }
  }

  /** The broker coordinating the group: this one's replica knows best, else the metadata image's reported leader. */
  coordinatorOf(groupId: string): Outcome<{ nodeId: number; url: string }> {
    const home = this.home(groupId)
    if ('error' in home) return home
    const { topic, partition } = home.ok
    const replica = this.deps.replicas.replica(topic.id, partition)
    const leader = replica?.leaderId ?? topic.partitionStates[partition].leader
    const url = leader === null || leader < 0 ? undefined : this.deps.image().brokers.find((b) => b.brokerId === leader)?.url
    if (leader === null || leader < 0 || url === undefined) return err('COORDINATOR_NOT_AVAILABLE', `partition ${partition} of ${OFFSETS_TOPIC} (group ${groupId}) has no leader yet; retry`)
    return { ok: { nodeId: leader, url } }
  }

  /** The groups this broker coordinates now. */
  *coordinated(): Generator<GroupState> {
    const topic = this.deps.image().topic(OFFSETS_TOPIC)
    if (!topic) return
    for (let p = 0; p < topic.partitionStates.length; p++) {
      const ready = this.ready(topic, p)
      if ('ok' in ready) yield* ready.ok.machine.all()
    }
  }

  /** Runs the core's read of a group on this coordinator (no records written). */
  async read<R>(groupId: string, read: (group: GroupState) => R): Promise<Outcome<R>> {
    return this.step(groupId, (group) => ({ group, records: [], response: read(group) }))
  }

  /**
   * Runs one core step on the group in its partition's turn: its records committed and applied
   * before it resolves. The step sees the group with this leadership's deadlines.
   */
  async step<R>(groupId: string, step: (group: GroupState, ctx: { nowMs: number; topics: ReadonlyMap<string, number> }) => Step<R>): Promise<Outcome<R>> {
    const home = this.home(groupId)
    if ('error' in home) return home
    const { topic, partition } = home.ok
    const ready = this.ready(topic, partition)
    if ('error' in ready) return ready
    const { replica, machine, shell } = ready.ok
    try {
      return await shell.queue.run(async () => {
        const still = this.ready(topic, partition)
        if ('error' in still) return still
        const group = { ...(machine.group(groupId) ?? emptyGroup(groupId)), deadlines: shell.deadlines.get(groupId) ?? new Map() }
        const s = step(group, { nowMs: this.now(), topics: this.topicCounts() })
        if (s.records.length > 0) await this.write(replica, machine, s.records, s.atomic !== false)
        shell.deadlines.set(groupId, s.group.deadlines)
        return { ok: s.response }
      })
    } catch (e) {
      return { error: this.failure(e) }
    }
  }

  /** This broker leads the partition, its epoch is committed and every committed record is in the groups; or why not. */
  private ready(topic: TopicImage, partition: number): Outcome<{ replica: PartitionReplica; machine: GroupsMachine; shell: PartitionShell }> {
    const replica = this.deps.replicas.replica(topic.id, partition)
    const machine = this.machines.get(`${topic.id}:${partition}`)
    if (!replica || !machine || !replica.isLeader) {
      const hint = replica?.leaderId ?? topic.partitionStates[partition]?.leader ?? -1
      return err('NOT_COORDINATOR', `broker ${this.deps.brokerId} does not lead partition ${partition} of ${OFFSETS_TOPIC}${hint !== null && hint >= 0 ? ` (broker ${hint} does)` : ''}: find the coordinator again`)
    }
    if (!replica.leaderReady || replica.appliedOffset < replica.highWatermark) {
      return err('COORDINATOR_LOAD_IN_PROGRESS', `broker ${this.deps.brokerId} just became the leader of partition ${partition} of ${OFFSETS_TOPIC} and is still loading its groups; retry`)
    }
    const key = `${topic.id}:${partition}`
    let shell = this.shells.get(key)
    if (!shell) {
      shell = { queue: new Serial(COORDINATOR_QUEUED_MAX, (max) => new ReplicaError(ErrorCode.COORDINATOR_NOT_AVAILABLE, `the coordinator has ${max} group requests waiting on this partition; retry`)), epoch: replica.leaderEpoch, deadlines: new Map(), unwritable: new Set() }
      this.shells.set(key, shell)
    }
    if (shell.epoch !== replica.leaderEpoch) {
      // A new leadership of this partition: every member gets a full session from now (expire.ts).
      shell.epoch = replica.leaderEpoch
      shell.deadlines.clear()
      shell.unwritable.clear()
    }
    return { ok: { replica, machine, shell } }
  }

  /**
   * Writes a step's records: atomic, as one batch; otherwise in as many batches as they need, in
   * order. Refused with RECORD_LIST_TOO_LARGE before anything is appended when the batch (or, not
   * atomic, one record) is over the limit.
   */
  private async write(replica: PartitionReplica, machine: GroupsMachine, records: readonly GroupRecord[], atomic: boolean): Promise<void> {
    const limit = this.deps.writeLimit()
    const encode = this.encoder()
    const units = atomic ? [records] : records.map((r) => [r])
    const packed = packInBatches(units, (batch) => encode(batch).length <= limit.bytesMax)
    if (packed.unfit !== null) {
      const unit = units[packed.unfit]
      const why = atomic ? `the request's ${unit.length} group records go in one write (all or nothing)` : 'one of the request\'s group records is a write of its own'
      throw new ReplicaError(ErrorCode.RECORD_LIST_TOO_LARGE, `nothing was written to ${OFFSETS_TOPIC}: ${why}, and ${limit.refusal(encode(unit).length)}`)
    }
    await this.append(replica, machine, packed.batches.map(encode))
  }

  /**
   * Appends the batches in order, then waits once: for the last to commit (the log keeps their
   * order: a failure leaves a prefix) and for the groups to hold them.
   */
  private async append(replica: PartitionReplica, machine: GroupsMachine, batches: readonly Uint8Array[]): Promise<void> {
    if (batches.length === 0) throw new Error('a group write of no batch')
    let end = 0
    for (const batch of batches) end = (await replica.appendValidated(batch)).nextOffset
    await replica.committed(end, GROUP_WRITE_TIMEOUT_MS)
    if (!(await machine.whenApplied(end, GROUP_WRITE_TIMEOUT_MS))) {
      throw new ReplicaError(ErrorCode.REQUEST_TIMED_OUT, `the group records committed below ${end} were not applied within ${GROUP_WRITE_TIMEOUT_MS} ms (the replica reopened?)`)
    }
  }

  /** Group records as one batch, each list encoded once: measuring a write and writing it share the bytes. */
  private encoder(): (records: readonly GroupRecord[]) => Uint8Array {
    const timestamp = this.now()
    const encoded = new WeakMap<readonly GroupRecord[], Uint8Array>()
    return (records) => {
      let batch = encoded.get(records)
      if (batch === undefined) {
        batch = this.deps.codec.encodeBatch(records.map((r) => ({ ...encodeGroupRecord(r), timestamp })))
        encoded.set(records, batch)
      }
      return batch
    }
  }

  private failure(e: unknown): CoordinatorError {
    if (e instanceof ReplicaError) {
      // The partition's leadership moved: the group's coordinator is elsewhere now.
      if (e.code === ErrorCode.NOT_LEADER_OR_FOLLOWER || e.code === ErrorCode.LEADER_NOT_AVAILABLE) return { code: 'NOT_COORDINATOR', message: `${e.message}: find the coordinator again` }
      if (e.code === ErrorCode.COORDINATOR_NOT_AVAILABLE) return { code: 'COORDINATOR_NOT_AVAILABLE', message: e.message }
      if (e.code === ErrorCode.RECORD_LIST_TOO_LARGE) return { code: 'RECORD_LIST_TOO_LARGE', message: e.message }
      return { code: e.code === ErrorCode.REQUEST_TIMED_OUT ? 'REQUEST_TIMED_OUT' : 'COORDINATOR_NOT_AVAILABLE', message: `the group's records did not commit: ${e.message}` }
    }
    this.deps.log.error('group coordinator step failed', { error: (e as Error).message })
    return { code: 'UNKNOWN_SERVER_ERROR', message: (e as Error).message }
  }

  private topicCounts(): Map<string, number> {
    return new Map(this.deps.image().topics.map((t) => [t.name, t.partitionStates.length]))
  }

  /** Starts creating __consumer_offsets if it may be created now; returns what to tell the client meanwhile. */
  private ensureOffsetsTopic(): string {
    const rf = offsetsReplicationFactor(this.deps.clusterNodes(), this.deps.offsetsTopicReplicationFactor)
    const up = this.deps.image().brokers.filter((b) => !b.fenced).length
    if (up < rf) return `${OFFSETS_TOPIC} is created at replication factor ${rf} once ${rf} brokers are up (${up} now); retry`
    if (!this.creating && this.now() >= this.nextCreateMs) {
      this.creating = true
      const partitions = this.deps.offsetsTopicPartitions ?? OFFSETS_TOPIC_PARTITIONS_DEFAULT
      this.deps.log.info('creating the consumer offsets topic', { topic: OFFSETS_TOPIC, partitions, replicationFactor: rf })
      void this.deps
        .createOffsetsTopic(partitions, rf)
        .then((e) => {
          if (e !== null && e.code !== 'TOPIC_ALREADY_EXISTS') throw new Error(`${e.code}: ${e.message}`)
        })
        .catch((e: unknown) => {
          this.nextCreateMs = this.now() + OFFSETS_TOPIC_CREATE_RETRY_MS
          this.deps.log.warn('creating the consumer offsets topic failed; trying again on the next group request', { error: (e as Error).message })
        })
        .finally(() => {
          this.creating = false
        })
    }
    return `${OFFSETS_TOPIC} is being created; retry`
  }

  /** Removes the members whose session or revocation timed out, in every group this broker coordinates. */
  private async expireAll(): Promise<void> {
    const topic = this.deps.image().topic(OFFSETS_TOPIC)
    if (!topic) return
    for (let p = 0; p < topic.partitionStates.length; p++) {
      const ready = this.ready(topic, p)
      if ('error' in ready) continue
      const { replica, machine, shell } = ready.ok
      if (shell.queue.size > 0) continue // busy: the next check comes soon
      await shell.queue
        .run(async () => {
          // Usually one group's member, in one batch; after a failover or a mass departure many at
          // once: still one batch while they fit, else as few as the limit allows (planExpiry).
          const limit = this.deps.writeLimit()
          const encode = this.encoder()
          const groups = [...machine.all()].filter((g) => g.members.size > 0).map((g) => ({ ...g, deadlines: shell.deadlines.get(g.groupId) ?? new Map() }))
          const plan = planExpiry(groups, this.now(), this.topicCounts(), (records) => encode(records).length <= limit.bytesMax)
          if (plan.batches.length > 0) await this.append(replica, machine, plan.batches.map(encode))
          for (const [groupId, deadlines] of plan.deadlines) shell.deadlines.set(groupId, deadlines)
          for (const r of plan.removed) this.deps.log.info('group member removed', { group: r.groupId, member: r.memberId, reason: r.reason })
          this.reportUnwritable(shell, plan, (records) => limit.refusal(encode(records).length))
        })
        .catch((e: unknown) => this.deps.log.warn('expiring group members failed; tried again shortly', { partition: p, error: (e as Error).message }))
    }
  }

  /**
   * Groups whose expired members cannot be removed keep them, and their partitions, until the
   * operator raises the limit: an error once per group and leadership (the check runs every
   * EXPIRY_CHECK_MS), again if it recurs after the group was unstuck.
   */
  private reportUnwritable(shell: PartitionShell, plan: ExpiryPlan, refusal: (records: readonly GroupRecord[]) => string): void {
    const now = new Set(plan.unwritable.map((u) => u.groupId))
    for (const groupId of shell.unwritable) if (!now.has(groupId)) shell.unwritable.delete(groupId)
    for (const u of plan.unwritable) {
      if (shell.unwritable.has(u.groupId)) continue
      shell.unwritable.add(u.groupId)
      this.deps.log.error('expired members of a group cannot be removed: removing even one is a batch too large; they keep their partitions until the limit is raised', {
        group: u.groupId, expired: u.expired, error: refusal(u.records),
      })
    }
  }
}

/** A wire error from a core or coordinator error. */
export function wireGroupError(e: GroupError | CoordinatorError): { code: ErrorCode; message: string } {
  return { code: ErrorCode[e.code as ErrorName] ?? ErrorCode.UNKNOWN_SERVER_ERROR, message: e.message }
}
