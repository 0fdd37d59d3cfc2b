// The producer's record accumulator: one queue of batches per partition. Records join the
// partition's open batch until it reaches `batchBytes` (estimated); a batch is ready to send
// when it is full, has lingered `lingerMs`, a flush asked for it, or (after a failure) its
// back-off is over. drain() takes ready batches grouped by leader, one request's worth per
// leader: first one batch per partition, rotating the start so no partition starves, then
// more ready batches of those partitions while the request has room (a backlog leaves in
// fewer, larger requests). Queues stay in the map when empty, keeping the rotation order
// stable; there is one per partition produced to, so they are bounded by the partitions in
// the metadata. Records are staged into their batch as they arrive (ProducerBatch.add), so a
// queued record costs its bytes and its callback, nothing more. Pure: time is passed in,
// routing and capacity are callbacks.
import type { DecodedRecord, RecordHeader } from '../codec/index.js'
import { BATCH_BYTES_MAX, BATCH_HEADER_BYTES, RecordBatchBuilder } from '../codec/index.js'
import type { RecordMetadata } from './records.js'
import { STAGED_BYTES_INITIAL, STAGING_SPARES_BYTES_MAX, STAGING_SPARES_MAX } from './limits.js'

/** How a record's send settles: (null, metadata) once acknowledged, (error) once failed for good. */
export type SendCallback = (error: Error | null, metadata?: RecordMetadata) => void

export class ProducerBatch {
  /** One per record, in record order. */
  private readonly callbacks: SendCallback[] = []
  /** The records, staged as they arrive; dropped once encoded. */
  private builder: RecordBatchBuilder | undefined
  sizeBytes = BATCH_HEADER_BYTES
  /** No more appends: full, handed to the sender, or back for a retry. */
  closed = false
  flush = false
  /** Failed attempts so far. */
  attempts = 0
  retryAt = 0
  /** The encoded batch, kept so a retry resends the very same bytes. */
  encoded: Uint8Array | undefined
  /** Goes in a request with no other batch of its partition (the broker answers per partition). */
  sendAlone = false
  /** Idempotence (idempotence.ts): where its records start in the partition's sequence (-1: not yet), and in which epoch. */
  ordinal = -1
  sequencedEpoch = -1
  /** The last failed attempt's error: the cause of a delivery timeout. */
  lastError: Error | undefined
  settled = false
  readonly done: Promise<void>
  private markDone!: () => void
  /** The two batches this one was split into (split()), which settle its records. */
  private halves: [ProducerBatch, ProducerBatch] | undefined

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly createdAt: number,
    /** Past this the batch fails with DELIVERY_TIMEOUT instead of being (re)sent. */
    readonly deadline: number,
    stagedBytesMax: number,
    stagingBuffer?: Uint8Array,
    /** Where the staging buffer starts (it doubles up to stagedBytesMax as records arrive). */
    stagedBytesInitial = STAGED_BYTES_INITIAL,
  ) {
    this.builder = new RecordBatchBuilder(Math.min(stagedBytesInitial, stagedBytesMax), stagedBytesMax, stagingBuffer)
    this.done = new Promise((resolve) => (this.markDone = resolve))
  }

  get recordCount(): number {
    return this.callbacks.length
  }

  /** Stages one record (the accumulator chose this batch for it and counted its size). */
  add(key: Uint8Array | null, value: Uint8Array | null, headers: readonly RecordHeader[] | undefined, timestamp: number, callback: SendCallback): void {
    if (this.builder === undefined) throw new Error('ProducerBatch.add after the batch was encoded')
    this.builder.append(key, value, headers, timestamp)
    this.callbacks.push(callback)
  }

  /** The staged records, once, for encoding (the staging buffer is released with the builder). */
  takeStaged(): RecordBatchBuilder {
    const b = this.builder
    if (b === undefined) throw new Error('ProducerBatch staged records were already taken')
    this.builder = undefined
    return b
  }

  /**
   * Splits a batch the broker refused as too large (it holds at least two records) into two
   * batches of half its records each, decoded from its encoded bytes (its staged ones are
   * gone), each taking its records' callbacks and going alone to its partition. This batch
   * counts as settled at once (its records are the halves' now); its `done` waits for both.
   */
  split(records: readonly DecodedRecord[]): [ProducerBatch, ProducerBatch] {
    const n = this.callbacks.length
    if (n < 2 || records.length !== n || this.settled) throw new Error(`cannot split a batch of ${n} records (${records.length} decoded)`)
    const mid = n >> 1
    const payloadBytes = this.sizeBytes - BATCH_HEADER_BYTES
    const firstBytes = Math.round((payloadBytes * mid) / n)
    this.halves = [this.part(records, 0, mid, firstBytes), this.part(records, mid, n, payloadBytes - firstBytes)]
    this.settled = true
    void Promise.all(this.halves.map((h) => h.done)).then(this.markDone)
    return this.halves
  }

  private part(records: readonly DecodedRecord[], from: number, to: number, payloadBytes: number): ProducerBatch {
    const part = new ProducerBatch(this.topic, this.partition, this.createdAt, this.deadline, BATCH_BYTES_MAX)
    for (let i = from; i < to; i++) part.add(records[i].key, records[i].value, records[i].headers, records[i].timestamp, this.callbacks[i])
    part.sizeBytes = BATCH_HEADER_BYTES + payloadBytes
    part.closed = true
    part.flush = this.flush
    part.attempts = this.attempts
    part.sendAlone = true
    return part
  }

  /** Settles each record with its offset (baseOffset + index; -1 when not known, acks=0). */
  complete(baseOffset: number): void {
    if (this.settled) return
    this.settled = true
    const cbs = this.callbacks
    for (let i = 0; i < cbs.length; i++) {
      settleOne(cbs[i], null, { topic: this.topic, partition: this.partition, offset: baseOffset < 0 ? -1 : baseOffset + i })
    }
    this.markDone()
  }

  fail(err: Error): void {
    if (this.halves !== undefined) for (const h of this.halves) h.fail(err)
    if (this.settled) return
    this.settled = true
    for (const cb of this.callbacks) settleOne(cb, err, undefined)
    this.markDone()
  }
}

