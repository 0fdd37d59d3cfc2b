// The consumer, with manual assignment (or a group's, group-member.ts): assign partitions, seek each to
// an offset, the earliest or latest offset, or a timestamp, then iterate. Fetches are
// pipelined (fetcher.ts): at most two in flight per leader broker (the second chained on the
// broker after the first) and at most three fetch responses (maxBytes each) per broker held. A partition's position moves only as its
// answers are handed out, in order; whatever breaks that order refetches from the position.
import type { Codec } from '../codec/index.js'
import { RetryPolicy, type RetryOptions } from './backoff.js'
import type { Cluster } from './cluster.js'
import { Deadline } from './deadline.js'
import { ClientError } from './errors.js'
import {
  API_TIMEOUT_MS_DEFAULT, ASSIGNED_PARTITIONS_MAX, FETCH_MAX_BYTES_DEFAULT, FETCH_MAX_WAIT_MS_DEFAULT, FETCH_MIN_BYTES_DEFAULT,
  FETCH_PARTITION_MAX_BYTES_DEFAULT, intOption,
} from './limits.js'
import { EARLIEST, LATEST, listOffsets } from './offsets.js'
import { Fetcher, refetchFromPosition, type FetchedBatch, type PartitionState } from './fetcher.js'
import type { ConsumerRecord } from './records.js'
import { Sleeper } from './sleep.js'
import { TopicRouter } from './topic-router.js'
import { GroupMember, NODE_GROUP_PLATFORM, type GroupOptions, type GroupPlatform, type Subscription, type TopicPartitionRef } from './group-member.js'

export type { GroupOptions, Subscription } from './group-member.js'

export type SeekTarget = number | 'earliest' | 'latest' | { timestamp: number }
export type OffsetReset = 'earliest' | 'latest' | 'none'

export interface TopicPartition {
  topic: string
  partition: number
}

export interface ConsumerOptions {
  /** Where a partition with no position (or an out-of-range one) starts. Default 'latest'. */
  autoOffsetReset?: OffsetReset
  maxWaitMs?: number
  minBytes?: number
  maxBytes?: number
  partitionMaxBytes?: number
  retry?: RetryOptions
  /**
   * Bound of offset lookups (seek, reset), retries included; a partition whose fetches fail
   * this long makes the iterator throw. Default: the client's apiTimeoutMs (60 s).
   */
  apiTimeoutMs?: number
}

export type { FetchedBatch }

export class Consumer {
  private readonly partitions = new Map<string, PartitionState>()
  private readonly router: TopicRouter
  private readonly retry: RetryPolicy
  private readonly sleeper = new Sleeper()
  private readonly fetcher: Fetcher
  private readonly autoOffsetReset: OffsetReset
  private readonly partitionMaxBytes: number
  private readonly apiTimeoutMs: number
  private closed = false
  /** The group this consumer subscribed with (group-member.ts), or null: partitions assigned by hand. */
  private group: GroupMember | null = null
  /**
   * Per partition, the offset after the last record (or batch) the application came back from:
   * what a group commits, so auto-commit never commits a record still being processed.
   */
  private readonly consumed = new Map<string, number>()

  constructor(
    private readonly cluster: Cluster, codec: Codec, options: ConsumerOptions, requestTimeoutMs: number, random: () => number = Math.random,
    private readonly groupPlatform: GroupPlatform = NODE_GROUP_PLATFORM,
  ) {
    this.autoOffsetReset = options.autoOffsetReset ?? 'latest'
    this.partitionMaxBytes = options.partitionMaxBytes ?? FETCH_PARTITION_MAX_BYTES_DEFAULT
    this.apiTimeoutMs = intOption('apiTimeoutMs', options.apiTimeoutMs, API_TIMEOUT_MS_DEFAULT, 0)
    this.retry = new RetryPolicy(options.retry, random)
    this.router = new TopicRouter(cluster, this.retry, this.sleeper, () => this.closed)
    this.fetcher = new Fetcher(cluster, codec, this.retry, {
      maxWaitMs: options.maxWaitMs ?? FETCH_MAX_WAIT_MS_DEFAULT,
      minBytes: options.minBytes ?? FETCH_MIN_BYTES_DEFAULT,
      maxBytes: options.maxBytes ?? FETCH_MAX_BYTES_DEFAULT,
      requestTimeoutMs,
      apiTimeoutMs: this.apiTimeoutMs,
    })
  }

