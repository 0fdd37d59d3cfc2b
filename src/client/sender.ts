// The producer's I/O half: drains ready batches from the accumulator, encodes them (once;
// retries resend the same bytes), sends one Produce request per leader carrying batches for
// many partitions (several per partition when a backlog has formed, so a busy producer sends
// fewer, larger frames), and settles each batch from its partition's answer: success,
// redirect to the leader hint, retry after back-off (with fresh metadata: a retriable failure
// holds the topic's batches until its metadata is refreshed, so a retry goes to the leader of
// now, not to a broker that is gone), split in two when the broker refuses it as too large, or
// final failure. At most `inFlightMax` requests per broker; a timer wakes it when the next
// batch's linger or back-off ends.
import { isSyncCompression, type Codec, type CompressionCodec } from '../codec/index.js'
import { ErrorCode, writeProduceRequest, type bitacora, type PartitionRecords } from '../protocol/index.js'
import type { ProducerBatch, RecordAccumulator } from './accumulator.js'
import type { RetryPolicy } from './backoff.js'
import { BatchSpares } from './batch-spares.js'
import type { Cluster } from './cluster.js'
import type { FrameEncoder } from './connection.js'
import { BitacoraError, ClientError, errorFromWire, isErrorCode, isRetriableError } from './errors.js'
import {
  ENCODED_SPARES_BYTES_MAX, ENCODED_SPARES_MAX, PRODUCE_LEADER_CHECK_AFTER_MS, PRODUCE_LEADER_CHECK_EVERY_MS, PRODUCER_BATCHES_REMEMBERED_DEFAULT,
} from './limits.js'
import type { Idempotence } from './idempotence.js'
import { hintOf, NO_HINT, type LeaderHint } from './metadata.js'

export type Acks = 0 | 1 | -1

export interface SenderOptions {
  acks: Acks
  /** How long the leader may wait for acks=all (the request's timeout_ms). */
  ackTimeoutMs: number
  requestTimeoutMs: number
  compression: CompressionCodec
  requestBytesMax: number
  inFlightMax: number
  /** The idempotent producer's state (idempotence.ts), or null: batches carry no producer id. */
  idempotence: Idempotence | null
}

export interface SenderHooks {
  /** A batch left the accumulator for the wire (sticky partitioners move on). */
  batchDrained(batch: ProducerBatch): void
  /**
   * A batch is settled for good, acknowledged or failed (release its buffer bytes). A batch split
   * in two settles once both halves have; the halves themselves are reported too.
   */
  batchSettled(batch: ProducerBatch): void
}

export class Sender {
  private readonly inFlight = new Map<number, number>()
  private scheduled = false
  private timer: ReturnType<typeof setTimeout> | undefined
  private timerAt = Infinity
  private refreshing = false
  private lastRefreshAt = -Infinity
  /** Why the last metadata refresh failed (the cause of delivery timeouts meanwhile), until one succeeds. */
  private refreshFailure: Error | undefined
  private stopped = false
  /** An InitProducerId in flight (idempotence), and why the last one failed (a delivery timeout's cause meanwhile). */
  private initializing = false
  private initFailure: Error | undefined
  private lastInitAt = -Infinity
  /** Encoded batches' buffers, reused once settled (as many as about five full requests hold). */
  private readonly spares: BatchSpares

  constructor(
    private readonly accumulator: RecordAccumulator,
    private readonly cluster: Cluster,
    private readonly codec: Codec,
    private readonly options: SenderOptions,
    private readonly retry: RetryPolicy,
    private readonly hooks: SenderHooks,
  ) {
    const batchBytes = accumulator.batchBytes
    this.spares = new BatchSpares(batchBytes, Math.min(ENCODED_SPARES_MAX, Math.floor(ENCODED_SPARES_BYTES_MAX / batchBytes)))
  }

  get inFlightRequests(): number {
    let n = 0
    for (const c of this.inFlight.values()) n += c
    return n
  }

