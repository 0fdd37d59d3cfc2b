// The consumer's I/O half: one Fetch in flight per leader broker, each carrying every
// assigned partition that broker leads; answers are read into records (readPartition) and
// per-partition errors handled here: redirect on a leader hint, back off on retriable
// errors, report out-of-range offsets to the consumer, throw the rest.
import type { Codec } from '../codec/index.js'
import type { bitacora } from '../protocol/index.js'
import type { RetryPolicy } from './backoff.js'
import type { Cluster } from './cluster.js'
import { ClientError, errorFromWire, isRetriableError } from './errors.js'
import { FETCH_PARTITION_BYTES_CEILING } from './limits.js'
import { readPartition } from './position.js'
import type { ConsumerRecord } from './records.js'

export interface PartitionState {
  topic: string
  partition: number
  /** Next offset to fetch; null until resolved (seek or auto reset). */
  position: number | null
  /** A pending ListOffsets target (-2, -1 or a timestamp), or null. */
  reset: number | null
  /** Bumped on every seek, so answers to older fetches are dropped. */
  generation: number
  retryAt: number
  failures: number
  maxBytes: number
}

export interface FetchedBatch {
  topic: string
  partition: number
  records: ConsumerRecord[]
  highWatermark: number
  fromOffset: number
  nextOffset: number
  generation: number
}

export interface FetcherOptions {
  maxWaitMs: number
  minBytes: number
  maxBytes: number
  requestTimeoutMs: number
}

export class Fetcher {
  private readonly outstanding = new Map<number, Promise<void>>()
  private readonly ready: FetchedBatch[][] = []
  private readonly inFlight = new Set<PartitionState>()
  private outOfRange: PartitionState[] = []
  private fatal: Error | undefined
  private interrupted!: Promise<void>
  private wake!: () => void

  constructor(
    private readonly cluster: Cluster,
    private readonly codec: Codec,
    private readonly retry: RetryPolicy,
    private readonly options: FetcherOptions,
  ) {
    this.rearm()
  }

  /** Ends a wait in next() early (assignment changed, seek, close). */
  interrupt(): void {
    this.wake()
  }

  takeOutOfRange(): PartitionState[] {
    const out = this.outOfRange
    this.outOfRange = []
    return out
  }

  /**
   * Returns answers already in; otherwise starts fetches where none is in flight and waits for
   * one to answer (or an interrupt, or the idle time). New fetches start only once every
   * earlier answer was handed out, so positions are current and at most one answer per
   * broker is ever buffered.
   */
  async next(states: PartitionState[]): Promise<FetchedBatch[]> {
    this.throwFatal()
    if (this.ready.length > 0) return this.ready.shift()!
    const now = this.cluster.now()
    const byLeader = new Map<number, PartitionState[]>()
    const leaderless = new Set<string>()
    let nextRetryAt = Infinity
    for (const s of states) {
      if (this.inFlight.has(s)) continue
      if (s.retryAt > now) {
        nextRetryAt = Math.min(nextRetryAt, s.retryAt)
        continue
      }
      const leader = this.cluster.metadata.leaderOf(s.topic, s.partition)
      if (leader < 0 || this.cluster.metadata.needsRefresh(s.topic, now)) leaderless.add(s.topic)
      if (leader < 0 || this.outstanding.has(leader)) continue
      byLeader.set(leader, [...(byLeader.get(leader) ?? []), s])
    }
    for (const [leader, group] of byLeader) this.start(leader, group)
    if (leaderless.size > 0) await this.cluster.ensureTopics(leaderless).catch(() => undefined)
    if (this.ready.length === 0) {
      let timer: ReturnType<typeof setTimeout> | undefined
      const idleMs = leaderless.size > 0 ? this.retry.backoff.initialMs : Math.min(this.options.maxWaitMs, Math.max(0, nextRetryAt - now))
      const waits = [this.interrupted]
      if (this.outstanding.size === 0) waits.push(new Promise((resolve) => (timer = setTimeout(resolve, idleMs))))
      await Promise.race(waits)
      clearTimeout(timer)
    }
    this.rearm()
    this.throwFatal()
    return this.ready.shift() ?? []
  }

  private rearm(): void {
    this.interrupted = new Promise((resolve) => (this.wake = resolve))
  }