/**
 * Calls one record's callback. A callback that throws must not leave the batch's other records
 * unsettled or the producer's state half-updated: its error is rethrown on its own, outside
 * this call stack (an uncaught exception, as a throwing event listener's would be).
 */
export function settleOne(cb: SendCallback, err: Error | null, meta: RecordMetadata | undefined): void {
  try {
    cb(err, meta)
  } catch (thrown) {
    queueMicrotask(() => {
      throw thrown
    })
  }
}

export interface AccumulatorOptions {
  batchBytes: number
  lingerMs: number
  deliveryTimeoutMs: number
}

export interface AppendResult {
  /** The batch the record goes into: the caller stages it there (ProducerBatch.add) at once. */
  batch: ProducerBatch
  /** True when this append closed a batch (the partition's batch filled): sticky partitioners move on. */
  batchClosed: boolean
  /** True when the batch was opened for this record. */
  created: boolean
}

export interface DrainedRequest {
  leader: number
  batches: ProducerBatch[]
}

export interface DrainResult {
  requests: DrainedRequest[]
  /** Topics with a ready batch but no known leader: refresh their metadata. */
  leaderless: Set<string>
}

const keyOf = (topic: string, partition: number) => `${partition}:${topic}`
const never = () => false
const unlimited = () => Number.POSITIVE_INFINITY
const always = () => true

