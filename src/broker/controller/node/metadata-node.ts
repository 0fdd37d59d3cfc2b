// This node's replica of `__cluster_metadata`: a state-machine PartitionReplica whose state
// machine is the metadata image. On a controller voter it votes and may lead (its leader is the
// active controller); on any other node it is an observer that follows the log. It keeps the
// latest committed image and hands each new one to its publishers (Kafka's image / delta /
// publisher): the replica manager reconciles local partitions, caches swap their image.
// Publishers are called inside the replica's input task and must not block.
//
// It ticks its own replica on a timer of --tick-ms, with the metadata quorum's entry of the
// broker's one Raft timing table (RAFT_TIMING.metadata in ../../limits.ts), and sends its Raft
// messages through `send` (the peer transport).
import { join } from 'node:path'
import type { MetadataImage } from '../../../metadata/image.js'
import type { Message, NodeId } from '../../../raft/types.js'
import { resolveConfig, type FileLayer } from '../../../storage/index.js'
import type { Logger } from '../../log.js'
import { RAFT_TIMING, type RaftTiming } from '../../limits.js'
import { raftTicks } from '../../partition/raft-timing.js'
import { PartitionReplica } from '../../partition/replica.js'
import { checkBootstrapVoters } from './bootstrap-voters.js'
import { METADATA_DIR_NAME } from '../decisions/limits.js'
import { MetadataStateMachine, type ImageUpdate } from './metadata-state-machine.js'
import type { ControllerVoter } from './voter-list.js'

export type { ImageUpdate } from './metadata-state-machine.js'

/** Reacts to each new committed image (called in order, synchronously; must not block). */
export type ImagePublisher = (update: ImageUpdate) => void

export interface MetadataNodeOptions {
  readonly dataDir: string
  readonly nodeId: NodeId
  /**
   * The data dir's directory id (meta.properties): this node's metadata replica is (nodeId,
   * directoryId), so after a wiped disk it is a new replica, never the voter it was (KIP-853).
   */
  readonly directoryId?: string
  /** --controller-voters; undefined: this node alone is the one voter. */
  readonly voters: readonly ControllerVoter[] | undefined
  readonly tickMs: number
  /** Sends a Raft message to another node (the peer transport). */
  readonly send: (m: Message) => void
  readonly log: Logger
  readonly fs: FileLayer
  /** Overrides of RAFT_TIMING.metadata (tests), checked as every Raft timing is (raft-timing.ts: never below its floor). */
  readonly timing?: Partial<RaftTiming>
  /** Snapshot policy overrides (tests). */
  readonly snapshotEveryRecords?: number
}

export class MetadataNode {
  private readonly publishers = new Set<ImagePublisher>()
  private readonly tickListeners = new Set<() => void>()
  private timer: ReturnType<typeof setInterval> | null = null
  private hwLearned = false
  private caughtUpOnce = false
  private readonly caughtUpWaiters: Array<() => void> = []
  private readonly imageWaiters = new Set<{ readonly offset: number; readonly finish: (ok: boolean) => void }>()

  private constructor(
    readonly nodeId: NodeId,
    /** True when started without --controller-voters: a one-node cluster. */
    readonly standalone: boolean,
    private readonly machine: MetadataStateMachine,
    readonly replica: PartitionReplica,
    private readonly tickMs: number,
  ) {}

  /** Checks the bootstrap voters against the data directory, then opens the metadata log (snapshot + tail). */
  static async open(o: MetadataNodeOptions): Promise<MetadataNode> {
    const dir = join(o.dataDir, METADATA_DIR_NAME)
    const voters = await checkBootstrapVoters(o.fs, dir, o.nodeId, o.voters)
    const timing = raftTicks(o.tickMs, { ...RAFT_TIMING.metadata, ...o.timing })
    let node: MetadataNode | null = null
    // While opening, the snapshot's image is restored before anyone can subscribe (subscribe hands it over).
    const machine = new MetadataStateMachine(o.log, (update) => node?.published(update))
    const replica = await PartitionReplica.open({
      dir,
      nodeId: o.nodeId,
      directoryId: o.directoryId,
      voters,
      logConfig: resolveConfig({}),
      ...timing,
      send: o.send,
      random: (bound) => Math.floor(Math.random() * bound),
      fs: o.fs,
      logger: o.log,
      stateMachine: { machine, snapshotPolicy: o.snapshotEveryRecords === undefined ? undefined : { everyRecords: o.snapshotEveryRecords } },
    })
    node = new MetadataNode(o.nodeId, o.voters === undefined, machine, replica, o.tickMs)
    replica.onHighWatermark(() => node!.highWatermarkMoved())
    return node
  }

