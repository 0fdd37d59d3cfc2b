// The producer: send() partitions a record (explicit partition, murmur2 of the key, or the
// sticky partition for a null key), reserves its estimated size in the bounded buffer
// (waiting up to maxBlockMs), and stages it in its partition's batch; the Sender does the
// rest. send(record) returns a promise of that record's { topic, partition, offset };
// send(record, callback) calls back instead (no promise: the cheaper form for many records).
//
// The common case is synchronous: with the topic's metadata cached and fresh and room in the
// buffer, a record is staged before send() returns, with one clock read and no per-record
// object kept beyond its callback. Otherwise (metadata to fetch, buffer full) it takes the
// asynchronous path, and so does every later send until those are staged: order is kept.
import type { Codec, CompressionCodec, RecordHeader } from '../codec/index.js'
import { BATCH_HEADER_BYTES, COMPRESSION_CODECS } from '../codec/index.js'
import { RecordAccumulator, settleOne, type ProducerBatch, type SendCallback } from './accumulator.js'
import { RetryPolicy, type RetryOptions } from './backoff.js'
import { ByteBudget } from './byte-budget.js'
import type { Cluster } from './cluster.js'
import { Deadline } from './deadline.js'
import { ClientError } from './errors.js'
import {
  BATCH_BYTES_DEFAULT, BUFFER_BYTES_MAX_DEFAULT, BUFFER_WAITERS_MAX_DEFAULT, DELIVERY_TIMEOUT_MS_DEFAULT,
  LINGER_MS_DEFAULT, MAX_BLOCK_MS_DEFAULT, PRODUCE_ACK_TIMEOUT_MS_DEFAULT, PRODUCE_IN_FLIGHT_MAX_DEFAULT,
  PRODUCE_ACK_TIMEOUT_MS_MAX, PRODUCE_REQUEST_BYTES_MAX_DEFAULT, IDEMPOTENT_IN_FLIGHT_REQUESTS_MAX, intOption,
} from './limits.js'
import { partitionForKey, StickyPartitioner } from './partitioner.js'
import { checkRecord, recordBytesUpperBound, toBytes, toHeaders, type ProducerRecord, type RecordMetadata } from './records.js'
import { Idempotence } from './idempotence.js'
import { Sender, type Acks } from './sender.js'
import { Sleeper } from './sleep.js'
import { TopicRouter } from './topic-router.js'

export interface ProducerOptions {
  /** 0: fire and forget; 1: the leader appended; -1 or 'all' (default): committed (below the HW). */
  acks?: Acks | 'all'
  /** 'none' (default), 'gzip', 'snappy', 'lz4', 'zstd'. */
  compression?: CompressionCodec
  batchBytes?: number
  lingerMs?: number
  /** Producer buffer (estimated bytes of queued and unacknowledged records). */
  bufferBytesMax?: number
  bufferWaitersMax?: number
  /** How long send() may wait for buffer room or topic metadata. */
  maxBlockMs?: number
  deliveryTimeoutMs?: number
  requestBytesMax?: number
  /**
   * Produce requests in flight per broker. Without idempotence, above 1 a retried batch may land
   * after a later one; at 1 never, across leader changes too (as Kafka). With idempotence (at most
   * 5) order is kept whatever the value.
   */
  maxInFlightRequests?: number
  /**
   * Every record written exactly once per partition and in send order, across retries and leader
   * changes (KIP-98: a producer id, an epoch and sequence numbers the leader checks). Default:
   * on when acks is 'all' and maxInFlightRequests at most 5 (as Kafka 3+), off otherwise; asking
   * for it with acks 0 or 1, or more than 5 requests in flight, is a configuration error.
   */
  idempotent?: boolean
  ackTimeoutMs?: number
  retry?: RetryOptions
}

export class Producer {
  private readonly accumulator: RecordAccumulator
  private readonly budget: ByteBudget
  private readonly sender: Sender
  private readonly router: TopicRouter
  private readonly sticky: StickyPartitioner
  private readonly incomplete = new Set<ProducerBatch>()
  private readonly sleeper = new Sleeper()
  private readonly maxBlockMs: number
  private readonly requestBytesMax: number
  /**
   * Sends on the asynchronous path not yet staged: while any are, later sends queue behind
   * them, and flush() waits for them. Bounded by the buffer: each holds its bytes of it (or
   * is one of at most bufferWaitersMax waiting for them).
   */
  private readonly slowSends = new Set<Promise<void>>()
  /** The last send on the asynchronous path: each stages only after the one before it. */
  private lastSlowSend: Promise<void> = Promise.resolve()
  /** close() was called: new sends are refused, earlier ones still go out. */
  private closing = false
  /** close() gave up on what was still unsent: waiting sends fail. */
  private abandoned = false