  /** Runs the send loop soon (coalescing every wake of this tick into one run). */
  wake(): void {
    if (this.scheduled || this.stopped) return
    this.scheduled = true
    setTimeout(this.runScheduled, 0)
  }

  /**
   * A batch was opened or filled: runs the sender soon; if a request to its leader is in flight,
   * once that answers or the batch's linger ends, whichever is first (see canSend).
   */
  batchChanged(topic: string, partition: number): void {
    if (this.scheduled) return
    if (this.held(topic, partition)) this.armAt(this.cluster.now() + this.accumulator.lingerMs)
    else this.wake()
  }

  private readonly leaderOf = (topic: string, partition: number) => this.cluster.metadata.leaderOf(topic, partition)
  private readonly held = (topic: string, partition: number) => (this.inFlight.get(this.leaderOf(topic, partition)) ?? 0) > 0
  /** Where a topic's batches go: nowhere (-1, "refresh first") while its metadata is stale after a failure. */
  private readonly routeOf = (topic: string, partition: number) => (this.cluster.metadata.isStale(topic) ? -1 : this.leaderOf(topic, partition))
  /** Batches that wait for metadata: the refresh's end runs the sender, not a timer. */
  private readonly unroutable = (topic: string, partition: number) => this.routeOf(topic, partition) < 0
  /**
   * Partitions whose other batches wait for the answer to one in flight: a batch that goes alone
   * (retried after a too-large refusal), so a batch split again is not overtaken; and with
   * inFlightMax 1 every partition in a request (Kafka's ordering guarantee), so a batch sent to a
   * new leader cannot overtake one still out to the old leader and retried after it.
   */
  private readonly mutedInFlight = new Set<string>()
  private readonly paused = (topic: string, partition: number) => this.mutedInFlight.size > 0 && this.mutedInFlight.has(`${partition}:${topic}`)
  /** Batches that wait for an event (metadata, an answer) rather than a time. */
  private readonly waiting = (topic: string, partition: number) =>
    this.paused(topic, partition) || this.unroutable(topic, partition) || (this.idempotence !== null && !this.idempotence.ready)
  private get idempotence(): Idempotence | null {
    return this.options.idempotence
  }
  /** Batches of the partition that may be drained now (idempotence: in flight per partition, retries first). */
  private readonly room = (head: ProducerBatch) => this.idempotence?.room(head.topic, head.partition, head, this.rememberedBy(head)) ?? Number.POSITIVE_INFINITY
  /** Idempotence: a batch joins the one before it in a partition entry only if its sequence continues that one's. */
  private readonly follows = (prev: ProducerBatch, next: ProducerBatch) => this.idempotence?.continues(prev, next) ?? true
  /**
   * How many batches per producer the partition's leader remembers (its handshake; Kafka's 5
   * until known). Runs inside the drain, in a timer callback: a lookup only, which creates no
   * Broker and cannot throw (brokerById would, once the cluster is closed).
   */
  private rememberedBy(head: ProducerBatch): number {
    return this.cluster.handshakeOf(this.leaderOf(head.topic, head.partition))?.producerBatchesRemembered ?? PRODUCER_BATCHES_REMEMBERED_DEFAULT
  }

  /**
   * Whether a request for `leader` may go now, with `ready` batches for it. Always when none is
   * in flight; while one is (up to the in-flight limit), only one at least half full, or whose
   * oldest batch's linger is over. Smaller ones wait for the answer, which runs the sender:
   * everything ready by then leaves in one larger request. Each request costs client and
   * broker CPU, so a producer bound by it sends more (100-byte records, acks=1: 513 k -> 565 k
   * records/s; 1 KiB: +12 %), and no batch waits past its linger: with lingerMs 0 nothing
   * waits at all.
   */
  private canSend(leader: number, ready: { bytes: number; openedAt: number } | undefined, now: number): boolean {
    const n = this.inFlight.get(leader) ?? 0
    if (n === 0) return true
    if (n >= this.options.inFlightMax || ready === undefined) return false
    return ready.bytes * 2 >= this.options.requestBytesMax || now - ready.openedAt >= this.accumulator.lingerMs
  }

