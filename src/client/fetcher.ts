// The consumer's I/O half: Fetch requests per leader broker, each carrying every assigned
// partition that broker leads; answers become FetchedBatch views (position.ts) and
// per-partition errors are handled here: redirect on a leader hint, back off on retriable
// errors, report out-of-range offsets to the consumer, throw the rest. A partition whose
// fetches keep failing (its leader out of reach) makes next() throw after apiTimeoutMs.
//
// Pipelined, two fetches in flight per broker: the second is chained on the broker after the
// first ("continue where my previous fetch of this partition ended", fetch-chain.ts), so the
// broker reads and sends the next data while this side receives, validates and hands out the
// last, and this side does not wait a round trip. When an answer arrives the next fetch goes
// out at once, from where the answer ends (read from batch headers, before the records are
// validated), or chained after the one still in flight. A broker that does not chain (its
// answers lack fetched_from) gets one fetch at a time, as before chaining. Answers of a broker
// are taken in the order their fetches went out. Bounded: a fetch starts only while fewer than
// two answers of its broker wait (queued or still being validated), and a second, chained, only
// while none waits (it hides the round trip when this side would otherwise wait for the
// network; with answers waiting it only holds more memory); next() starts the rest, for every
// broker, each time it is called. So with the answer the application is reading, at most three
// fetch responses (maxBytes each) per broker are held, chained or not.
//
// Fetching ahead is only safe while every answer is delivered: an answer that is dropped
// instead (a batch failing validation, the application leaving batches() mid-answer, answers
// of two brokers handed out out of order across a leader move) must take the fetch position
// back to the partition's position (refetchFromPosition), or every later answer starts past
// it. A failed batch waits in the queue in its place and is thrown when reached. A fetch is
// chained only after one of the partition's current generation, and a chained answer that
// starts past where the partition's fetching stands (the answer it followed was lost, e.g. timed
// out here after the broker sent it) takes the position back the same way; one that starts
// before it (the broker had nothing to follow and read the fallback offset) is skipped up to it.
// Answers of a partition sought or reset meanwhile carry an old generation: the consumer drops
// them, and the partition's next fetch waits until they are in (never chained after them).
// Those of a revoked partition name a state the consumer no longer holds: dropped too (one
// assigned again gets a new state, fetched plainly; the broker chains after its newest fetch).
import { CodecError, type Codec } from '../codec/index.js'
import { ErrorCode, type bitacora } from '../protocol/index.js'
import type { RetryPolicy } from './backoff.js'
import type { Cluster } from './cluster.js'
import { Deadline, giveUp } from './deadline.js'
import { BitacoraError, ClientError, errorFromWire, isRetriableError } from './errors.js'
import { FetchedBatch } from './fetched-batch.js'
import { answerStart, FetchChain, type Asked } from './fetch-chain.js'
import { FETCH_PARTITION_BYTES_CEILING, FETCHES_IN_FLIGHT_PER_BROKER_MAX } from './limits.js'
import { hintOf } from './metadata.js'
import { decodePartition, scanPartition, type PartitionScan } from './position.js'

export interface PartitionState {
  topic: string
  partition: number
  /** Next offset the application reads; null until resolved (seek or auto reset). */
  position: number | null
  /**
   * Next offset to fetch when ahead of `position` (an answer past it waits to be handed out),
   * else null. Cleared, with the generation, whenever what was fetched ahead is dropped.
   */
  fetchPosition: number | null
  /** A pending ListOffsets target (-2, -1 or a timestamp), or null. */
  reset: number | null
  /** Bumped on every seek (and refetchFromPosition), so answers to older fetches are dropped. */
  generation: number
  retryAt: number
  failures: number
  maxBytes: number
  /** Since when fetching this partition has failed without an answer between (absent: it has not). */
  failingSince?: number
  /** The last of those failures: what the iterator throws with when they last too long. */
  lastFailure?: unknown
}

export { FetchedBatch }

/**
 * Drops what was fetched ahead for `s`: answers in flight or waiting are discarded (their
 * generation is old) and the next fetch asks for `s.position`.
 */
export function refetchFromPosition(s: PartitionState): void {
  s.generation++
  s.fetchPosition = null
}

