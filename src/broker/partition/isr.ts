// A partition's in-sync replicas (ISR) as its leader sees them, by Kafka's rule
// (replica.lag.time.max.ms): the leader, and each voter whose flushed offset reached the leader's
// log end within the topic's lag time (the core tracks when, in ticks: src/raft/progress.ts).
// The leader reports it to the controller (controller/node/leader-reporter.ts) so Metadata
// answers it, and acks=all checks it against min.insync.replicas before appending (api/produce.ts).
import type { MetadataImage } from '../../metadata/image.js'
import { topicConfigValue, type TopicConfigs } from '../../metadata/topic-config.js'
import type { Status } from '../../raft/types.js'
import type { LedPartition, ReplicaLookup } from './replica-manager.js'

/**
 * The ISR of a leader's status, ascending; [] when it does not lead, or leads without being a
 * voter (it removed itself and hands over once that commits: an ISR without its leader is none).
 */
export function isrOfStatus(s: Status, lagTicks: number): number[] {
  if (s.role !== 'leader' || s.progress === null || !s.voter) return []
  const isr = [s.id]
  for (const p of s.progress) {
    if (p.voter && p.ticksSinceCaughtUp >= 0 && p.ticksSinceCaughtUp <= lagTicks) isr.push(p.id)
  }
  return isr.sort((a, b) => a - b)
}

/**
 * How many replicas hold everything below `offset` flushed, the leader among them (if a voter):
 * what acks=all with min.insync.replicas above a majority waits for. 0 when it does not lead.
 */
export function replicasFlushedTo(s: Status, offset: number): number {
  if (s.role !== 'leader' || s.progress === null) return 0
  let count = s.voter && s.flushedEnd >= offset ? 1 : 0
  for (const p of s.progress) if (p.voter && p.flushedOffset >= offset) count++
  return count
}

/** The topic's replica.lag.time.max.ms in ticks of `tickMs` (at least one). */
export function lagTicksOf(configs: TopicConfigs, tickMs: number): number {
  return Math.max(1, Math.round(Number(topicConfigValue(configs, 'replica.lag.time.max.ms')) / tickMs))
}

/** The ISR of the partitions this broker leads, each under its topic's lag time. */
export class InSyncReplicas {
  constructor(
    private readonly replicas: ReplicaLookup & { led(): Iterable<LedPartition> },
    private readonly image: () => MetadataImage,
    /** The broker's Raft tick (the core counts lag in ticks). */
    readonly tickMs: number,
  ) {}

  /** The ISR (ascending) of a partition this broker leads; null when it leads it not (or holds no replica of it). */
  of(topicId: string, partition: number): number[] | null {
    const replica = this.replicas.replica(topicId, partition)
    const topic = this.image().topicById(topicId)
    if (replica === undefined || topic === undefined || !replica.isLeader || !replica.online) return null
    return isrOfStatus(replica.status(), lagTicksOf(topic.configs, this.tickMs))
  }

  /** Each partition this broker leads, with its ISR (what the leader reporter sends). */
  *led(): Iterable<LedPartition> {
    for (const led of this.replicas.led()) {
      const isr = this.of(led.topicId, led.partition)
      if (isr !== null && isr.length > 0) yield { ...led, isr }
    }
  }
}