  /** Made once: a closure inside wake() would cost a context allocation on every call (every record). */
  private readonly runScheduled = () => {
    this.scheduled = false
    this.run()
  }

  stop(): void {
    this.stopped = true
    clearTimeout(this.timer)
  }

  private run(): void {
    if (this.stopped) return
    const now = this.cluster.now()
    for (const b of this.accumulator.expire(now)) this.settle(b, deliveryTimeout(b, b.lastError ?? this.refreshFailure ?? this.initFailure))
    const idem = this.idempotence
    if (idem !== null && this.initDue()) this.initProducerId(now, idem)
    // Several rounds: a leader with more ready batches than one request holds gets several
    // requests, up to its in-flight limit. Bounded, since every round sends or stops.
    for (let round = 0; round < this.options.inFlightMax; round++) {
      const ready = this.accumulator.readyByLeader(now, this.routeOf, this.paused)
      const canSend = (leader: number) => this.canSend(leader, ready.get(leader), now)
      const drained = this.accumulator.drain(now, this.routeOf, canSend, this.options.requestBytesMax, this.paused, this.room, this.follows)
      if (drained.requests.length === 0) break
      for (const r of drained.requests) {
        for (const b of r.batches) {
          idem?.sent(b) // sequenced now, in queue order
          this.hooks.batchDrained(b)
        }
        void this.send(r.leader, r.batches)
      }
    }
    // Queues held back for metadata, ready or still backing off: the refresh runs meanwhile.
    const leaderless = this.accumulator.topicsHeldBy(this.unroutable)
    if (leaderless.size > 0) this.refreshMetadata(now, leaderless)
    this.arm(now, leaderless.size > 0)
  }

  /**
   * Sets the timer for the next batch that becomes ready (and, when some had no leader, the next
   * metadata retry; when the producer needs its id or next epoch, the next InitProducerId); for
   * a leader with a request in flight, for its batches' linger deadline (that answer runs the
   * sender too).
   */
  private arm(now: number, leaderless: boolean): void {
    let at = this.accumulator.nextReadyAt(now, this.held, this.waiting)
    if (leaderless && !this.refreshing) at = Math.min(at, Math.max(now, this.lastRefreshAt + this.retry.backoff.initialMs))
    // A bump asked for within the back-off of the last InitProducerId (a batch failed for good
    // just after the producer started) waits for that back-off's end, not for a batch's deadline.
    if (this.initDue()) at = Math.min(at, Math.max(now, this.lastInitAt + this.retry.backoff.initialMs))
    this.armAt(at)
  }

  /** Idempotence: an InitProducerId should go (no id yet, or a bump with nothing in flight) and none is out. */
  private initDue(): boolean {
    const idem = this.idempotence
    return idem !== null && !idem.ready && (idem.producerId < 0 || idem.idle) && !this.initializing
  }

  private armAt(at: number): void {
    if (at === Infinity || at >= this.timerAt) return
    const now = this.cluster.now()
    clearTimeout(this.timer)
    this.timerAt = at
    this.timer = setTimeout(() => {
      this.timerAt = Infinity
      this.run()
    }, Math.max(0, at - now))
  }

  /**
   * Gets a producer id (or, after a failure that needs it, the next epoch of ours: KIP-360) from
   * any broker; batches wait meanwhile. At most once per retry back-off; runs the sender after.
   */
  private initProducerId(now: number, idem: Idempotence): void {
    if (this.initializing || now - this.lastInitAt < this.retry.backoff.initialMs) return
    this.initializing = true
    this.lastInitAt = now
    const body = idem.producerId < 0 ? { producerId: -1, producerEpoch: -1 } : { producerId: idem.producerId, producerEpoch: idem.epoch }
    this.cluster.anyBroker()
      .then((broker) => broker.request('initProducerId', body, { timeoutMs: this.options.requestTimeoutMs }))
      .then((r) => {
        idem.initialized(Number(r.producerId), r.producerEpoch ?? 0)
        this.initFailure = undefined
      }, (err: unknown) => {
        this.initFailure = err as Error // tried again after the back-off; batches fail at their delivery deadline
      })
      .finally(() => {
        this.initializing = false
        this.wake()
        if (this.idempotence?.ready !== true) this.armAt(this.cluster.now() + this.retry.backoff.initialMs)
      })
  }

