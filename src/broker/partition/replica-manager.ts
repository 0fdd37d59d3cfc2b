// The broker's partition replicas: opens them for the topics it holds, creates and deletes
// them with their topics, ticks their Raft cores on one timer and cleans their logs on another.
import type { TopicImage } from '../../metadata/image.js'
import type { NodeId } from '../../raft/types.js'
import { NodeFileLayer, type FileLayer } from '../../storage/index.js'
import type { Logger } from '../log.js'
import { logConfigOf } from './log-config.js'
import { finishInterruptedDeletes, migrateLegacyDirs, partitionDir, removePartitionDir } from './partition-dir.js'
import { raftTicks } from './raft-timing.js'
import { PartitionReplica } from './replica.js'

/** What request handlers need of the replicas: the one for a partition, if this broker holds it. */
export interface PartitionLookup {
  partition(topic: string, index: number): PartitionReplica | undefined
}

export class ReplicaManager implements PartitionLookup {
  private readonly replicas = new Map<string, PartitionReplica[]>()
  private timer: ReturnType<typeof setInterval> | null = null
  private cleanerTimer: ReturnType<typeof setInterval> | null = null
  private cleaning = false

  constructor(
    private readonly dataDir: string,
    private readonly nodeId: NodeId,
    private readonly tickMs: number,
    private readonly logCleanupIntervalMs: number,
    private readonly log: Logger,
    private readonly fs: FileLayer = new NodeFileLayer(),
  ) {}

  start(): void {
    this.timer ??= setInterval(() => {
      for (const list of this.replicas.values()) for (const r of list) void r.tick()
    }, this.tickMs)
    this.cleanerTimer ??= setInterval(() => void this.cleanLogs(), this.logCleanupIntervalMs)
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
    return this.replicas.get(topic)?.[index]
  }

  /** Opens the replicas of every topic the broker holds (at start), after finishing interrupted deletes. */
  async openAll(topics: readonly TopicImage[]): Promise<void> {
    await finishInterruptedDeletes(this.fs, this.dataDir)
    for (const topic of topics) {
      await migrateLegacyDirs(this.fs, this.dataDir, topic)
      this.replicas.set(topic.name, await this.openReplicas(topic))
    }
  }

  /**
   * Creates a new topic's replicas, all or nothing: if any partition fails to open, the ones
   * opened are closed and every directory made for the topic is removed.
   */
  async create(topic: TopicImage): Promise<void> {
    try {
      this.replicas.set(topic.name, await this.openReplicas(topic))
    } catch (err) {
      await this.removeDirs(topic)
      throw err
    }
  }

  /** Closes a topic's replicas and deletes their data. */
  async delete(topic: TopicImage): Promise<void> {
    await this.close(topic.name)
    await this.removeDirs(topic)
  }

  async closeAll(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    if (this.cleanerTimer) clearInterval(this.cleanerTimer)
    this.timer = this.cleanerTimer = null
    await Promise.all([...this.replicas.keys()].map((name) => this.close(name)))
  }

  private async close(topicName: string): Promise<void> {
    const list = this.replicas.get(topicName) ?? []
    this.replicas.delete(topicName)
    await Promise.all(list.map((r) => r.close()))
  }

  private async removeDirs(topic: TopicImage): Promise<void> {
    for (let p = 0; p < topic.partitions; p++) await removePartitionDir(this.fs, partitionDir(this.dataDir, topic.id, p))
  }

  /** Opens every partition of `topic`; on failure closes the ones opened and rethrows. */
  private async openReplicas(topic: TopicImage): Promise<PartitionReplica[]> {
    const list: PartitionReplica[] = []
    // Real-network timeouts (limits.ts, DEFAULT_RAFT_TIMING); a lone voter elects itself on opening.
    const timing = raftTicks(this.tickMs)
    try {
      for (let p = 0; p < topic.partitions; p++) {
        list.push(
          await PartitionReplica.open({
            dir: partitionDir(this.dataDir, topic.id, p),
            nodeId: this.nodeId,
            voters: [this.nodeId],
            logConfig: logConfigOf(topic.configs),
            ...timing,
            random: (bound) => Math.floor(Math.random() * bound),
            fs: this.fs,
            logger: this.log,
          }),
        )
      }
    } catch (err) {
      await Promise.allSettled(list.map((r) => r.close()))
      throw err
    }
    return list
  }
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
        log.warn('log cleanup failed', { topic, partition: index, error: (err as Error).message })
      }
    }
  }
}