  constructor(
    private readonly cluster: Cluster,
    codec: Codec,
    options: ProducerOptions,
    requestTimeoutMs: number,
    random: () => number = Math.random,
  ) {
    const acks = options.acks === 'all' ? -1 : options.acks ?? -1
    const int = (name: keyof ProducerOptions, fallback: number, min: number) => intOption(name, options[name], fallback, min)
    if (acks !== 0 && acks !== 1 && acks !== -1) throw new ClientError('INVALID_ARGUMENT', `acks must be 0, 1, -1 or 'all', not ${String(options.acks)}`)
    const compression = options.compression ?? 'none'
    if (!COMPRESSION_CODECS.includes(compression)) throw new ClientError('INVALID_ARGUMENT', `unknown compression ${String(compression)}`)
    this.requestBytesMax = int('requestBytesMax', PRODUCE_REQUEST_BYTES_MAX_DEFAULT, BATCH_HEADER_BYTES + 1)
    const batchBytes = Math.min(int('batchBytes', BATCH_BYTES_DEFAULT, BATCH_HEADER_BYTES + 1), this.requestBytesMax)
    this.maxBlockMs = int('maxBlockMs', MAX_BLOCK_MS_DEFAULT, 0)
    const inFlightMax = int('maxInFlightRequests', PRODUCE_IN_FLIGHT_MAX_DEFAULT, 1)
    const idempotent = idempotenceOf(options, acks, inFlightMax)
    const retry = new RetryPolicy(options.retry, random)
    this.accumulator = new RecordAccumulator({
      batchBytes,
      lingerMs: int('lingerMs', LINGER_MS_DEFAULT, 0),
      deliveryTimeoutMs: int('deliveryTimeoutMs', DELIVERY_TIMEOUT_MS_DEFAULT, 1),
    })
    this.budget = new ByteBudget(int('bufferBytesMax', BUFFER_BYTES_MAX_DEFAULT, 1), int('bufferWaitersMax', BUFFER_WAITERS_MAX_DEFAULT, 0))
    this.sticky = new StickyPartitioner(random)
    this.router = new TopicRouter(cluster, retry, this.sleeper, () => this.abandoned)
    this.sender = new Sender(this.accumulator, cluster, codec, {
      acks,
      compression,
      ackTimeoutMs: intOption('ackTimeoutMs', options.ackTimeoutMs, PRODUCE_ACK_TIMEOUT_MS_DEFAULT, 1, PRODUCE_ACK_TIMEOUT_MS_MAX),
      requestTimeoutMs,
      requestBytesMax: this.requestBytesMax,
      inFlightMax,
      idempotence: idempotent ? new Idempotence() : null,
    }, retry, {
      batchDrained: (b) => this.sticky.batchClosed(b.topic, b.partition, this.cluster.metadata.availablePartitions(b.topic)),
      batchSettled: (b) => this.batchSettled(b),
    })
  }

  /** Estimated bytes of records buffered or awaiting acknowledgement. */
  get bufferedBytes(): number {
    return this.budget.used
  }

  /**
   * Sends one record. Without a callback: a promise of its metadata once the broker
   * acknowledged it (per acks). With one: `callback(null, metadata)` then, or
   * `callback(error)` once it failed for good (never synchronously: at the soonest after
   * send() returned), and send() returns nothing.
   */
  send(record: ProducerRecord): Promise<RecordMetadata>
  send(record: ProducerRecord, callback: SendCallback): void
  send(record: ProducerRecord, callback?: SendCallback): Promise<RecordMetadata> | void {
    // No closure in this function's body: V8 would allocate its context on every call.
    if (callback !== undefined) this.enqueue(record, callback)
    else return this.sendForPromise(record)
  }

  private sendForPromise(record: ProducerRecord): Promise<RecordMetadata> {
    return new Promise<RecordMetadata>((resolve, reject) => this.enqueue(record, (err, meta) => (err ? reject(err) : resolve(meta!))))
  }

