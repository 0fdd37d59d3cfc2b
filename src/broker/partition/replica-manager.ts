// The broker's partition replicas, keyed by topic id: it holds exactly the partitions the
// metadata image assigns to this broker, reconciling with each new image (Kafka's replica
// manager as a metadata publisher) — opening the new ones, closing and deleting those whose
// topic was removed or that are no longer assigned here — one reconciliation at a time, the
// newest image winning when several arrive meanwhile. A topic deleted and re-created under the
// same name has a new id, so its partitions never meet the old ones' data. It ticks the
// replicas' Raft cores on one timer and cleans their logs on another. It carries the broker's
// fence (controller/node/lifecycle.ts) to every data replica, those opened later included: a fenced
// broker leads no data partition and campaigns for none (the metadata log is not here, and is
// never fenced).
import { join } from 'node:path'
import { loadCodec } from '../../codec/index.js'
import { MetadataImage, type MetadataChanges, type PartitionImage, type TopicImage } from '../../metadata/image.js'
import type { Message, NodeId } from '../../raft/types.js'
import { NodeFileLayer, Serial, type FileLayer } from '../../storage/index.js'
import type { Logger } from '../log.js'
import { OPEN_FILES_HEADROOM, PARTITION_OPENS_IN_PARALLEL_MAX, PREFERRED_CAMPAIGN_EVERY_MS, PREFERRED_CAMPAIGN_MS } from './limits.js'
import { logConfigOf } from './log-config.js'
import { ownOpenFilesLimit } from './open-files.js'
import { finishInterruptedDeletes, migrateLegacyDirs, partitionDir, removePartitionDir } from './partition-dir.js'
import { raftTicks } from './raft-timing.js'
import { QuorumStateStore } from './quorum-state-store.js'
import { PartitionReplica } from './replica.js'
import type { StateMachineOptions } from './state-machine.js'

/** A partition directory of the topic-id layout: `<topic id>-<partition>`. */
const PARTITION_DIR = /^([0-9a-f]{32})-(\d+)$/

/** What request handlers need of the replicas: the one for a partition, if this broker holds it. */
export interface PartitionLookup {
  partition(topic: string, index: number): PartitionReplica | undefined
}

/** ... and by topic id (a name may have been re-created since the caller looked). */
export interface ReplicaLookup extends PartitionLookup {
  replica(topicId: string, partition: number): PartitionReplica | undefined
}

/** A new committed image to reconcile with (the metadata node's ImageUpdate). */
export interface ImageToReconcile {
  readonly image: MetadataImage
  /** What changed since the previous image; null: anything may have (diff the whole image). */
  readonly changes: MetadataChanges | null
}

/** A data partition this broker leads, in a leader epoch (what it reports to the controller). */
export interface LedPartition {
  readonly topicId: string
  readonly partition: number
  readonly leaderEpoch: number
  /** Its in-sync replicas as the leader sees them (partition/isr.ts); absent: not said. */
  readonly isr?: readonly number[]
}

/** A partition that failed to open or to be deleted in a reconciliation. */
export interface ReconcileFailure {
  readonly topicId: string
  readonly partition: number
  readonly error: Error
}

/** Images waiting to be reconciled, folded into one: the newest image, and every topic touched since. */
interface PendingImage {
  image: MetadataImage
  /** Null: diff every topic. */
  touched: Set<string> | null
}

