// The producer's record accumulator: one queue of batches per partition. Records join the
// partition's open batch until it reaches `batchBytes` (estimated); a batch is ready to send
// when it is full, has lingered `lingerMs`, a flush asked for it, or (after a failure) its
// back-off is over. drain() takes ready batches grouped by leader, one request's worth per
// leader, at most one batch per partition per request, rotating the start so no partition
// starves (queues stay in the map when empty, keeping the rotation order stable; there is
// one per partition produced to, so they are bounded by the partitions in the metadata). Pure: time is passed in, routing and capacity are callbacks.
import type { RecordInput } from '../codec/index.js'
import { BATCH_HEADER_BYTES } from '../codec/index.js'
import type { RecordMetadata } from './records.js'

export interface PendingRecord {
  record: RecordInput
  sizeBytes: number
  resolve: (meta: RecordMetadata) => void
  reject: (err: Error) => void
}

export class ProducerBatch {
  readonly records: PendingRecord[] = []
  sizeBytes = BATCH_HEADER_BYTES
  /** No more appends: full, handed to the sender, or back for a retry. */
  closed = false
  flush = false
  /** Failed attempts so far. */
  attempts = 0
  retryAt = 0
  /** The encoded batch, kept so a retry resends the very same bytes. */
  encoded: Uint8Array | undefined
  settled = false
  readonly done: Promise<void>
  private markDone!: () => void

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly createdAt: number,
    /** Past this the batch fails with DELIVERY_TIMEOUT instead of being (re)sent. */
    readonly deadline: number,
  ) {
    this.done = new Promise((resolve) => (this.markDone = resolve))
  }

  /** Resolves each record with its offset (baseOffset + index; -1 when not known, acks=0). */
  complete(baseOffset: number): void {
    if (this.settled) return
    this.settled = true
    this.records.forEach((r, i) => r.resolve({ topic: this.topic, partition: this.partition, offset: baseOffset < 0 ? -1 : baseOffset + i }))
    this.markDone()
  }

  fail(err: Error): void {
    if (this.settled) return
    this.settled = true
    for (const r of this.records) r.reject(err)
    this.markDone()
  }
}

export interface AccumulatorOptions {
  batchBytes: number
  lingerMs: number
  deliveryTimeoutMs: number
}

export interface AppendResult {
  batch: ProducerBatch
  /** True when this append closed a batch (the partition's batch filled): sticky partitioners move on. */
  batchClosed: boolean
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

export class RecordAccumulator {
  private readonly queues = new Map<string, ProducerBatch[]>()
  private drainStart = 0

  constructor(private readonly options: AccumulatorOptions) {
    if (!(options.batchBytes > BATCH_HEADER_BYTES)) throw new RangeError(`batchBytes must exceed the ${BATCH_HEADER_BYTES}-byte batch header`)
    if (!(options.lingerMs >= 0)) throw new RangeError('lingerMs must be >= 0')
  }

  /** Batches waiting here (not the ones in flight). */
  get batchCount(): number {
    let n = 0
    for (const q of this.queues.values()) n += q.length
    return n
  }

  append(topic: string, partition: number, record: PendingRecord, now: number): AppendResult {
    const key = keyOf(topic, partition)
    let queue = this.queues.get(key)
    if (queue === undefined) this.queues.set(key, (queue = []))
    const last = queue[queue.length - 1]
    if (last && !last.closed && last.sizeBytes + record.sizeBytes <= this.options.batchBytes) {
      this.add(last, record)
      return { batch: last, batchClosed: last.closed }
    }
    let batchClosed = false
    if (last && !last.closed) {
      last.closed = true
      batchClosed = true
    }
    const batch = new ProducerBatch(topic, partition, now, now + this.options.deliveryTimeoutMs)
    this.add(batch, record)
    queue.push(batch)
    return { batch, batchClosed: batchClosed || batch.closed }
  }

  /** Every batch here is sent without waiting for linger (flush, close). */
  flushAll(): void {
    for (const q of this.queues.values()) for (const b of q) b.flush = true
  }

  /** Puts a failed batch back at the head of its partition's queue, to go again at `retryAt`. */
  reenqueue(batch: ProducerBatch, retryAt: number): void {
    batch.closed = true
    batch.retryAt = retryAt
    const key = keyOf(batch.topic, batch.partition)
    let queue = this.queues.get(key)
    if (queue === undefined) this.queues.set(key, (queue = []))
    queue.unshift(batch)
  }

  /** Removes and returns the batches whose delivery deadline passed (they never got an answer). */
  expire(now: number): ProducerBatch[] {
    const out: ProducerBatch[] = []
    for (const [key, q] of this.queues) {
      const keep = q.filter((b) => (b.deadline <= now ? (out.push(b), false) : true))
      if (keep.length !== q.length) this.queues.set(key, keep)
    }
    return out
  }

  /** Removes and returns every batch (close without flush, fatal errors). */
  takeAll(): ProducerBatch[] {
    const out = [...this.queues.values()].flat()
    this.queues.clear()
    return out
  }

  isReady(batch: ProducerBatch, queueLength: number, now: number): boolean {
    if (now < batch.retryAt) return false
    return batch.closed || batch.flush || queueLength > 1 || now - batch.createdAt >= this.options.lingerMs
  }

  /**
   * Takes ready head batches, grouped by leader, at most `requestBytesMax` (estimated) per
   * leader but always at least one batch. Partitions whose leader is unknown (-1) or whose
   * leader cannot take another request (`canSend` false) stay queued.
   */
  drain(
    now: number,
    leaderOf: (topic: string, partition: number) => number,
    canSend: (leader: number) => boolean,
    requestBytesMax: number,
  ): DrainResult {
    const byLeader = new Map<number, { batches: ProducerBatch[]; bytes: number }>()
    const leaderless = new Set<string>()
    const keys = [...this.queues.keys()]
    if (keys.length === 0) return { requests: [], leaderless }
    const start = this.drainStart++ % keys.length
    for (let i = 0; i < keys.length; i++) {
      const key = keys[(start + i) % keys.length]
      const queue = this.queues.get(key)!
      const head = queue[0]
      if (head === undefined) continue
      if (!this.isReady(head, queue.length, now)) continue
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
      request.batches.push(head)
      request.bytes += head.sizeBytes
      head.closed = true
      queue.shift()
    }
    return { requests: [...byLeader].map(([leader, r]) => ({ leader, batches: r.batches })), leaderless }
  }

  /** The earliest time a queued batch becomes ready (linger or back-off over); Infinity if none. */
  nextReadyAt(now: number): number {
    let at = Infinity
    for (const q of this.queues.values()) {
      const head = q[0]
      if (head === undefined) continue
      const readyAt = head.closed || head.flush || q.length > 1 ? head.retryAt : Math.max(head.retryAt, head.createdAt + this.options.lingerMs)
      at = Math.min(at, readyAt, head.deadline)
    }
    return Math.max(at, now)
  }

  private add(batch: ProducerBatch, record: PendingRecord): void {
    batch.records.push(record)
    batch.sizeBytes += record.sizeBytes
    // A batch that cannot take even a small record more is full now: send it without lingering.
    if (batch.sizeBytes >= this.options.batchBytes) batch.closed = true
  }
}