  /** Replaces the assignment. Partitions kept keep their positions; new ones start unpositioned. */
  assign(partitions: readonly TopicPartition[]): void {
    if (partitions.length > ASSIGNED_PARTITIONS_MAX) throw new ClientError('INVALID_ARGUMENT', `at most ${ASSIGNED_PARTITIONS_MAX} partitions per consumer`)
    const next = new Map<string, PartitionState>()
    for (const { topic, partition } of partitions) {
      if (!Number.isInteger(partition) || partition < 0) throw new ClientError('INVALID_ARGUMENT', `bad partition ${partition} for ${topic}`)
      const key = `${partition}:${topic}`
      next.set(key, this.partitions.get(key) ?? {
        topic, partition, position: null, fetchPosition: null, reset: null, generation: 0, retryAt: 0, failures: 0, maxBytes: this.partitionMaxBytes,
      })
    }
    this.partitions.clear()
    for (const [k, v] of next) this.partitions.set(k, v)
    for (const k of this.consumed.keys()) if (!next.has(k)) this.consumed.delete(k)
    this.fetcher.interrupt()
  }

  /**
   * Joins a consumer group: the group's coordinator assigns this consumer its share of the
   * subscribed topics' partitions (topic names, or { pattern } matched on the broker) and moves
   * them as members come and go; the iterators read whatever is assigned at the time. Called
   * again, it changes the subscription (the group options stay those of the first call).
   */
  subscribe(subscription: Subscription, options: GroupOptions): void {
    if (this.group !== null) return this.group.resubscribe(subscription)
    if (this.partitions.size > 0) throw new ClientError('INVALID_ARGUMENT', 'this consumer has partitions assigned by hand: subscribe a new consumer')
    this.group = new GroupMember(this.cluster, {
      assign: (partitions) => this.assign(partitions),
      seek: (topic, partition, offset) => this.seek(topic, partition, offset),
      position: (topic, partition) => this.committable(topic, partition),
    }, options, subscription, options.clientId ?? 'bitacora-js', this.groupPlatform)
    this.group.start()
  }

  /** Commits the group's positions: the next offset to read of every partition it owns, or the offsets given. */
  commit(offsets?: readonly (TopicPartitionRef & { offset: number; metadata?: string })[]): Promise<void> {
    if (this.group === null) return Promise.reject(new ClientError('INVALID_ARGUMENT', 'commit needs a group: subscribe first'))
    return this.group.commit(offsets)
  }

  assignment(): TopicPartition[] {
    return [...this.partitions.values()].map(({ topic, partition }) => ({ topic, partition }))
  }

  /** Moves a partition's position; takes effect at the next fetch (results in flight are dropped). */
  seek(topic: string, partition: number, target: SeekTarget): void {
    const state = this.partitions.get(`${partition}:${topic}`)
    if (state === undefined) throw new ClientError('INVALID_ARGUMENT', `${topic}/${partition} is not assigned`)
    refetchFromPosition(state)
    state.retryAt = 0
    this.consumed.delete(`${partition}:${topic}`)
    if (typeof target === 'number') {
      if (!Number.isSafeInteger(target) || target < 0) throw new ClientError('INVALID_ARGUMENT', `offset must be a non-negative integer, not ${target}`)
      state.position = target
      state.reset = null
    } else {
      state.reset = target === 'earliest' ? EARLIEST : target === 'latest' ? LATEST : target.timestamp
    }
    this.fetcher.interrupt()
  }

  /** What a group commits for the partition: the offset after what the application is done with (else the position). */
  private committable(topic: string, partition: number): number | undefined {
    return this.consumed.get(`${partition}:${topic}`) ?? this.position(topic, partition)
  }

  /** The next offset this consumer will read, or undefined before it is known. */
  position(topic: string, partition: number): number | undefined {
    return this.partitions.get(`${partition}:${topic}`)?.position ?? undefined
  }