  private enqueue(record: ProducerRecord, callback: SendCallback): void {
    let key: Uint8Array | null
    let value: Uint8Array | null
    let headers: RecordHeader[]
    let sizeBytes: number
    try {
      if (this.closing) throw new ClientError('CLIENT_CLOSED', 'producer is closed')
      checkRecord(record)
      key = toBytes(record.key)
      value = toBytes(record.value)
      headers = toHeaders(record.headers)
      sizeBytes = recordBytesUpperBound(key, value, headers)
      if (sizeBytes + BATCH_HEADER_BYTES > this.requestBytesMax) {
        throw new ClientError('RECORD_TOO_LARGE', `record of about ${sizeBytes} bytes does not fit a ${this.requestBytesMax}-byte produce request (requestBytesMax)`)
      }
    } catch (err) {
      failSoon(callback, err as Error)
      return
    }
    const now = this.cluster.now()
    const timestamp = record.timestamp ?? now
    if (this.slowSends.size === 0) {
      let partition: number
      try {
        partition = this.partitionNow(record, key, now)
      } catch (err) {
        failSoon(callback, err as Error)
        return
      }
      if (partition >= 0 && this.budget.tryAcquire(sizeBytes)) {
        this.stage(record.topic, partition, key, value, headers, timestamp, sizeBytes, callback, now)
        return
      }
    }
    const pending = this.enqueueSlowly(record, key, value, headers, timestamp, sizeBytes, Deadline.after(this.maxBlockMs, 'maxBlockMs', now), callback, this.lastSlowSend)
    this.lastSlowSend = pending
    this.slowSends.add(pending)
    void pending.then(() => this.slowSends.delete(pending))
  }

  /**
   * The asynchronous path: waits for buffer room, then for metadata (together up to
   * `deadline`), then for the send before it to be staged, and stages; a failure goes to the
   * callback. Room first, so sends waiting for metadata hold buffer bytes and are bounded by
   * the buffer like everything else; staging in send order, because each send's metadata wait
   * ends on its own (jittered) retry. Kept out of enqueue so that the fast path allocates no
   * closure context.
   */
  private async enqueueSlowly(
    record: ProducerRecord, key: Uint8Array | null, value: Uint8Array | null, headers: RecordHeader[], timestamp: number,
    sizeBytes: number, deadline: Deadline, callback: SendCallback, previous: Promise<void>,
  ): Promise<void> {
    let failure: Error | undefined
    let partition = -1
    let acquired = false
    try {
      await this.budget.acquire(sizeBytes, deadline.remainingMs(this.cluster.now()))
      acquired = true
      partition = await this.partitionFor(record, key, deadline)
    } catch (err) {
      failure = err as Error
    }
    if (failure === undefined) {
      await previous // never rejects
      if (this.abandoned) failure = new ClientError('CLIENT_CLOSED', 'producer is closed')
    }
    if (failure !== undefined) {
      if (acquired) this.budget.release(sizeBytes)
      settleOne(callback, failure, undefined)
      await previous // reported at once, but this send's turn ends after the one before it: a later one must not pass that
      return
    }
    this.stage(record.topic, partition, key, value, headers, timestamp, sizeBytes, callback, this.cluster.now())
  }

  /** Stages a record whose buffer bytes are taken in its partition's batch, and wakes the sender. */
  private stage(
    topic: string, partition: number, key: Uint8Array | null, value: Uint8Array | null, headers: RecordHeader[], timestamp: number,
    sizeBytes: number, callback: SendCallback, now: number,
  ): void {
    const { batch, batchClosed, created } = this.accumulator.append(topic, partition, sizeBytes, now)
    batch.add(key, value, headers, timestamp, callback)
    if (created) this.incomplete.add(batch)
    if (batchClosed) this.sticky.batchClosed(topic, partition, this.cluster.metadata.availablePartitions(topic))
    // A record joining an open batch changes nothing the sender acts on.
    if (created || batchClosed) this.sender.batchChanged(topic, partition)
  }