export class RecordAccumulator {
  /** Queues in a stable order, for drain's rotation. */
  private readonly queues = new Map<string, ProducerBatch[]>()
  /** The same queues by topic, then partition: append's lookup without building a key. */
  private readonly byTopic = new Map<string, ProducerBatch[][]>()
  private drainStart = 0
  /** Flushes in progress: while any are, new batches do not linger. */
  private flushes = 0
  /** Staging buffers of batchBytes each, free for the next batches (at most sparesMax). */
  private readonly spares: Uint8Array[] = []
  private readonly sparesMax: number
  /** append's answer, reused: valid until the next append (one allocation fewer per record). */
  private readonly appended: AppendResult = { batch: undefined as unknown as ProducerBatch, batchClosed: false, created: false }

  constructor(private readonly options: AccumulatorOptions) {
    if (!(options.batchBytes > BATCH_HEADER_BYTES)) throw new RangeError(`batchBytes must exceed the ${BATCH_HEADER_BYTES}-byte batch header`)
    if (!(options.lingerMs >= 0)) throw new RangeError('lingerMs must be >= 0')
    this.sparesMax = Math.min(STAGING_SPARES_MAX, Math.floor(STAGING_SPARES_BYTES_MAX / options.batchBytes))
  }

  get batchBytes(): number {
    return this.options.batchBytes
  }

  get lingerMs(): number {
    return this.options.lingerMs
  }

  /** Batches waiting here (not the ones in flight). */
  get batchCount(): number {
    let n = 0
    for (const q of this.queues.values()) n += q.length
    return n
  }

  /**
   * Chooses the batch for a record of `sizeBytes` (estimated) on topic/partition, opening one
   * when the partition has none open or the record does not fit; the caller then stages the
   * record in it. The result is reused by the next call.
   */
  append(topic: string, partition: number, sizeBytes: number, now: number): AppendResult {
    const queue = this.queueFor(topic, partition)
    const out = this.appended
    const last = queue[queue.length - 1]
    if (last && !last.closed && last.sizeBytes + sizeBytes <= this.options.batchBytes) {
      this.add(last, sizeBytes)
      out.batch = last
      out.batchClosed = last.closed
      out.created = false
      return out
    }
    let batchClosed = false
    if (last && !last.closed) {
      last.closed = true
      batchClosed = true
    }
    // A record larger than a batch goes alone, in a batch staged to its size.
    const stagedMax = Math.max(this.options.batchBytes, BATCH_HEADER_BYTES + sizeBytes)
    const spare = stagedMax === this.options.batchBytes ? this.spares.pop() : undefined
    // A partition with a batch still queued is backlogged: this one will fill too, so its
    // staging buffer starts whole rather than growing (and copying) through every doubling.
    const initial = last !== undefined ? stagedMax : STAGED_BYTES_INITIAL
    const batch = new ProducerBatch(topic, partition, now, now + this.options.deliveryTimeoutMs, stagedMax, spare, initial)
    batch.flush = this.flushes > 0
    this.add(batch, sizeBytes)
    queue.push(batch)
    out.batch = batch
    out.batchClosed = batchClosed || batch.closed
    out.created = true
    return out
  }

  private queueFor(topic: string, partition: number): ProducerBatch[] {
    let partitions = this.byTopic.get(topic)
    if (partitions === undefined) this.byTopic.set(topic, (partitions = []))
    let queue = partitions[partition]
    if (queue === undefined) {
      queue = []
      partitions[partition] = queue
      this.queues.set(keyOf(topic, partition), queue)
    }
    return queue
  }

  /** Takes back the staging buffer of an encoded batch, for a later batch (whole-batch-size buffers only). */
  recycle(staged: RecordBatchBuilder): void {
    const buf = staged.release()
    if (buf.length === this.options.batchBytes && this.spares.length < this.sparesMax) this.spares.push(buf)
  }

  /**
   * Every batch here, and every one opened until the matching endFlush(), is sent without
   * waiting for linger (flush, close; flushes may overlap).
   */
  beginFlush(): void {
    this.flushes++
    this.flushAll()
  }

  endFlush(): void {
    this.flushes--
  }