export class ReplicaManager implements ReplicaLookup {
  /** Hosted replicas by topic id, in partition order (what the tick loop and the cleaner walk). */
  private readonly replicas = new Map<string, PartitionReplica[]>()
  /** The same replicas by topic id and partition. */
  private readonly byTopic = new Map<string, Map<number, PartitionReplica>>()
  private timer: ReturnType<typeof setInterval> | null = null
  private cleanerTimer: ReturnType<typeof setInterval> | null = null
  private cleaning = false
  /** The newest image handed in (names resolve through it: a re-created name never finds the old topic). */
  private latest: MetadataImage = MetadataImage.EMPTY
  private pending: PendingImage | null = null
  /** Topics a reconciliation failed on: tried again with the next image. */
  private failedTopicIds = new Set<string>()
  private readonly reconciling = new Serial(Infinity) // at most one queued: pending images fold into one
  private closed = false
  private fenced = false
  private readonly leaderListeners = new Set<(led: LedPartition) => void>()
  /** New partitions whose preferred replica this broker holds, campaigning until a leader is known: each with the ticks it has left. */
  private readonly campaigning = new Map<PartitionReplica, { ticksLeft: number }>()
  /** The process's open-file limit (null: unknown or unlimited), and whether the manager warned that it is too low. */
  private readonly openFilesLimit = ownOpenFilesLimit()
  private warnedOpenFiles = false
  /** Every replica's quorum state, written as one group commit (null until prepare(): each replica then keeps its own file). */
  private quorumStates: QuorumStateStore | null = null
  /** Which partitions are state-machine logs, and of what (the consumer groups' __consumer_offsets); unset: none. */
  private stateMachines: ((topic: TopicImage, partition: number) => StateMachineOptions | undefined) | null = null

  constructor(
    private readonly dataDir: string,
    private readonly nodeId: NodeId,
    private readonly tickMs: number,
    private readonly logCleanupIntervalMs: number,
    private readonly log: Logger,
    private readonly fs: FileLayer = new NodeFileLayer(),
    /** Where a data partition's Raft messages to other brokers go (the peer transport). */
    private readonly send: (topicId: string, partition: number, m: Message) => void = () => undefined,
    /** This broker's data directory id (meta.properties): its replicas are voters as (broker id, directory id), KIP-853. */
    private readonly directoryId?: string,
    /** Idempotent producers idle this long are forgotten (producer.id.expiration.ms; default: the replica's). */
    private readonly producerIdExpirationMs?: number,
  ) {}

  /** Sets which partitions opened from now on are state-machine logs (call before the first reconcile). */
  setStateMachines(of: (topic: TopicImage, partition: number) => StateMachineOptions | undefined): void {
    this.stateMachines = of
  }

  start(): void {
    let ticks = 0
    const campaignEvery = Math.max(1, Math.round(PREFERRED_CAMPAIGN_EVERY_MS / this.tickMs))
    this.timer ??= setInterval(() => {
      for (const list of this.replicas.values()) for (const r of list) void r.tick()
      if (++ticks % campaignEvery === 0) this.campaignAgain(campaignEvery)
    }, this.tickMs)
    this.cleanerTimer ??= setInterval(() => void this.cleanLogs(), this.logCleanupIntervalMs)
  }

  /** The new partitions' preferred replicas campaign again while they know no leader (limits.ts says why). */
  private campaignAgain(ticksSince: number): void {
    for (const [r, c] of this.campaigning) {
      c.ticksLeft -= ticksSince
      const done = r.leaderId !== null || r.leaderEpoch > 0 || c.ticksLeft < 0 || !r.online
      if (done) this.campaigning.delete(r)
      else void r.campaign()
    }
  }

  /** One cleaner pass over every replica (a pass already running is not doubled). */
  private async cleanLogs(): Promise<void> {
    if (this.cleaning) return
    this.cleaning = true
    try {
      await cleanLogs(this.replicas, this.log)
    } finally {
      this.cleaning = false
    }
  }

  partition(topic: string, index: number): PartitionReplica | undefined {
    const id = this.latest.topic(topic)?.id
    return id === undefined ? undefined : this.replica(id, index)
  }

  /** The replica of (topic id, partition), if this broker holds it (the Raft router's lookup). */
  replica(topicId: string, partition: number): PartitionReplica | undefined {
    return this.byTopic.get(topicId)?.get(partition)
  }

  /**
   * Fences (the broker's lease ran out, or the controller says so) or unfences every data
   * replica of this broker: a fenced leader resigns (EndQuorumEpoch), and no replica campaigns
   * until unfenced. Replicas opened meanwhile open as the switch stands.
   */
  setFenced(fenced: boolean): void {
    if (this.fenced === fenced) return
    this.fenced = fenced
    for (const list of this.replicas.values()) for (const r of list) void r.setFenced(fenced)
  }

