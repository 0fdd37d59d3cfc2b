// The idempotent producer's bookkeeping (KIP-98, KIP-360), for the Sender: the producer id and
// epoch (from InitProducerId), each partition's sequences, and which batches may go now. Pure
// apart from the bytes it stamps: the Sender asks and tells it, it decides.
//
// - A batch gets its sequence when first drained, in queue order, so a partition's batches hold
//   consecutive sequences in the order they were queued (and are re-queued in that order).
// - At most as many batches of a partition are in flight as its leader remembers per producer
//   (its handshake says; IDEMPOTENT_BATCHES_IN_FLIGHT_MAX at most), so a retry of any of them
//   that the leader wrote while they were out is recognised as a duplicate.
// - That bounds batches in flight, not how far later batches run past an unanswered one: a
//   request stuck on a stalled leader while the new leader acknowledges many later batches
//   leaves its batch older than anything the leader still remembers. Its retry is then refused
//   as a gap (OUT_OF_ORDER_SEQUENCE_NUMBER). The broker appends a producer's batches strictly in
//   sequence order within an epoch, so a later batch of this epoch acknowledged means this one
//   is in the log, committed as far as that acknowledgement says (acks=all): it is settled as
//   written, at offset -1 (unknown, as Kafka's producer reports a batch answered
//   DUPLICATE_SEQUENCE_NUMBER), never written again under a new epoch (writtenAlready).
// - A partition whose head batch goes again (a retry) waits until none of its batches is in
//   flight: then its queue holds every unacknowledged batch, in sequence order, and they leave
//   in that order, never overtaken by a later one. Batches leave together in one partition
//   entry only when each one's sequence continues the previous one's (continues): the broker
//   refuses an entry with a gap whole.
// - When the broker's producer state no longer matches ours (UNKNOWN_PRODUCER_ID after expiry,
//   a gap no earlier retry explains, a batch failed for good after its sequence was taken), the
//   producer bumps its epoch: nothing leaves until nothing is in flight, then InitProducerId
//   with the current id and epoch gives the next epoch, and every unacknowledged batch is
//   sequenced again from 0. Acknowledged records are never sent again, so none is lost or doubled.
import { BATCH_HEADER, type Codec } from '../codec/index.js'
import { IDEMPOTENT_BATCHES_IN_FLIGHT_MAX } from './limits.js'

/** Sequences wrap at 2^31 (as the broker's). */
const SEQUENCE_MODULUS = 0x80000000

/** What the Sender's batches carry for idempotence. */
export interface SequencedBatch {
  readonly topic: string
  readonly partition: number
  readonly recordCount: number
  /** Position of its first record in the partition's sequence (not wrapped); -1 until drained. */
  ordinal: number
  /** The epoch it was sequenced in (a bump sequences it again). */
  sequencedEpoch: number
  /** Failed attempts so far (a retried batch is one with attempts > 0). */
  attempts: number
}

interface PartitionSequences {
  /** The ordinal the next new batch takes. */
  next: number
  /** Batches of this partition in flight now. */
  inFlight: number
  /** Ordinals of batches sequenced and not yet settled (acknowledged or failed for good). */
  readonly unsettled: Set<number>
  /** The ordinal after the furthest batch acknowledged in this epoch (0: none): every sequence below it is in the log. */
  acknowledgedEnd: number
}

export class Idempotence {
  producerId = -1
  epoch = -1
  /** A bump is needed: nothing leaves until nothing is in flight and the new epoch is known. */
  bumpNeeded = false
  private readonly partitions = new Map<string, PartitionSequences>()
  private inFlightTotal = 0

  /** Whether batches may be drained at all (an id is known, no bump waits). */
  get ready(): boolean {
    return this.producerId >= 0 && !this.bumpNeeded
  }

  /** Nothing in flight: a bump may go ahead. */
  get idle(): boolean {
    return this.inFlightTotal === 0
  }

  /** A producer id and epoch from InitProducerId; a new epoch restarts every partition's sequences at 0. */
  initialized(producerId: number, epoch: number): void {
    if (producerId !== this.producerId || epoch !== this.epoch) this.partitions.clear()
    this.producerId = producerId
    this.epoch = epoch
    this.bumpNeeded = false
  }

  /**
   * How many more batches of the partition may be drained now (0: it waits), to a leader that
   * remembers `remembered` batches per producer.
   */
  room(topic: string, partition: number, head: SequencedBatch | undefined, remembered: number): number {
    if (!this.ready) return 0
    const window = Math.min(remembered, IDEMPOTENT_BATCHES_IN_FLIGHT_MAX)
    const p = this.partitions.get(key(topic, partition))
    if (p === undefined) return window
    // A retry goes only once every batch sent after it has come back.
    if (head !== undefined && head.attempts > 0 && p.inFlight > 0) return 0
    return Math.max(0, window - p.inFlight)
  }

  /** A batch leaves for the wire: sequenced now if new (or sequenced in an older epoch). */
  sent(b: SequencedBatch): void {
    const p = this.partition(b.topic, b.partition)
    if (b.ordinal < 0 || b.sequencedEpoch !== this.epoch) {
      b.ordinal = p.next
      b.sequencedEpoch = this.epoch
      p.next += b.recordCount
      p.unsettled.add(b.ordinal)
    }
    p.inFlight++
    this.inFlightTotal++
  }

  /** The batch's attempt ended (answered, failed, abandoned). */
  returned(b: SequencedBatch): void {
    const p = this.partitions.get(key(b.topic, b.partition))
    if (p === undefined || b.sequencedEpoch !== this.epoch) {
      this.inFlightTotal--
      return
    }
    p.inFlight--
    this.inFlightTotal--
  }