export interface FetcherOptions {
  maxWaitMs: number
  minBytes: number
  maxBytes: number
  requestTimeoutMs: number
  /** A partition whose fetches fail this long (and nothing else waits to be handed out) makes next() throw. */
  apiTimeoutMs: number
}

/**
 * Answers of one broker's fetch, waiting to be handed out; or a partition's batch that failed
 * validation, in its place among them (thrown when reached, as Kafka does).
 */
type Answer =
  | { leader: number; batches: FetchedBatch[]; failed?: undefined }
  | { leader: number; batches?: undefined; failed: { state: PartitionState; generation: number; error: Error } }

type Scanned = { a: Asked; data: bitacora.FetchResponse.IPartitionData; scan: PartitionScan }

export class Fetcher {
  private readonly chain = new FetchChain()
  private readonly ready: Answer[] = []
  /** Per broker, the last fetch's turn to take its answer: answers are taken in the order fetches went out. */
  private readonly turns = new Map<number, Promise<void>>()
  private outOfRange: PartitionState[] = []
  private fatal: Error | undefined
  private interrupted!: Promise<void>
  private wake!: () => void
  /** Bumped by interrupt(): a fetch started before an interrupt does not start another on arrival. */
  private epoch = 0
  /** Per broker, the last answer's validation: answers are handed out in the order they arrived. */
  private readonly decoding = new Map<number, Promise<void>>()
  /** Per broker, answers arrived but still being validated (they count as waiting). */
  private readonly validating = new Map<number, number>()
  /** The partitions the consumer last asked for: what a fetch started on arrival carries. */
  private states: PartitionState[] = []

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
    this.epoch++
    this.wake()
  }

  takeOutOfRange(): PartitionState[] {
    const out = this.outOfRange
    this.outOfRange = []
    return out
  }

  /**
   * Returns answers already in; otherwise starts fetches where none is in flight and waits for
   * one to answer (or an interrupt, or the idle time).
   */
  async next(states: PartitionState[]): Promise<FetchedBatch[]> {
    this.throwFatal()
    this.states = states
    if (this.ready.length > 0) {
      const taken = this.takeReady()
      this.startAfterTaking()
      if (taken !== undefined) return taken
    }
    const now = this.cluster.now()
    this.throwStalled(now)
    const { leaderless, nextRetryAt } = this.startFetchable(now)
    if (leaderless.size > 0) await this.refresh(leaderless)
    if (this.ready.length === 0) {
      let timer: ReturnType<typeof setTimeout> | undefined
      const idleMs = leaderless.size > 0 ? this.retry.backoff.initialMs : Math.min(this.options.maxWaitMs, Math.max(0, nextRetryAt - now))
      const waits = [this.interrupted]
      const stallMs = this.stalledAt() - this.cluster.now()
      const waitMs = !this.chain.busy ? Math.min(idleMs, stallMs) : stallMs
      if (waitMs < Infinity) waits.push(new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, waitMs)))))
      await Promise.race(waits)
      clearTimeout(timer)
    }
    this.rearm()
    this.throwFatal()
    const taken = this.takeReady()
    if (taken === undefined) this.throwStalled(this.cluster.now())
    else this.startAfterTaking()
    return taken ?? []
  }

  /**
   * Taking an answer makes room for its broker's next fetch (held back while answers waited,
   * a chained one while any did); brokers with nothing going (a leader moved there, a back-off
   * ended) start too.
   */
  private startAfterTaking(): void {
    const { leaderless } = this.startFetchable(this.cluster.now())
    if (leaderless.size > 0) void this.refresh(leaderless)
  }

  /**
   * Metadata for topics with partitions of unknown leader, waited for no longer than the
   * earliest moment a failing partition would make next() throw; a failure counts against
   * those partitions.
   */
  private async refresh(topics: Set<string>): Promise<void> {
    const now = this.cluster.now()
    const refreshed = this.cluster.ensureTopics(topics).catch((err: unknown) => {
      for (const s of this.states) if (topics.has(s.topic) && s.failingSince !== undefined) s.lastFailure = err
    })
    const stallAt = this.stalledAt()
    await (stallAt === Infinity ? refreshed : new Deadline(stallAt, 'apiTimeoutMs').race(refreshed, now))
  }

  /** When the longest-failing partition reaches apiTimeoutMs (Infinity when none fails). */
  private stalledAt(): number {
    let at = Infinity
    for (const s of this.states) if (s.failingSince !== undefined) at = Math.min(at, s.failingSince + this.options.apiTimeoutMs)
    return at
  }

  /**
   * Throws for a partition whose fetches have failed for apiTimeoutMs: NO_BROKER_AVAILABLE
   * (retriable) when its leader could not be reached, else its last error (e.g. a retriable
   * LEADER_NOT_AVAILABLE). Its count starts again, so an application that iterates on gets
   * the next report after as long again.
   */
  private throwStalled(now: number): void {
    for (const s of this.states) {
      if (s.failingSince === undefined || now - s.failingSince < this.options.apiTimeoutMs) continue
      const last = s.lastFailure
      s.failingSince = now
      throw giveUp(`fetching ${s.topic}/${s.partition}`, `within apiTimeoutMs (${this.options.apiTimeoutMs} ms)`, last)
    }
  }

  /**
   * The first waiting answer's batches, or undefined when none waits. A failed batch reached
   * here is thrown (unless its partition was sought since), and its partition fetched again
   * from its position: every answer of it before the failure has been handed out by now.
   */
  private takeReady(): FetchedBatch[] | undefined {
    for (let answer = this.ready.shift(); answer !== undefined; answer = this.ready.shift()) {
      if (answer.failed === undefined) return answer.batches
      const { state, generation, error } = answer.failed
      if (state.generation !== generation) continue
      refetchFromPosition(state)
      throw error
    }
    return undefined
  }

  /**
   * Starts a fetch for every broker that can take one, and a second, chained, for each that
   * chains; what fetchable() found first.
   */
  private startFetchable(now: number): ReturnType<Fetcher['fetchable']> {
    const found = this.fetchable(now)
    for (const [leader, group] of found.byLeader) this.start(leader, group)
    for (const [leader, group] of this.fetchable(now).byLeader) this.start(leader, group)
    return found
  }

  /** Starts what `leader` can take now: a fetch, and a chained one after it. */
  private startFor(leader: number): void {
    for (let i = 0; i < FETCHES_IN_FLIGHT_PER_BROKER_MAX; i++) {
      const group = this.fetchable(this.cluster.now()).byLeader.get(leader)
      if (group === undefined) return
      this.start(leader, group)
    }
  }

  /**
   * The consumer's partitions that can be fetched now, by leader: positioned, not backing off
   * or out of range, not in flight (or in flight once, to a broker that chains: then chained),
   * led by a broker with room for another fetch (FetchChain.canStart). (O(partitions
   * assigned), a few times per answer.)
   */
  private fetchable(now: number): { byLeader: Map<number, Array<{ state: PartitionState; chained: boolean }>>; leaderless: Set<string>; nextRetryAt: number } {
    const byLeader = new Map<number, Array<{ state: PartitionState; chained: boolean }>>()
    const leaderless = new Set<string>()
    let nextRetryAt = Infinity
    for (const s of this.states) {
      if (s.position === null || this.outOfRange.includes(s)) continue
      if (s.retryAt > now) {
        nextRetryAt = Math.min(nextRetryAt, s.retryAt)
        continue
      }
      const leader = this.cluster.metadata.leaderOf(s.topic, s.partition)
      if (leader < 0 || this.cluster.metadata.needsRefresh(s.topic, now)) leaderless.add(s.topic)
      if (leader < 0 && s.failingSince === undefined) {
        s.failingSince = now
        s.lastFailure = new BitacoraError(ErrorCode.LEADER_NOT_AVAILABLE, `${s.topic}/${s.partition} has no known leader`)
      }
      if (leader < 0) continue
      const kind = this.chain.kind(s, leader)
      if (kind === null || !this.chain.canStart(leader, this.waitingFrom(leader))) continue
      const group = byLeader.get(leader)
      const ask = { state: s, chained: kind === 'chained' }
      if (group === undefined) byLeader.set(leader, [ask])
      else group.push(ask)
    }
    return { byLeader, leaderless, nextRetryAt }
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

  private start(leader: number, group: Array<{ state: PartitionState; chained: boolean }>): void {
    const asked: Asked[] = group.map(({ state: s, chained }) => ({ state: s, offset: s.fetchPosition ?? s.position!, generation: s.generation, chained }))
    this.chain.sent(leader, asked)
    const previousTurn = this.turns.get(leader)
    let endTurn!: () => void
    const turn = new Promise<void>((resolve) => (endTurn = resolve))
    this.turns.set(leader, turn)
    void this.fetch(leader, asked, this.epoch, previousTurn, () => {
      endTurn()
      if (this.turns.get(leader) === turn) this.turns.delete(leader)
    }).finally(() => this.wake())
  }

  /** Answers of `leader` not yet handed out: queued, or arrived and still being validated. */
  private waitingFrom(leader: number): number {
    let n = this.validating.get(leader) ?? 0
    for (const a of this.ready) if (a.leader === leader) n++
    return n
  }

  private async fetch(leader: number, asked: Asked[], epoch: number, previousTurn: Promise<void> | undefined, endTurn: () => void): Promise<void> {
    const startedAt = this.cluster.now()
    let scans: Scanned[] = []
    try {
      let response: bitacora.IFetchResponse | undefined
      let failure: unknown
      try {
        const broker = this.cluster.brokerById(leader)
        if (broker === undefined) throw new ClientError('CONNECTION_FAILED', `no address for leader ${leader}`)
        // A chained fetch may wait on the broker for the long poll of the one before it.
        const waits = asked.some((a) => a.chained) ? 2 : 1
        response = await broker.request('fetch', this.request(asked), { timeoutMs: this.options.requestTimeoutMs + waits * this.options.maxWaitMs })
      } catch (err) {
        failure = err
      }
      await previousTurn // answers of one broker are taken in the order their fetches went out
      this.chain.landed(leader, asked)
      if (response !== undefined) scans = this.scanAll(leader, asked, response)
      else if (!isRetriableError(failure)) this.fatal ??= failure as Error
      else for (const a of asked) this.backOff(a.state, this.cluster.now(), failure, startedAt)
      // Counted as waiting from here, so the next fetches see it.
      if (scans.length > 0) this.validating.set(leader, (this.validating.get(leader) ?? 0) + 1)
    } finally {
      endTurn()
    }
    // The next fetches go out now, before this answer is validated, while the bounds allow
    // (else next() starts them when the application takes one). They carry every partition of
    // this broker that can go, not only this answer's: one that was not in it (backing off,
    // refetching) would otherwise wait for as long as the pipeline runs.
    if (scans.length > 0 && epoch === this.epoch && !this.fatal) this.startFor(leader)
    if (scans.length === 0) return
    const previous = this.decoding.get(leader)
    const decoded = this.decodeAll(leader, scans, previous).finally(() => {
      const n = this.validating.get(leader)! - 1
      if (n === 0) this.validating.delete(leader)
      else this.validating.set(leader, n)
    })
    this.decoding.set(leader, decoded)
    await decoded
    if (this.decoding.get(leader) === decoded) this.decoding.delete(leader)
  }

  /** Validates one answer's batches after the previous answer of the same broker, then queues it. */
  private async decodeAll(
    leader: number, scans: Scanned[],
    previous: Promise<void> | undefined,
  ): Promise<void> {
    if (previous !== undefined) await previous
    const out: FetchedBatch[] = []
    const failures: Answer[] = []
    for (const { a, data, scan } of scans) {
      try {
        out.push(await this.decode(a.state, a.offset, a.generation, data, scan))
      } catch (err) {
        // This partition's answer is lost (its next fetch may already have gone out past it):
        // the failure waits in its place, and when reached is thrown and the partition fetched
        // again from its position (failing again there until the application seeks past). The
        // other partitions of the answer are handed out as usual.
        const error = err instanceof CodecError
          ? new CodecError(err.code, `${a.state.topic}/${a.state.partition} at offset ${a.offset}: ${err.message}; seek past the batch to skip it`, { cause: err })
          : (err as Error)
        failures.push({ leader, failed: { state: a.state, generation: a.generation, error } })
      }
    }
    if (out.length > 0) this.ready.push({ leader, batches: out })
    this.ready.push(...failures)
  }

  /**
   * Per partition: errors handled, where the answer continues the partition checked
   * (answerStart), batch headers read, the fetch position moved past what arrived.
   */
  private scanAll(leader: number, asked: Asked[], response: bitacora.IFetchResponse): Scanned[] {
    const out: Scanned[] = []
    for (const answered of asked) {
      const data = response.topics?.find((t) => t.name === answered.state.topic)?.partitions?.find((p) => (p.index ?? 0) === answered.state.partition)
      if (data === undefined) continue
      const fetchedFrom = data.fetchedFrom == null ? undefined : Number(data.fetchedFrom)
      this.chain.learned(leader, fetchedFrom !== undefined)
      if (!this.accepted(answered.state, answered.offset, answered.generation, data)) continue
      const from = answerStart(answered, answered.chained ? fetchedFrom : undefined)
      if (from === null) {
        refetchFromPosition(answered.state)
        continue
      }
      const a = { ...answered, offset: from }
      const scan = scanPartition(from, data.records ?? new Uint8Array(0))
      const s = a.state
      if (scan.neededBytes > s.maxBytes) s.maxBytes = Math.min(FETCH_PARTITION_BYTES_CEILING, Math.max(scan.neededBytes, s.maxBytes * 2))
      else if (scan.neededBytes > 0 && s.maxBytes >= FETCH_PARTITION_BYTES_CEILING) {
        this.fatal ??= new ClientError('RECORD_TOO_LARGE', `${s.topic}/${s.partition} at ${a.offset} holds a batch over ${FETCH_PARTITION_BYTES_CEILING} bytes`)
      }
      if (s.generation === a.generation) s.fetchPosition = scan.nextOffset
      out.push({ a, data, scan })
    }
    return out
  }

  private request(asked: Asked[]): bitacora.IFetchRequest {
    const topics = new Map<string, bitacora.FetchRequest.IPartitionFetch[]>()
    for (const { state: s, offset, chained } of asked) {
      const partitions = topics.get(s.topic) ?? []
      const currentLeaderEpoch = this.cluster.metadata.leaderEpochOf(s.topic, s.partition)
      partitions.push({ index: s.partition, fetchOffset: offset, partitionMaxBytes: s.maxBytes, currentLeaderEpoch, ...(chained ? { afterPrevious: true } : {}) })
      topics.set(s.topic, partitions)
    }
    return {
      maxWaitMs: this.options.maxWaitMs,
      minBytes: this.options.minBytes,
      maxBytes: this.options.maxBytes,
      topics: [...topics].map(([name, partitions]) => ({ name, partitions })),
      chainable: true,
    }
  }

  /** False (and handled) when the partition's answer is an error. */
  private accepted(s: PartitionState, offset: number, generation: number, data: bitacora.FetchResponse.IPartitionData): boolean {
    const err = errorFromWire(data.error, `fetch ${s.topic}/${s.partition} at ${offset}`)
    if (!err) {
      s.failures = 0
      s.failingSince = s.lastFailure = undefined
      return true
    }
    if (err.code === 'OFFSET_OUT_OF_RANGE') {
      // (A chained fetch in flight behind this one may answer the same.)
      if (s.generation === generation && !this.outOfRange.includes(s)) this.outOfRange.push(s)
    } else if ((err.code === 'NOT_LEADER_OR_FOLLOWER' || err.code === 'FENCED_LEADER_EPOCH') && this.cluster.metadata.applyLeaderHint(s.topic, s.partition, hintOf(data))) {
      // Redirected: the next round goes to the hinted leader, in its epoch, from the same position.
    } else if (isRetriableError(err)) {
      const now = this.cluster.now()
      this.backOff(s, now, err, now)
    } else {
      this.fatal ??= err
    }
    return false
  }

  private async decode(s: PartitionState, offset: number, generation: number, data: bitacora.FetchResponse.IPartitionData, scan: PartitionScan): Promise<FetchedBatch> {
    const segments = await decodePartition(this.codec, scan)
    return new FetchedBatch(s.topic, s.partition, segments, data.highWatermark ?? -1, offset, scan.nextOffset, generation)
  }

  /** A retriable failure of an attempt started at `since`: retry after a back-off, with fresh metadata. */
  private backOff(s: PartitionState, now: number, err: unknown, since: number): void {
    s.failingSince ??= since
    s.lastFailure = err
    this.cluster.metadata.markStale(s.topic)
    s.retryAt = now + this.retry.backoff.delayMs(s.failures++)
  }
}