  /** Every batch here is sent without waiting for linger. */
  flushAll(): void {
    for (const q of this.queues.values()) for (const b of q) b.flush = true
  }

  /**
   * Puts a failed batch back at the head of its partition's queue, to go again at `retryAt`; a
   * sequenced one (idempotence) before the first batch sequenced after it, or not yet sequenced.
   */
  reenqueue(batch: ProducerBatch, retryAt: number): void {
    batch.closed = true
    batch.retryAt = retryAt
    const queue = this.queueFor(batch.topic, batch.partition)
    if (batch.ordinal < 0) {
      queue.unshift(batch)
      return
    }
    let at = 0
    // Ordinals compare within one epoch; a batch of an older one (not yet sequenced again) goes after.
    while (at < queue.length && queue[at].sequencedEpoch === batch.sequencedEpoch && queue[at].ordinal >= 0 && queue[at].ordinal < batch.ordinal) at++
    queue.splice(at, 0, batch)
  }

  /** Removes and returns the batches whose delivery deadline passed (they never got an answer). */
  expire(now: number): ProducerBatch[] {
    const out: ProducerBatch[] = []
    for (const q of this.queues.values()) {
      // In place: the queue arrays are shared with byTopic.
      let kept = 0
      for (const b of q) {
        if (b.deadline <= now) out.push(b)
        else q[kept++] = b
      }
      q.length = kept
    }
    return out
  }

  /** Removes and returns every batch (close without flush, fatal errors). */
  takeAll(): ProducerBatch[] {
    const out = [...this.queues.values()].flat()
    this.queues.clear()
    this.byTopic.clear()
    return out
  }

  isReady(batch: ProducerBatch, queueLength: number, now: number): boolean {
    if (now < batch.retryAt) return false
    return batch.closed || batch.flush || queueLength > 1 || now - batch.createdAt >= this.options.lingerMs
  }

  /**
   * Takes ready head batches, grouped by leader, at most `requestBytesMax` (estimated) per
   * leader but always at least one batch: one per partition first, then further ready batches
   * of the same partitions, in queue order, while they fit. Partitions whose leader is unknown
   * (-1), `paused` ones (a batch of theirs that must not be overtaken is in flight) and those
   * whose leader cannot take another request (`canSend` false) stay queued. `room` caps the
   * batches taken from a partition (idempotence: batches in flight per partition), and a further
   * batch joins the one before it only if `follows` says so (idempotence: its sequence continues
   * that one's, or the broker refuses the partition's entry whole).
   */
  drain(
    now: number,
    leaderOf: (topic: string, partition: number) => number,
    canSend: (leader: number) => boolean,
    requestBytesMax: number,
    paused: (topic: string, partition: number) => boolean = never,
    room: (head: ProducerBatch) => number = unlimited,
    follows: (prev: ProducerBatch, next: ProducerBatch) => boolean = always,
  ): DrainResult {
    const byLeader = new Map<number, { batches: ProducerBatch[]; bytes: number }>()
    const leaderless = new Set<string>()
    const keys = [...this.queues.keys()]
    if (keys.length === 0) return { requests: [], leaderless }
    const start = this.drainStart++ % keys.length
    const taken: Array<{ queue: ProducerBatch[]; request: { batches: ProducerBatch[]; bytes: number }; alone: boolean; room: number; last: ProducerBatch }> = []
    for (let i = 0; i < keys.length; i++) {
      const key = keys[(start + i) % keys.length]
      const queue = this.queues.get(key)!
      const head = queue[0]
      if (head === undefined) continue
      if (!this.isReady(head, queue.length, now) || paused(head.topic, head.partition)) continue
      const batchesMax = room(head)
      if (batchesMax < 1) continue
      const leader = leaderOf(head.topic, head.partition)
      if (leader < 0) {
        leaderless.add(head.topic)
        continue
      }
      let request = byLeader.get(leader)
      if (request === undefined) {
        if (!canSend(leader)) continue
        byLeader.set(leader, (request = { batches: [], bytes: 0 }))
      }
      if (request.batches.length > 0 && request.bytes + head.sizeBytes > requestBytesMax) continue
      this.take(queue, request)
      taken.push({ queue, request, alone: head.sendAlone, room: batchesMax - 1, last: head })
    }
    // Room left: more of the same partitions' ready batches (their order in the request is theirs in the queue).
    for (const t of taken) {
      const { queue, request, alone } = t
      if (alone) continue
      while (t.room-- > 0 && queue.length > 0 && !queue[0].sendAlone && this.isReady(queue[0], queue.length, now) &&
        request.bytes + queue[0].sizeBytes <= requestBytesMax && follows(t.last, queue[0])) {
        t.last = queue[0]
        this.take(queue, request)
      }
    }
    return { requests: [...byLeader].map(([leader, r]) => ({ leader, batches: r.batches })), leaderless }
  }