  /** Refreshes the metadata of `topics` (at most once per retry back-off), then runs again. */
  private refreshMetadata(now: number, topics: Iterable<string>): void {
    if (this.refreshing || now - this.lastRefreshAt < this.retry.backoff.initialMs) return
    this.refreshing = true
    this.lastRefreshAt = now
    this.cluster.refreshTopics(topics).then(() => {
      this.refreshFailure = undefined
    }, (err: unknown) => {
      // The next run tries again after the back-off; batches fail at their delivery deadline.
      this.refreshFailure = err as Error
    }).finally(() => {
      this.refreshing = false
      this.wake()
    })
  }

  private async send(leader: number, batches: ProducerBatch[]): Promise<void> {
    this.inFlight.set(leader, (this.inFlight.get(leader) ?? 0) + 1)
    const muteAll = this.options.inFlightMax === 1
    let muted: string[] | undefined
    for (const b of batches) if (muteAll || b.sendAlone) (muted ??= []).push(`${b.partition}:${b.topic}`)
    if (muted) for (const key of muted) this.mutedInFlight.add(key)
    try {
      const ready = await this.encodeAll(batches)
      if (ready.length === 0) return
      const broker = this.cluster.brokerById(leader)
      if (broker === undefined) throw new ClientError('CONNECTION_FAILED', `metadata names leader ${leader} but no broker with that id`)
      const frame = produceFrame(ready, this.options)
      if (this.options.acks === 0) {
        await broker.sendOnlyFrame('produce', frame)
        for (const b of ready) this.settle(b, null, -1)
        return
      }
      const epochs = ready.map((b) => this.cluster.metadata.leaderEpochOf(b.topic, b.partition))
      const request = broker.requestFrame('produce', frame, { timeoutMs: this.options.requestTimeoutMs + this.options.ackTimeoutMs })
      const stopWatching = new AbortController()
      let response: Awaited<typeof request>
      try {
        response = await Promise.race([request, this.leaderMoved(ready, leader, epochs, stopWatching.signal)])
      } finally {
        stopWatching.abort()
      }
      await this.handleResponse(ready, response)
    } catch (err) {
      if (err instanceof LeaderMoved) {
        // Metadata is fresh (it named the new leader): straight back to the queue, no back-off.
        this.cluster.brokerById(leader)?.reportFailure() // stalled: others are asked first for a while
        const now = this.cluster.now()
        for (let i = batches.length - 1; i >= 0; i--) {
          const b = batches[i]
          if (b.settled) continue
          b.attempts++
          b.lastError = err
          this.accumulator.reenqueue(b, now)
        }
        return
      }
      // In reverse: a partition's batches re-enter its queue head first to last, in order.
      for (let i = batches.length - 1; i >= 0; i--) if (!batches[i].settled) this.failed(batches[i], err as Error, NO_HINT)
    } finally {
      if (this.idempotence !== null) for (const b of batches) this.idempotence.returned(b)
      this.inFlight.set(leader, this.inFlight.get(leader)! - 1)
      if (muted) for (const key of muted) this.mutedInFlight.delete(key)
      this.wake()
    }
  }