  /** fsyncs this broker's file layer issued since it started (undefined: the layer does not count them). */
  get fsyncCount(): number | undefined {
    return this.fs.fsyncCount
  }

  /**
   * How the data partitions' logs opened: from a clean-shutdown marker (no scan) or by recovery,
   * and the bytes recovery validated, trusted below a recovery point, or cut (the broker's
   * "broker started" line; perf/restart.ts).
   */
  openedLogs(): { partitions: number; cleanShutdown: number; scannedBytes: number; trustedBytes: number; truncatedBytes: number } {
    const summary = { partitions: 0, cleanShutdown: 0, scannedBytes: 0, trustedBytes: 0, truncatedBytes: 0 }
    for (const list of this.replicas.values()) {
      for (const r of list) {
        const report = r.log.recovery
        summary.partitions++
        if (report.cleanShutdown) summary.cleanShutdown++
        summary.scannedBytes += report.scannedBytes
        summary.trustedBytes += report.trustedBytes
        summary.truncatedBytes += report.truncatedBytes
      }
    }
    return summary
  }

  /** Writes of the shared quorum-state file since it opened (two fsyncs each). */
  get quorumStateWrites(): number {
    return this.quorumStates?.batches ?? 0
  }

  /** Calls `listener` each time a replica of this broker becomes leader (of a new epoch). */
  onLeader(listener: (led: LedPartition) => void): () => void {
    this.leaderListeners.add(listener)
    return () => this.leaderListeners.delete(listener)
  }

  /** The partitions this broker leads now. */
  *led(): Iterable<LedPartition> {
    for (const [topicId, held] of this.byTopic) {
      for (const [partition, r] of held) if (r.isLeader) yield { topicId, partition, leaderEpoch: r.leaderEpoch }
    }
  }

  /** The peer link to `node` closed: each replica it leads may elect a successor early (PartitionReplica.leaderUnreachable). */
  leaderUnreachable(node: NodeId): void {
    for (const list of this.replicas.values()) for (const r of list) if (r.leaderId === node) void r.leaderUnreachable(node)
  }

  /**
   * Finishes deletions a crash interrupted and opens the replicas' shared quorum-state store;
   * call once, before the first reconciliation.
   */
  async prepare(): Promise<void> {
    await finishInterruptedDeletes(this.fs, this.dataDir)
    const codec = await loadCodec()
    this.quorumStates = QuorumStateStore.open(this.fs, this.dataDir, (b) => codec.crc32c(b))
  }

  /**
   * Reconciles with `update` after any reconciliation under way (images arriving meanwhile fold
   * into one). Resolves with the partitions that failed (logged too; retried with the next image).
   */
  reconcile(update: ImageToReconcile): Promise<ReconcileFailure[]> {
    this.latest = update.image
    const queued = this.pending !== null
    const touched = update.changes === null ? null : new Set([...update.changes.changedTopicIds, ...update.changes.removedTopics.map((t) => t.id)])
    if (this.pending === null) this.pending = { image: update.image, touched }
    else {
      this.pending.image = update.image
      if (touched === null || this.pending.touched === null) this.pending.touched = null
      else for (const id of touched) this.pending.touched.add(id)
    }
    if (queued) return this.reconciling.idle().then(() => [])
    return this.reconciling.run(() => this.reconcilePending())
  }

  /** Resolves once every image handed in so far is reconciled. */
  reconciled(): Promise<void> {
    return this.reconciling.idle()
  }

  /**
   * Deletes partition directories of the topic-id layout that the image does not assign to this
   * broker: topics removed while it was away. Only once the image is caught up with the metadata
   * log (else a topic created since its last snapshot would look like a stray).
   */
  removeStrays(): Promise<void> {
    return this.reconciling.run(async () => {
      if (this.closed) return
      for (const name of this.fs.list(this.dataDir)) {
        const m = PARTITION_DIR.exec(name)
        if (m === null || this.replica(m[1], Number(m[2])) !== undefined || this.assignedHere(this.latest.topicById(m[1]), Number(m[2]))) continue
        this.log.info('removing a stray partition directory: its topic no longer exists or it is not assigned here', { dir: name })
        await removePartitionDir(this.fs, join(this.dataDir, name))
      }
    })
  }