  /**
   * The record's partition from cached metadata, or -1 when the topic's metadata is missing,
   * stale or errored (the asynchronous path refreshes it). Throws for a partition that does not exist.
   */
  private partitionNow(record: ProducerRecord, key: Uint8Array | null, now: number): number {
    const metadata = this.cluster.metadata
    const t = metadata.topic(record.topic)
    if (t === undefined || t.partitions.length === 0 || metadata.needsRefresh(record.topic, now)) return -1
    return this.choosePartition(record, key, t.partitions.length)
  }

  /** Sends everything buffered now, without waiting for linger; resolves when all of it settled. */
  async flush(): Promise<void> {
    // Nothing lingers while a flush runs: sends waiting for room need what the buffered
    // batches hold, and what they stage goes at once too.
    this.accumulator.beginFlush()
    try {
      this.sender.wake()
      await Promise.all([...this.slowSends]) // staged or failed: never rejects
      await Promise.all([...this.incomplete].map((b) => b.done))
    } finally {
      this.accumulator.endFlush()
    }
  }

  /**
   * Flushes, then stops. Records not settled within `timeoutMs` (default: their delivery
   * timeout) fail with CLIENT_CLOSED. Later send() calls reject.
   */
  async close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.closing = true
    const flushed = this.flush()
    if (options.timeoutMs !== undefined) {
      let timer: ReturnType<typeof setTimeout> | undefined
      await Promise.race([flushed, new Promise((resolve) => (timer = setTimeout(resolve, options.timeoutMs)))])
      clearTimeout(timer)
    } else {
      await flushed
    }
    this.abandoned = true
    this.budget.rejectAll(new ClientError('CLIENT_CLOSED', 'producer closed while send() waited for buffer room'))
    this.sleeper.wakeAll() // sends still waiting fail with CLIENT_CLOSED as they wake (a metadata request in flight ends first)
    this.sender.stop()
    const err = new ClientError('CLIENT_CLOSED', 'producer closed before the record was acknowledged')
    for (const b of this.accumulator.takeAll()) {
      b.fail(err)
      this.batchSettled(b)
    }
    // Batches still on the wire: their promises settle as answers come, or fail here.
    for (const b of this.incomplete) b.fail(err)
  }

  private batchSettled(b: ProducerBatch): void {
    if (!this.incomplete.delete(b)) return
    this.budget.release(b.sizeBytes - BATCH_HEADER_BYTES)
  }

  private async partitionFor(record: ProducerRecord, key: Uint8Array | null, deadline: Deadline): Promise<number> {
    return this.choosePartition(record, key, await this.router.partitionCount(record.topic, deadline))
  }

  private choosePartition(record: ProducerRecord, key: Uint8Array | null, count: number): number {
    if (record.partition !== undefined) {
      if (!Number.isInteger(record.partition) || record.partition < 0 || record.partition >= count) {
        throw new ClientError('INVALID_ARGUMENT', `partition ${record.partition} does not exist: topic ${record.topic} has ${count}`)
      }
      return record.partition
    }
    if (key !== null) return partitionForKey(key, count)
    const available = this.cluster.metadata.availablePartitions(record.topic)
    return this.sticky.partition(record.topic, available.length > 0 ? available : [...Array(count).keys()])
  }
}

/** Whether the producer is idempotent: as asked, or by default when acks and in-flight allow it. */
function idempotenceOf(options: ProducerOptions, acks: number, inFlightMax: number): boolean {
  const asked = options.idempotent
  if (asked !== undefined && typeof asked !== 'boolean') throw new ClientError('INVALID_ARGUMENT', `idempotent must be true or false, not ${String(asked)}`)
  const allowed = acks === -1 && inFlightMax <= IDEMPOTENT_IN_FLIGHT_REQUESTS_MAX
  if (asked !== true) return asked === undefined && allowed
  if (acks !== -1) throw new ClientError('INVALID_ARGUMENT', `idempotent: true needs acks 'all' (-1), not ${acks}: set acks to 'all' or idempotent to false`)
  if (!allowed) {
    throw new ClientError('INVALID_ARGUMENT', `idempotent: true allows at most ${IDEMPOTENT_IN_FLIGHT_REQUESTS_MAX} maxInFlightRequests, not ${inFlightMax}: lower maxInFlightRequests or set idempotent to false`)
  }
  return true
}

/** Fails a send whose failure is known at once, after send() returned (callbacks are never synchronous). */
function failSoon(callback: SendCallback, err: Error): void {
  queueMicrotask(() => settleOne(callback, err, undefined))
}
