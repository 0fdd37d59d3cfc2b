// The broker's partition replicas: opens them for topics, closes and deletes them, and ticks
// their Raft cores on one timer.
import { rm, rename } from 'node:fs/promises'
import { NodeFileLayer, type FileLayer } from '../storage/index.js'
import type { NodeId } from '../raft/types.js'
import type { Logger } from './log.js'
import { PartitionReplica } from './replica.js'
import { logConfigOf } from './topic-config.js'
import { partitionDir, type TopicInfo } from './topic-registry.js'

/** Election timeout of single-voter groups, in ticks: they elect on the first. */
const ELECTION_TIMEOUT_TICKS = 10

export class ReplicaManager {
  private readonly replicas = new Map<string, PartitionReplica[]>()
  private timer: ReturnType<typeof setInterval> | null = null
  private cleanerTimer: ReturnType<typeof setInterval> | null = null
  private cleaning = false
  private readonly fs: FileLayer = new NodeFileLayer()

  constructor(
    private readonly dataDir: string,
    private readonly nodeId: NodeId,
    private readonly tickMs: number,
    private readonly logCleanupIntervalMs: number,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => {
      for (const list of this.replicas.values()) for (const r of list) void r.tick()
    }, this.tickMs)
    this.cleanerTimer ??= setInterval(() => void this.cleanLogs(), this.logCleanupIntervalMs)
  }

  /**
   * Retention and compaction, below each leader's high watermark, one partition at a time (a
   * pass already running is not doubled). Errors are logged: a full disk or a corrupt segment
   * must not stop the broker from serving.
   */
  private async cleanLogs(): Promise<void> {
    if (this.cleaning) return
    this.cleaning = true
    try {
      for (const [topic, list] of [...this.replicas]) {
        for (const [index, r] of list.entries()) {
          if (!r.isLeader) continue
          try {
            await r.cleanLog()
          } catch (err) {
            this.log.warn('log cleanup failed', { topic, partition: index, error: (err as Error).message })
          }
        }
      }
    } finally {
      this.cleaning = false
    }
  }

  partition(topic: string, index: number): PartitionReplica | undefined {
    return this.replicas.get(topic)?.[index]
  }

  async open(topic: TopicInfo): Promise<void> {
    const list: PartitionReplica[] = []
    try {
      for (let p = 0; p < topic.partitions; p++) {
        list.push(
          await PartitionReplica.open({
            dir: partitionDir(this.dataDir, topic, p),
            nodeId: this.nodeId,
            voters: [this.nodeId],
            logConfig: logConfigOf(topic.configs),
            electionTimeoutTicks: ELECTION_TIMEOUT_TICKS,
            random: (bound) => Math.floor(Math.random() * bound),
            fs: this.fs,
          }),
        )
      }
    } catch (err) {
      await Promise.allSettled(list.map((r) => r.close()))
      throw err
    }
    this.replicas.set(topic.name, list)
  }

  async close(topicName: string): Promise<void> {
    const list = this.replicas.get(topicName) ?? []
    this.replicas.delete(topicName)
    await Promise.all(list.map((r) => r.close()))
  }

  /** Closes a topic's replicas and deletes their data (renamed aside first, so a crash mid-delete leaves no half log). */
  async delete(topic: TopicInfo): Promise<void> {
    await this.close(topic.name)
    for (let p = 0; p < topic.partitions; p++) {
      const dir = partitionDir(this.dataDir, topic, p)
      const doomed = `${dir}.deleted`
      await rename(dir, doomed).catch(() => undefined)
      await rm(doomed, { recursive: true, force: true })
    }
  }

  async closeAll(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    if (this.cleanerTimer) clearInterval(this.cleanerTimer)
    this.timer = this.cleanerTimer = null
    await Promise.all([...this.replicas.keys()].map((name) => this.close(name)))
  }
}