  async closeAll(): Promise<void> {
    this.closed = true
    if (this.timer) clearInterval(this.timer)
    if (this.cleanerTimer) clearInterval(this.cleanerTimer)
    this.timer = this.cleanerTimer = null
    await this.reconciling.idle()
    await Promise.all([...this.replicas.values()].flat().map((r) => r.close()))
    this.byTopic.clear()
    this.replicas.clear()
    this.campaigning.clear()
  }

  // ---------------------------------------------------------------- reconciling

  private async reconcilePending(): Promise<ReconcileFailure[]> {
    const p = this.pending
    this.pending = null
    if (p === null || this.closed) return []
    const failures: ReconcileFailure[] = []
    const topicIds = p.touched ?? new Set([...p.image.topics.map((t) => t.id), ...this.replicas.keys()])
    for (const id of this.failedTopicIds) topicIds.add(id)
    for (const id of topicIds) await this.reconcileTopic(id, p.image.topicById(id), failures)
    this.failedTopicIds = new Set(failures.map((f) => f.topicId))
    this.checkOpenFilesLimit()
    for (const f of failures) {
      this.log.error('partition replica not reconciled with the metadata image; retried with the next image', { topicId: f.topicId, partition: f.partition, error: f.error.message })
    }
    return failures
  }

  /** Warns once when the partitions held need more descriptors (one each, plus headroom) than the process may open. */
  private checkOpenFilesLimit(): void {
    if (this.openFilesLimit === null || this.warnedOpenFiles) return
    let held = 0
    for (const list of this.replicas.values()) held += list.length
    if (held + OPEN_FILES_HEADROOM <= this.openFilesLimit) return
    this.warnedOpenFiles = true
    this.log.warn('the open-file limit is too low for the partitions this broker holds: raise ulimit -n, or partitions will fail to open (EMFILE)', {
      partitions: held, openFilesLimit: this.openFilesLimit, needs: held + OPEN_FILES_HEADROOM,
    })
  }

  /** Makes the replicas held of topic `id` those `topic` (undefined: removed) assigns here. */
  private async reconcileTopic(id: string, topic: TopicImage | undefined, failures: ReconcileFailure[]): Promise<void> {
    const held = this.byTopic.get(id) ?? new Map<number, PartitionReplica>()
    try {
      for (const [p, r] of [...held]) {
        if (this.assignedHere(topic, p)) continue
        held.delete(p)
        this.campaigning.delete(r)
        try {
          await r.close()
          await removePartitionDir(this.fs, partitionDir(this.dataDir, id, p))
        } catch (err) {
          failures.push({ topicId: id, partition: p, error: err as Error })
        }
      }
      if (topic === undefined) return
      const toOpen = Array.from({ length: topic.partitions }, (_, p) => p).filter((p) => this.assignedHere(topic, p) && !held.has(p))
      if (toOpen.length === 0) return
      try {
        await migrateLegacyDirs(this.fs, this.dataDir, topic)
      } catch (err) {
        for (const p of toOpen) failures.push({ topicId: id, partition: p, error: err as Error })
        return
      }
      // Several at once: each open waits on a few fsyncs (directory, voter set), which share the
      // disk; one at a time, a topic of 1,000 partitions took over 20 s to open (issue 18).
      await inParallel(toOpen, PARTITION_OPENS_IN_PARALLEL_MAX, async (p) => {
        try {
          const r = await this.open(topic, p)
          held.set(p, r)
          // Held at once, not when the whole topic is open: the fence switch and the tick loop
          // must reach it meanwhile (a replica opened fenced missed an unfencing for good). In
          // partition order again once all are open (finally): sorting each time cost 0.4 s of CPU per 1,000.
          this.byTopic.set(id, held)
          const list = this.replicas.get(id)
          if (list === undefined) this.replicas.set(id, [r])
          else list.push(r)
        } catch (err) {
          failures.push({ topicId: id, partition: p, error: err as Error })
        }
      })
    } finally {
      this.setHeld(id, held)
    }
  }