  /**
   * Rejects (retriable) once metadata names, for a partition of the request, a newer leader epoch
   * on another broker than `leader`: the request is then abandoned (its answer, if one ever comes,
   * is ignored) and its batches retried on the new leader. Looks only after
   * PRODUCE_LEADER_CHECK_AFTER_MS without an answer, asking another broker than `leader` (one
   * that stopped would hold the Metadata request too) for the request's topics each time.
   * With idempotence the retry is safe: a batch the old leader did append is a duplicate there.
   */
  private leaderMoved(batches: readonly ProducerBatch[], leader: number, epochs: readonly number[], stop: AbortSignal): Promise<never> {
    return new Promise<never>((_, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined
      let attempt = 0
      const check = () => {
        if (stop.aborted || this.stopped) return
        const topics = [...new Set(batches.map((b) => b.topic))]
        this.lookAgain(topics, leader, attempt++).catch(() => undefined).then(() => {
          if (stop.aborted) return
          const moved = batches.findIndex((b, i) =>
            this.cluster.metadata.leaderEpochOf(b.topic, b.partition) > epochs[i] && this.cluster.metadata.leaderOf(b.topic, b.partition) !== leader)
          if (moved >= 0) {
            const b = batches[moved]
            reject(new LeaderMoved(`${b.topic}/${b.partition} has a new leader (epoch ${this.cluster.metadata.leaderEpochOf(b.topic, b.partition)}) while a produce request to broker ${leader} went unanswered; retried there`))
            return
          }
          timer = setTimeout(check, PRODUCE_LEADER_CHECK_EVERY_MS)
        }, () => undefined)
      }
      timer = setTimeout(check, PRODUCE_LEADER_CHECK_AFTER_MS)
      stop.addEventListener('abort', () => clearTimeout(timer), { once: true })
    })
  }

  /** Metadata for `topics` from a broker other than `avoid` (in turn over the others), into the cache. */
  private async lookAgain(topics: string[], avoid: number, attempt: number): Promise<void> {
    const others = this.cluster.metadata.brokerList().filter((b) => b.id !== avoid)
    if (others.length === 0) return
    const broker = this.cluster.brokerAt(others[attempt % others.length].url)
    const response = await broker.request('metadata', { topics }, { timeoutMs: PRODUCE_LEADER_CHECK_EVERY_MS })
    this.cluster.metadata.update(response, this.cluster.now())
  }

  /** Encodes batches not yet encoded (a retry resends its bytes); a batch the codec refuses fails alone. */
  private async encodeAll(batches: ProducerBatch[]): Promise<ProducerBatch[]> {
    const ready: ProducerBatch[] = []
    const compression = this.options.compression
    // none, lz4, snappy and zstd encode synchronously in WASM; gzip waits for the platform.
    const sync = isSyncCompression(compression)
    for (const b of batches) {
      try {
        const idem = this.idempotence
        if (b.encoded === undefined) {
          const staged = b.takeStaged()
          try {
            const producer = idem === null ? {} : { producerId: idem.producerId, producerEpoch: idem.epoch, baseSequence: idem.sequenceOf(b) }
            const options = { compression, allocate: this.spares.take, ...producer }
            b.encoded = sync ? this.codec.encodeStaged(staged, options) : await this.codec.encodeStagedAsync(staged, options)
          } finally {
            this.accumulator.recycle(staged)
          }
        }
        else if (idem !== null && !idem.stamped(b.encoded, b)) idem.stamp(this.codec, b.encoded, b) // sequenced again after an epoch bump
        ready.push(b)
      } catch (err) {
        this.settle(b, err as Error)
      }
    }
    return ready
  }