  /** Fetched records, one partition's batch of them at a time, until close(). */
  async *batches(): AsyncGenerator<FetchedBatch> {
    while (!this.closed) {
      if (this.group?.fatal) throw this.group.fatal
      await this.resolvePositions()
      const fetched = await this.fetcher.next([...this.partitions.values()].filter((p) => p.position !== null))
      let i = 0
      try {
        for (; i < fetched.length; i++) {
          const batch = fetched[i]
          const state = this.partitions.get(`${batch.partition}:${batch.topic}`)
          if (state === undefined || state.generation !== batch.generation) continue // unassigned or sought since
          if (state.position !== batch.fromOffset) {
            // An earlier answer was not handed out (e.g. answers of two brokers crossed during a
            // leader move): this one, and every one fetched after it, starts past the position.
            refetchFromPosition(state)
            continue
          }
          state.position = batch.nextOffset
          if (batch.count > 0) yield batch
          // The application came back for more: done with the batch (if the partition is still this one's).
          if (this.partitions.get(`${batch.partition}:${batch.topic}`) === state) this.consumed.set(`${batch.partition}:${batch.topic}`, batch.nextOffset)
        }
      } finally {
        // Left mid-answer (break or return in the caller's loop): the rest of it is dropped, and
        // so must be what was fetched past it.
        for (let j = i + 1; j < fetched.length; j++) {
          const state = this.partitions.get(`${fetched[j].partition}:${fetched[j].topic}`)
          if (state !== undefined && state.generation === fetched[j].generation) refetchFromPosition(state)
        }
      }
      const resets = this.fetcher.takeOutOfRange()
      for (const state of resets) {
        if (this.autoOffsetReset === 'none') throw new ClientError('INVALID_ARGUMENT', `offset ${state.position} is out of range for ${state.topic}/${state.partition} and autoOffsetReset is 'none'`)
        state.reset = this.autoOffsetReset === 'earliest' ? EARLIEST : LATEST
      }
    }
  }

  /**
   * Fetched records, one at a time, until close(). Left in the middle of a batch (break), the
   * partition's position is the record after the last one handed out.
   */
  async *records(): AsyncGenerator<ConsumerRecord> {
    for await (const batch of this.batches()) {
      const records = batch.records
      const key = `${batch.partition}:${batch.topic}`
      const assigned = this.partitions.get(key)
      let i = 0
      try {
        for (; i < records.length; i++) {
          // A partition taken away meanwhile (a group revoked it) hands out nothing more.
          if (this.partitions.get(key) !== assigned) break
          yield records[i]
          if (this.partitions.get(key) === assigned) this.consumed.set(key, records[i].offset + 1)
        }
      } finally {
        const state = this.partitions.get(`${batch.partition}:${batch.topic}`)
        if (i + 1 < records.length && state?.generation === batch.generation) {
          refetchFromPosition(state)
          state.position = records[i + 1].offset
        }
      }
    }
  }

  [Symbol.asyncIterator](): AsyncGenerator<ConsumerRecord> {
    return this.records()
  }

  /** Stops the iterators; a group member leaves its group (auto-commit commits first): awaited, it has. */
  close(): Promise<void> {
    this.closed = true
    this.sleeper.wakeAll()
    this.fetcher.interrupt()
    return this.group?.close() ?? Promise.resolve()
  }

  /** ListOffsets for partitions that were seeked to earliest / latest / a time, or have no position. */
  private async resolvePositions(): Promise<void> {
    const pending = [...this.partitions.values()].filter((p) => p.reset !== null || p.position === null)
    if (pending.length === 0) return
    for (const p of pending) {
      if (p.reset !== null) continue
      if (this.autoOffsetReset === 'none') throw new ClientError('INVALID_ARGUMENT', `${p.topic}/${p.partition} has no position and autoOffsetReset is 'none': seek first`)
      p.reset = this.autoOffsetReset === 'earliest' ? EARLIEST : LATEST
    }
    const generations = pending.map((p) => p.generation)
    const queries = pending.map((p) => ({ topic: p.topic, partition: p.partition, timestamp: p.reset! }))
    const deadline = Deadline.after(this.apiTimeoutMs, 'apiTimeoutMs', this.cluster.now())
    const answers = await listOffsets(this.cluster, this.router, this.retry, this.sleeper, queries, deadline)
    const latest = queries.some((q, i) => q.timestamp >= 0 && answers[i].offset < 0)
      ? await listOffsets(this.cluster, this.router, this.retry, this.sleeper, queries.map((q) => ({ ...q, timestamp: LATEST })), deadline)
      : undefined
    pending.forEach((p, i) => {
      if (p.generation !== generations[i]) return // seeked again meanwhile
      // No record at or after the timestamp: start at the end, as Kafka's reset tool does.
      p.position = answers[i].offset >= 0 ? answers[i].offset : latest![i].offset
      p.reset = null
      refetchFromPosition(p)
    })
  }
}