  private throwFatal(): void {
    if (this.fatal) {
      const err = this.fatal
      this.fatal = undefined
      throw err
    }
  }

  private start(leader: number, group: PartitionState[]): void {
    for (const s of group) this.inFlight.add(s)
    const task = this.fetch(leader, group).then((out) => {
      if (out.length > 0) this.ready.push(out)
    }).finally(() => {
      for (const s of group) this.inFlight.delete(s)
      this.outstanding.delete(leader)
      this.wake()
    })
    this.outstanding.set(leader, task)
  }

  private async fetch(leader: number, group: PartitionState[]): Promise<FetchedBatch[]> {
    const asked = group.map((s) => ({ state: s, offset: s.position!, generation: s.generation }))
    try {
      const broker = this.cluster.brokerById(leader)
      if (broker === undefined) throw new ClientError('CONNECTION_FAILED', `no address for leader ${leader}`)
      const response = await broker.request('fetch', this.request(group), { timeoutMs: this.options.requestTimeoutMs + this.options.maxWaitMs })
      const out: FetchedBatch[] = []
      for (const a of asked) {
        const data = response.topics?.find((t) => t.name === a.state.topic)?.partitions?.find((p) => (p.index ?? 0) === a.state.partition)
        const batch = data ? await this.read(leader, a.state, a.offset, a.generation, data) : undefined
        if (batch) out.push(batch)
      }
      return out
    } catch (err) {
      if (!isRetriableError(err)) this.fatal ??= err as Error
      else for (const s of group) this.backOff(s, this.cluster.now())
      return []
    }
  }

  private request(group: PartitionState[]): bitacora.IFetchRequest {
    const topics = new Map<string, bitacora.FetchRequest.IPartitionFetch[]>()
    for (const s of group) {
      const partitions = topics.get(s.topic) ?? []
      const leaderEpoch = this.cluster.metadata.topic(s.topic)?.partitions[s.partition]?.leaderEpoch ?? -1
      partitions.push({ index: s.partition, fetchOffset: s.position!, partitionMaxBytes: s.maxBytes, currentLeaderEpoch: leaderEpoch })
      topics.set(s.topic, partitions)
    }
    return {
      maxWaitMs: this.options.maxWaitMs,
      minBytes: this.options.minBytes,
      maxBytes: this.options.maxBytes,
      topics: [...topics].map(([name, partitions]) => ({ name, partitions })),
    }
  }

  private async read(
    leader: number, s: PartitionState, offset: number, generation: number, data: bitacora.FetchResponse.IPartitionData,
  ): Promise<FetchedBatch | undefined> {
    const err = errorFromWire(data.error, `fetch ${s.topic}/${s.partition} at ${offset}`)
    if (err) {
      if (err.code === 'OFFSET_OUT_OF_RANGE') {
        if (s.generation === generation) this.outOfRange.push(s)
      } else if (err.code === 'NOT_LEADER_OR_FOLLOWER' && this.cluster.metadata.applyLeaderHint(s.topic, s.partition, data.leaderHint ?? -1, leader)) {
        // Redirected: the next round goes to the hinted leader.
      } else if (isRetriableError(err)) {
        this.backOff(s, this.cluster.now())
      } else {
        this.fatal ??= err
      }
      return undefined
    }
    s.failures = 0
    const read = await readPartition(this.codec, s.topic, s.partition, offset, data.records ?? new Uint8Array(0))
    if (read.neededBytes > s.maxBytes) s.maxBytes = Math.min(FETCH_PARTITION_BYTES_CEILING, Math.max(read.neededBytes, s.maxBytes * 2))
    else if (read.neededBytes > 0 && s.maxBytes >= FETCH_PARTITION_BYTES_CEILING) {
      this.fatal ??= new ClientError('RECORD_TOO_LARGE', `${s.topic}/${s.partition} at ${offset} holds a batch over ${FETCH_PARTITION_BYTES_CEILING} bytes`)
    }
    return { topic: s.topic, partition: s.partition, records: read.records, highWatermark: data.highWatermark ?? -1, fromOffset: offset, nextOffset: read.nextOffset, generation }
  }

  private backOff(s: PartitionState, now: number): void {
    this.cluster.metadata.markStale(s.topic)
    s.retryAt = now + this.retry.backoff.delayMs(s.failures++)
  }
}