  private async handleResponse(batches: ProducerBatch[], response: bitacora.IProduceResponse): Promise<void> {
    const results = new Map<string, bitacora.ProduceResponse.IPartitionResult>()
    for (const t of response.topics ?? []) for (const p of t.partitions ?? []) results.set(`${p.index ?? 0}:${t.name}`, p)
    // A partition's batches were appended together, in order: the first at baseOffset, each
    // next one after the records of those before it.
    const nextOffset = new Map<string, number>()
    /** Idempotence: each batch's own base offset (a duplicate's is its original's), by its place among its partition's batches here. */
    const batchIndex = new Map<string, number>()
    const failures: Array<{ b: ProducerBatch; err: Error; hint: LeaderHint }> = []
    for (const b of batches) {
      const key = `${b.partition}:${b.topic}`
      const r = results.get(key)
      const err = r === undefined
        ? new ClientError('PROTOCOL_ERROR', `produce response has no result for ${b.topic}/${b.partition}`)
        : errorFromWire(r.error, `produce to ${b.topic}/${b.partition}`)
      if (err) {
        failures.push({ b, err, hint: hintOf(r) })
        continue
      }
      const i = batchIndex.get(key) ?? 0
      batchIndex.set(key, i + 1)
      const own = r!.batchBaseOffsets
      const base = own != null && own.length > i ? Number(own[i]) : nextOffset.get(key) ?? r!.baseOffset ?? -1
      this.settle(b, null, base)
      nextOffset.set(key, base < 0 ? -1 : base + b.recordCount)
    }
    if (failures.length === 0) return
    const batchesOf = new Map<string, number>()
    for (const b of batches) batchesOf.set(`${b.partition}:${b.topic}`, (batchesOf.get(`${b.partition}:${b.topic}`) ?? 0) + 1)
    // In reverse: a partition's batches re-enter its queue head first to last, in order.
    for (let i = failures.length - 1; i >= 0; i--) {
      const { b, err, hint } = failures[i]
      const withOthers = batchesOf.get(`${b.partition}:${b.topic}`)! > 1
      if (isErrorCode(err, 'MESSAGE_TOO_LARGE') && (withOthers || b.recordCount > 1)) await this.retrySmaller(b, err, withOthers)
      else if (this.idempotence !== null && this.sequenceRefused(b, err, this.idempotence)) continue
      else this.failed(b, err, hint)
    }
  }

  /**
   * The broker refused a batch as too large (max.message.bytes, or larger than a segment). As
   * Kafka's producer does, a batch of several records goes again as two halves; one refused
   * with others of its partition first goes again alone, since the answer is per partition and
   * it may not be the one too large. Each split halves the records, so this ends: a single
   * record still too large fails with the broker's error. Neither counts as a retry.
   */
  private async retrySmaller(b: ProducerBatch, err: Error, withOthers: boolean): Promise<void> {
    if (withOthers) {
      b.sendAlone = true
      this.accumulator.reenqueue(b, this.cluster.now())
      return
    }
    const encoded = b.encoded!
    let halves: [ProducerBatch, ProducerBatch]
    try {
      halves = b.split((isSyncCompression(this.options.compression) ? this.codec.decodeBatch(encoded) : await this.codec.decodeBatchAsync(encoded)).records)
    } catch (decodeErr) {
      this.settle(b, new ClientError('PROTOCOL_ERROR', `cannot split the batch the broker refused (${err.message})`, { cause: decodeErr }))
      return
    }
    // The halves copied the records: the encoded bytes may serve another batch.
    this.spares.give(encoded)
    b.encoded = undefined
    void b.done.then(() => this.hooks.batchSettled(b))
    this.idempotence?.split(b, halves)
    const now = this.cluster.now()
    this.accumulator.reenqueue(halves[1], now)
    this.accumulator.reenqueue(halves[0], now)
  }

  /**
   * Idempotence: a refusal about sequences or the producer's epoch. A gap refused for a batch
   * that a later acknowledged batch of its epoch follows is no gap: the batch is in the log, and
   * the leader no longer remembers it (Idempotence.writtenAlready); it is settled as written, at
   * an offset nobody can tell any more (-1). A gap that an earlier batch still unwritten explains
   * goes again after it; otherwise (the leader forgot the producer, or lost the sequences) the
   * producer bumps its epoch and sequences every unacknowledged batch again. Either way the
   * batch goes again (until its delivery deadline). False: not such a refusal.
   */
  private sequenceRefused(b: ProducerBatch, err: Error, idem: Idempotence): boolean {
    const gap = isErrorCode(err, 'OUT_OF_ORDER_SEQUENCE_NUMBER')
    if (!gap && !isErrorCode(err, 'UNKNOWN_PRODUCER_ID') && !isErrorCode(err, 'INVALID_PRODUCER_EPOCH')) return false
    if (gap && idem.writtenAlready(b)) {
      // Written again under a new epoch it would be a duplicate (the leader would take it as new).
      this.settle(b, null, -1)
      return true
    }
    if (!gap || !idem.earlierUnsettled(b)) idem.bumpNeeded = true
    b.attempts++
    b.lastError = err
    const now = this.cluster.now()
    if (b.deadline <= now) this.settle(b, deliveryTimeout(b, err))
    else this.accumulator.reenqueue(b, now)
    return true
  }