  /** The batch is settled for good: acknowledged, or failed (then its sequences are lost: bump). */
  settled(b: SequencedBatch, acknowledged: boolean): void {
    if (b.ordinal < 0) return
    const p = this.partitions.get(key(b.topic, b.partition))
    if (p === undefined || b.sequencedEpoch !== this.epoch) return
    p.unsettled.delete(b.ordinal)
    if (acknowledged) p.acknowledgedEnd = Math.max(p.acknowledgedEnd, b.ordinal + b.recordCount)
    else this.bumpNeeded = true
  }

  /** A batch refused as too large went again as two halves: they take its sequences (the first its own, the second the rest). */
  split(b: SequencedBatch, halves: readonly [SequencedBatch, SequencedBatch]): void {
    const [first, second] = halves
    if (b.ordinal < 0) return
    first.ordinal = b.ordinal
    second.ordinal = b.ordinal + first.recordCount
    first.sequencedEpoch = second.sequencedEpoch = b.sequencedEpoch
    if (b.sequencedEpoch === this.epoch) this.partitions.get(key(b.topic, b.partition))?.unsettled.add(second.ordinal)
  }

  /** True when an OUT_OF_ORDER_SEQUENCE_NUMBER for `b` is explained by an earlier batch not yet written (it goes again first). */
  earlierUnsettled(b: SequencedBatch): boolean {
    const p = this.partitions.get(key(b.topic, b.partition))
    if (p === undefined) return false
    for (const o of p.unsettled) if (o < b.ordinal) return true
    return false
  }

  /**
   * True when `b`, refused as a gap (OUT_OF_ORDER_SEQUENCE_NUMBER), is nevertheless in the log: a
   * batch after it, of the same partition and epoch, was acknowledged. Within an epoch the leader
   * appends a producer's batch only right after the one before it in sequence (producer-state.ts
   * `check`), so that acknowledged batch follows every sequence before it, `b`'s included. The
   * leader refused `b` only because it no longer remembers it (it keeps the last few batches).
   */
  writtenAlready(b: SequencedBatch): boolean {
    if (b.ordinal < 0 || b.sequencedEpoch !== this.epoch) return false
    const p = this.partitions.get(key(b.topic, b.partition))
    return p !== undefined && p.acknowledgedEnd >= b.ordinal + b.recordCount
  }

  /**
   * Whether `next` may follow `prev` (its predecessor in the partition's queue) in one partition
   * entry: its sequence, once sent, starts where `prev`'s ends. The broker refuses an entry
   * whose batches do not follow each other whole, as a malformed request (INVALID_RECORD, not
   * retriable: producer-state.ts `checkEntry`). A batch not yet sequenced in this epoch takes the
   * partition's next sequence when it leaves, so it follows one that is too (both numbered in
   * queue order now) or the partition's last sequenced batch; a retried one follows only the
   * batch it was sent after. So a retry goes with the retries that continue it (after a
   * failover, a partition's window of batches leaves again in one request) and with new batches
   * only when it is the last sequenced, never with new batches numbered after ones acknowledged
   * meanwhile. (Sending every retry alone would also be correct, but a retry leaves only once
   * nothing of its partition is in flight, so a window of retries would take one round trip
   * each after every failover. A new batch kept out of a retry's entry loses little: it may go
   * in the next request, the retry's answer does not hold it: room().)
   */
  continues(prev: SequencedBatch, next: SequencedBatch): boolean {
    const prevNew = prev.ordinal < 0 || prev.sequencedEpoch !== this.epoch
    if (next.ordinal < 0 || next.sequencedEpoch !== this.epoch) {
      return prevNew || prev.ordinal + prev.recordCount === this.partitions.get(key(prev.topic, prev.partition))?.next
    }
    return !prevNew && prev.ordinal + prev.recordCount === next.ordinal
  }

  /** The sequence of a batch sequenced in this epoch. */
  sequenceOf(b: SequencedBatch): number {
    return b.ordinal % SEQUENCE_MODULUS
  }

  /**
   * Writes the producer id, epoch and sequence into an encoded batch (one sequenced again after
   * a bump), and its CRC, which covers them.
   */
  stamp(codec: Codec, bytes: Uint8Array, b: SequencedBatch): void {
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    const H = BATCH_HEADER
    v.setUint32(H.producerId.at, Math.floor(this.producerId / 0x100000000))
    v.setUint32(H.producerId.at + 4, this.producerId >>> 0)
    v.setInt16(H.producerEpoch.at, this.epoch)
    v.setInt32(H.baseSequence.at, this.sequenceOf(b))
    v.setUint32(H.crc.at, codec.crc32c(bytes.subarray(H.attributes.at))) // the CRC covers attributes to the end
  }

  /** Whether the encoded batch carries this epoch and its sequence. */
  stamped(bytes: Uint8Array, b: SequencedBatch): boolean {
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    return v.getInt16(BATCH_HEADER.producerEpoch.at) === this.epoch && v.getInt32(BATCH_HEADER.baseSequence.at) === this.sequenceOf(b)
  }

  private partition(topic: string, partition: number): PartitionSequences {
    const k = key(topic, partition)
    let p = this.partitions.get(k)
    if (p === undefined) this.partitions.set(k, (p = { next: 0, inFlight: 0, unsettled: new Set(), acknowledgedEnd: 0 }))
    return p
  }
}

function key(topic: string, partition: number): string {
  return `${partition}:${topic}`
}