  private take(queue: ProducerBatch[], request: { batches: ProducerBatch[]; bytes: number }): void {
    const head = queue.shift()!
    head.closed = true
    request.batches.push(head)
    request.bytes += head.sizeBytes
  }

  /** Topics of the queues whose head `held` holds back (e.g. its metadata must come first). */
  topicsHeldBy(held: (topic: string, partition: number) => boolean): Set<string> {
    const out = new Set<string>()
    for (const q of this.queues.values()) if (q.length > 0 && held(q[0].topic, q[0].partition)) out.add(q[0].topic)
    return out
  }

  /**
   * When the next batch becomes ready (or expires). For queues `held` says wait for an answer
   * (Sender.canSend), what counts is their linger deadline, full or not; queues `waiting`
   * says wait for an event (metadata, an answer) count only with their expiry.
   */
  nextReadyAt(
    now: number,
    held: (topic: string, partition: number) => boolean = () => false,
    waiting: (topic: string, partition: number) => boolean = never,
  ): number {
    let at = Infinity
    for (const q of this.queues.values()) {
      const head = q[0]
      if (head === undefined) continue
      if (waiting(head.topic, head.partition)) {
        at = Math.min(at, head.deadline)
        continue
      }
      const lingered = Math.max(head.retryAt, head.createdAt + this.options.lingerMs)
      const readyAt = held(head.topic, head.partition) ? lingered : head.closed || head.flush || q.length > 1 ? head.retryAt : lingered
      at = Math.min(at, readyAt, head.deadline)
    }
    return Math.max(at, now)
  }

  /**
   * By leader, the batches ready now (as drain() would take them, without a request limit):
   * their estimated bytes and when the oldest of them was opened.
   */
  readyByLeader(
    now: number,
    leaderOf: (topic: string, partition: number) => number,
    paused: (topic: string, partition: number) => boolean = never,
  ): Map<number, { bytes: number; openedAt: number }> {
    const out = new Map<number, { bytes: number; openedAt: number }>()
    for (const q of this.queues.values()) {
      if (q.length === 0 || paused(q[0].topic, q[0].partition)) continue
      const leader = leaderOf(q[0].topic, q[0].partition)
      if (leader < 0) continue
      for (let i = 0; i < q.length && this.isReady(q[i], q.length - i, now); i++) {
        const r = out.get(leader)
        if (r === undefined) out.set(leader, { bytes: q[i].sizeBytes, openedAt: q[i].createdAt })
        else {
          r.bytes += q[i].sizeBytes
          r.openedAt = Math.min(r.openedAt, q[i].createdAt)
        }
      }
    }
    return out
  }

  private add(batch: ProducerBatch, sizeBytes: number): void {
    batch.sizeBytes += sizeBytes
    // A batch that cannot take even a small record more is full now: send it without lingering.
    if (batch.sizeBytes >= this.options.batchBytes) batch.closed = true
  }
}