  /** Records the replicas held of a topic (in partition order for the tick loop and the cleaner). */
  private setHeld(topicId: string, held: Map<number, PartitionReplica>): void {
    if (held.size === 0) {
      this.byTopic.delete(topicId)
      this.replicas.delete(topicId)
      return
    }
    this.byTopic.set(topicId, held)
    this.replicas.set(topicId, [...held].sort(([a], [b]) => a - b).map(([, r]) => r))
  }

  private assignedHere(topic: TopicImage | undefined, partition: number): boolean {
    return topic?.partitionStates[partition]?.replicas.includes(this.nodeId) ?? false
  }

  private async open(topic: TopicImage, partition: number): Promise<PartitionReplica> {
    const fenced = this.fenced
    const replica = await PartitionReplica.open({
      dir: partitionDir(this.dataDir, topic.id, partition),
      nodeId: this.nodeId,
      directoryId: this.directoryId,
      voters: initialVoters(topic.partitionStates[partition]),
      logConfig: logConfigOf(topic.configs),
      // Real-network timeouts (limits.ts, RAFT_TIMING.partition); a lone voter elects itself on opening.
      ...raftTicks(this.tickMs),
      send: (m) => this.send(topic.id, partition, m),
      random: (bound) => Math.floor(Math.random() * bound),
      fs: this.fs,
      quorumStates: this.quorumStates ?? undefined,
      logger: this.log,
      fenced,
      stateMachine: this.stateMachines?.(topic, partition),
      producerIdExpirationMs: this.producerIdExpirationMs,
    })
    if (this.fenced !== fenced) void replica.setFenced(this.fenced) // switched while it opened
    const tell = (leaderEpoch: number) => {
      for (const listener of this.leaderListeners) listener({ topicId: topic.id, partition, leaderEpoch })
    }
    replica.onLeadershipChange((l) => {
      if (l.role === 'leader') tell(l.epoch)
    })
    if (replica.isLeader) tell(replica.leaderEpoch) // a lone voter elected itself while opening
    else if (replica.leaderEpoch === 0 && topic.partitionStates[partition].replicas[0] === this.nodeId && initialVoters(topic.partitionStates[partition]).includes(this.nodeId)) {
      // A new partition's preferred replica: no leader has ever been elected, so campaign now rather than wait out an election timeout.
      void replica.campaign()
      this.campaigning.set(replica, { ticksLeft: Math.round(PREFERRED_CAMPAIGN_MS / this.tickMs) })
    }
    return replica
  }
}

/** Runs `fn` over `items` with at most `max` calls in flight; `fn` handles its own errors. */
async function inParallel<T>(items: readonly T[], max: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) await fn(items[next++])
  }
  await Promise.all(Array.from({ length: Math.min(max, items.length) }, worker))
}

/**
 * The voters a replica new on this broker starts with (one that exists keeps its own): the
 * partition's replicas, less those a reassignment is adding — a new replica of a move is an
 * observer until the leader adds it, and must never take itself for a voter.
 */
export function initialVoters(p: PartitionImage): readonly number[] {
  return p.reassignment === undefined ? p.replicas : p.replicas.filter((id) => !p.reassignment!.adding.includes(id))
}

/**
 * Retention and compaction below each replica's high watermark, leaders and followers alike
 * (a follower's disk must not grow without bound either), one partition at a time. Errors are
 * logged: a full disk or a corrupt segment must not stop the broker from serving.
 */
export async function cleanLogs(replicas: ReadonlyMap<string, readonly PartitionReplica[]>, log: Logger): Promise<void> {
  for (const [topic, list] of [...replicas]) {
    for (const [index, r] of list.entries()) {
      try {
        await r.cleanLog()
      } catch (err) {
        log.warn('log cleanup failed', { topic, replica: index, error: (err as Error).message })
      }
    }
  }
}