  /** A failed attempt: redirect, retry after back-off (metadata refreshed meanwhile), or fail the batch for good. */
  private failed(b: ProducerBatch, err: Error, leaderHint: LeaderHint): void {
    b.attempts++
    b.lastError = err
    const now = this.cluster.now()
    const code = (err as { code?: string }).code
    if (code === 'NOT_LEADER_OR_FOLLOWER' && b.attempts <= this.retry.retries) {
      if (this.cluster.metadata.applyLeaderHint(b.topic, b.partition, leaderHint)) {
        this.accumulator.reenqueue(b, now) // the hint names a newer leader: go there at once
        return
      }
    }
    const delay = this.retry.nextDelayMs(err, b.attempts, now, b.deadline)
    if (delay === null) {
      this.settle(b, b.deadline <= now ? deliveryTimeout(b, err) : err)
      return
    }
    // A retriable error may mean our routing is wrong (a leader moved, a broker is gone): the
    // topic's batches wait for fresh metadata, fetched during the back-off.
    if (isRetriableError(err)) {
      this.cluster.metadata.markStale(b.topic)
      this.refreshMetadata(now, [b.topic])
    }
    this.accumulator.reenqueue(b, now + delay)
  }

  private settle(b: ProducerBatch, err: Error | null, baseOffset = -1): void {
    if (err) b.fail(err)
    else b.complete(baseOffset)
    this.idempotence?.settled(b, err === null)
    // Its bytes are in no frame any more: frames are written (copied) when sent.
    if (b.encoded !== undefined) this.spares.give(b.encoded)
    b.encoded = undefined
    this.hooks.batchSettled(b)
  }
}

/** A request abandoned because its partitions' leader moved while it went unanswered (Sender.leaderMoved). */
class LeaderMoved extends BitacoraError {
  constructor(message: string) {
    super(ErrorCode.NOT_LEADER_OR_FOLLOWER, message)
  }
}

function deliveryTimeout(b: ProducerBatch, cause?: Error): ClientError {
  const within = `deliveryTimeoutMs (${b.deadline - b.createdAt} ms)`
  const why = cause ? `: ${cause.message}` : ''
  return new ClientError('DELIVERY_TIMEOUT', `${b.recordCount} records for ${b.topic}/${b.partition} not acknowledged within ${within}${why}`, { cause })
}

/** The request's frame writer: every partition's batches, in order, copied once into the frame. */
function produceFrame(batches: ProducerBatch[], o: SenderOptions): FrameEncoder {
  const topics = new Map<string, Map<number, Uint8Array[]>>()
  for (const b of batches) {
    let partitions = topics.get(b.topic)
    if (partitions === undefined) topics.set(b.topic, (partitions = new Map()))
    let list = partitions.get(b.partition)
    if (list === undefined) partitions.set(b.partition, (list = []))
    list.push(b.encoded!)
  }
  const spec = [...topics].map(([name, partitions]) => ({
    name,
    partitions: [...partitions].map(([index, list]): PartitionRecords => ({ index, batches: list })),
  }))
  return (correlationId, allocate) => writeProduceRequest({ correlationId, acks: o.acks, timeoutMs: o.ackTimeoutMs, topics: spec }, allocate)
}