  /** Starts ticking the replica. */
  start(): void {
    this.timer ??= setInterval(() => this.tick(), this.tickMs)
  }

  // ---------------------------------------------------------------- the image

  /** The latest committed image this node has replayed. */
  get image(): MetadataImage {
    return this.machine.image
  }

  /** The metadata log's offsets below this are in the image. */
  get imageOffset(): number {
    return this.machine.offset
  }

  /** Adds a publisher and hands it the current image at once (changes null: diff it whole). */
  subscribe(publisher: ImagePublisher): () => void {
    this.publishers.add(publisher)
    publisher({ image: this.machine.image, offset: this.machine.offset, changes: null })
    return () => this.publishers.delete(publisher)
  }

  /** Resolves once the image holds every record below `offset`; false after `timeoutMs`. */
  waitForImage(offset: number, timeoutMs: number): Promise<boolean> {
    if (this.machine.offset >= offset) return Promise.resolve(true)
    return new Promise((resolve) => {
      const timer = setTimeout(() => waiter.finish(false), timeoutMs)
      const waiter = {
        offset,
        finish: (ok: boolean) => {
          clearTimeout(timer)
          this.imageWaiters.delete(waiter)
          resolve(ok)
        },
      }
      this.imageWaiters.add(waiter)
    })
  }

  /** Resolves true once the image satisfies `shows` (checked now and with each new image); false after `timeoutMs`. */
  waitUntil(shows: (image: MetadataImage) => boolean, timeoutMs: number): Promise<boolean> {
    if (shows(this.machine.image)) return Promise.resolve(true)
    return new Promise((resolve) => {
      const watch = (u: ImageUpdate) => {
        if (shows(u.image)) finish(true)
      }
      const finish = (ok: boolean) => {
        clearTimeout(timer)
        this.publishers.delete(watch)
        resolve(ok)
      }
      const timer = setTimeout(() => finish(false), timeoutMs)
      this.publishers.add(watch)
    })
  }

  /**
   * Resolves once this node has replayed the log up to a high watermark it learned since it
   * started (from the leader, or as leader itself): its image then holds everything committed
   * before it started. Until then, a topic missing from the image may just not be replayed yet.
   */
  caughtUp(): Promise<void> {
    if (this.caughtUpOnce) return Promise.resolve()
    return new Promise((resolve) => this.caughtUpWaiters.push(resolve))
  }

  // ---------------------------------------------------------------- the quorum

  /** The active controller (the metadata log's leader), if this node knows one. */
  get controllerId(): NodeId | null {
    return this.replica.leaderId
  }

  /** The metadata quorum's voters as this node knows them (none while its replica is offline). */
  get voters(): readonly NodeId[] {
    try {
      return this.replica.status().voters
    } catch {
      return []
    }
  }

  /** Called on every tick of this node (the active controller follows leadership with it). */
  onTick(listener: () => void): () => void {
    this.tickListeners.add(listener)
    return () => this.tickListeners.delete(listener)
  }

  /** A Raft message from a peer. */
  receive(m: Message): void {
    void this.replica.receive(m)
  }

  /** The tick's length (the core counts time in ticks). */
  get tickIntervalMs(): number {
    return this.tickMs
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    for (const w of [...this.imageWaiters]) w.finish(false)
    await this.replica.close()
  }

  // ---------------------------------------------------------------- inside

  private tick(): void {
    void this.replica.tick()
    this.checkCaughtUp()
    for (const listener of this.tickListeners) listener()
  }

  private highWatermarkMoved(): void {
    this.hwLearned = true
  }

  private checkCaughtUp(): void {
    if (this.caughtUpOnce || !this.hwLearned || this.replica.appliedOffset < this.replica.highWatermark) return
    this.caughtUpOnce = true
    for (const resolve of this.caughtUpWaiters.splice(0)) resolve()
  }

  private published(update: ImageUpdate): void {
    for (const publisher of this.publishers) publisher(update)
    for (const w of [...this.imageWaiters]) if (update.offset >= w.offset) w.finish(true)
  }
}
