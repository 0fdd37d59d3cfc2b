// Idempotent producers' state in one partition (KIP-98): per producer id, its epoch and the last
// PRODUCER_BATCHES_KEPT batches' sequence ranges with the offsets they were written at. Pure: the
// replica shell feeds it every batch its log takes (as leader or follower, from the batch headers
// alone, so every replica holds the same state and a new leader has it at once), and the leader
// asks it, before appending a producer's batches, whether they are new, duplicates of batches
// already in the log (answered with the original offsets) or refused. Time is passed in.
//
// The log is the truth: this state is a fold of the log's batch headers, so a truncation is
// undone by folding the log again (producer-state-log.ts); `end` says up to which log offset
// the fold went, and the shell rebuilds when the log no longer ends there.
import { ErrorCode } from '../../protocol/index.js'
import { PRODUCER_BATCHES_KEPT, PRODUCERS_PER_PARTITION_MAX } from './limits.js'

/** Sequences run 0 … 2^31 − 1 and wrap to 0 (as Kafka's). */
export const SEQUENCE_MAX = 0x7fffffff
/** Epochs are int16; the producer bumps within 0 … 32767. */
export const PRODUCER_EPOCH_MAX = 0x7fff

/** The producer fields of one batch header, and where it lies (the leader knows offsets after appending). */
export interface ProducerBatchHeader {
  readonly producerId: number
  readonly producerEpoch: number
  readonly baseSequence: number
  /** Records in the batch (lastOffsetDelta + 1). */
  readonly recordCount: number
  readonly transactional?: boolean
}

export interface WrittenBatch {
  readonly firstSeq: number
  readonly lastSeq: number
  readonly baseOffset: number
  readonly lastOffset: number
}

export interface ProducerEntry {
  readonly producerId: number
  readonly epoch: number
  /** Oldest first, at most PRODUCER_BATCHES_KEPT; empty after an epoch bump without a batch yet. */
  readonly batches: readonly WrittenBatch[]
  /** When a batch of it was last appended (this replica's clock), for expiry. */
  readonly lastAppendMs: number
}

/** What the leader does with one batch. */
export type SequenceVerdict =
  | { readonly kind: 'append' }
  | { readonly kind: 'duplicate'; readonly baseOffset: number; readonly lastOffset: number }
  | { readonly kind: 'refused'; readonly code: ErrorCode; readonly message: string }

/** The sequence after `seq` advanced by `delta` (wrapping past SEQUENCE_MAX to 0). */
export function advanceSequence(seq: number, delta: number): number {
  return seq > SEQUENCE_MAX - delta ? delta - (SEQUENCE_MAX - seq) - 1 : seq + delta
}

/** True for a batch written by an idempotent producer (producer id set). */
export function isIdempotent(h: Pick<ProducerBatchHeader, 'producerId'>): boolean {
  return h.producerId >= 0
}

/**
 * The producer fields of a batch are well formed: no producer (id -1), or an id, an epoch and a
 * sequence in range; null if so, else why not.
 */
export function malformedProducerFields(h: ProducerBatchHeader): string | null {
  if (h.producerId === -1) return null // not idempotent: epoch and sequence are not looked at (other clients send 0s)
  if (!Number.isSafeInteger(h.producerId) || h.producerId < 0) return `producer id ${h.producerId} is negative (-1: none)`
  if (h.producerEpoch < 0 || h.producerEpoch > PRODUCER_EPOCH_MAX) return `producer epoch ${h.producerEpoch} is outside [0, ${PRODUCER_EPOCH_MAX}]`
  if (h.baseSequence < 0) return `sequence ${h.baseSequence} is negative`
  if (h.transactional === true) return 'transactional batches are not supported yet (idempotent ones are)'
  return null
}

export class ProducerStateTable {
  /** In order of last append, least recent first (Map keeps insertion order): eviction takes the first. */
  private readonly producers = new Map<number, ProducerEntry>()
  /** The log offset up to which batches were folded in (exclusive). */
  private foldedEnd: number

  constructor(
    /** Producers idle longer than this are forgotten (producer.id.expiration.ms). */
    private readonly expirationMs: number,
    /** Where the log this state folds starts (or the offset its snapshot was taken at). */
    startOffset: number,
    private readonly producersMax = PRODUCERS_PER_PARTITION_MAX,
  ) {
    this.foldedEnd = startOffset
  }

  /** A table as a snapshot holds it (producer-state-snapshot.ts): folded to `end`, `entries` least recently used first. */
  static restore(expirationMs: number, end: number, entries: readonly ProducerEntry[]): ProducerStateTable {
    const table = new ProducerStateTable(expirationMs, end)
    for (const e of entries) table.producers.set(e.producerId, e)
    return table
  }

  /** The log offset up to which this state folded the log. */
  get end(): number {
    return this.foldedEnd
  }

  get size(): number {
    return this.producers.size
  }

  /** The producer's state, or undefined if unknown or expired at `nowMs`. */
  entry(producerId: number, nowMs: number): ProducerEntry | undefined {
    const e = this.producers.get(producerId)
    if (e === undefined) return undefined
    if (nowMs - e.lastAppendMs > this.expirationMs) {
      this.producers.delete(producerId)
      return undefined
    }
    return e
  }

  /**
   * The leader's check of one batch before it is appended: a new batch ('append'), one the log
   * already holds ('duplicate', with its offsets), or refused with Kafka's code.
   */
  check(h: ProducerBatchHeader, nowMs: number): SequenceVerdict {
    const malformed = malformedProducerFields(h)
    if (malformed !== null) return refused(ErrorCode.INVALID_RECORD, malformed)
    if (!isIdempotent(h)) return { kind: 'append' }
    const e = this.entry(h.producerId, nowMs)
    const lastSeq = advanceSequence(h.baseSequence, h.recordCount - 1)
    if (e === undefined) {
      return h.baseSequence === 0 ? { kind: 'append' }
        : refused(ErrorCode.UNKNOWN_PRODUCER_ID,
          `producer ${h.producerId} has no state on this partition (never written, or idle past producer.id.expiration.ms) and its batch starts at sequence ${h.baseSequence}, not 0; re-initialise the producer id`)
    }
    if (h.producerEpoch < e.epoch) {
      return refused(ErrorCode.INVALID_PRODUCER_EPOCH, `producer ${h.producerId} epoch ${h.producerEpoch} is older than the partition's ${e.epoch}`)
    }
    if (h.producerEpoch > e.epoch) {
      return h.baseSequence === 0 ? { kind: 'append' }
        : refused(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, `producer ${h.producerId}'s new epoch ${h.producerEpoch} must start at sequence 0, not ${h.baseSequence}`)
    }
    const dup = e.batches.find((b) => b.firstSeq === h.baseSequence && b.lastSeq === lastSeq)
    if (dup !== undefined) return { kind: 'duplicate', baseOffset: dup.baseOffset, lastOffset: dup.lastOffset }
    const last = e.batches[e.batches.length - 1]
    const expected = last === undefined ? 0 : advanceSequence(last.lastSeq, 1)
    if (h.baseSequence === expected) return { kind: 'append' }
    return refused(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
      `producer ${h.producerId} epoch ${h.producerEpoch}: batch with sequences ${h.baseSequence}..${lastSeq} arrived where ${expected} was expected`)
  }

  /**
   * Folds in a batch the log took at [baseOffset, baseOffset + recordCount), as leader or
   * follower; no checks (the leader made them). Batches come in log order, from `end` on.
   */
  appended(h: ProducerBatchHeader, baseOffset: number, nowMs: number): void {
    const lastOffset = baseOffset + h.recordCount - 1
    if (baseOffset < this.foldedEnd) throw new Error(`producer state folded the log to ${this.foldedEnd}; a batch at ${baseOffset} is out of order`)
    this.foldedEnd = lastOffset + 1
    if (!isIdempotent(h) || malformedProducerFields(h) !== null) return
    const was = this.producers.get(h.producerId)
    const written: WrittenBatch = { firstSeq: h.baseSequence, lastSeq: advanceSequence(h.baseSequence, h.recordCount - 1), baseOffset, lastOffset }
    const batches = was === undefined || was.epoch !== h.producerEpoch ? [written] : [...was.batches.slice(1 - PRODUCER_BATCHES_KEPT), written]
    this.producers.delete(h.producerId) // re-inserted last: the most recently used
    this.producers.set(h.producerId, { producerId: h.producerId, epoch: h.producerEpoch, batches, lastAppendMs: nowMs })
    if (this.producers.size > this.producersMax) this.producers.delete(this.producers.keys().next().value!)
  }

  /** Offsets without a producer batch (control batches, compaction gaps) move the fold's end. */
  skipTo(offset: number): void {
    if (offset > this.foldedEnd) this.foldedEnd = offset
  }

  /** Forgets producers idle longer than the expiration at `nowMs`; returns how many. */
  expire(nowMs: number): number {
    let n = 0
    for (const [id, e] of this.producers) {
      if (nowMs - e.lastAppendMs > this.expirationMs) {
        this.producers.delete(id)
        n++
      }
    }
    return n
  }

  /** Every entry, least recently used first (snapshots, tests). */
  entries(): ProducerEntry[] {
    return [...this.producers.values()]
  }
}

function refused(code: ErrorCode, message: string): SequenceVerdict {
  return { kind: 'refused', code, message }
}

/**
 * The leader's check of one partition entry's batches (in request order), before appending any:
 * they must agree on producer id and epoch and follow each other's sequences. Duplicates form a
 * prefix (answered with their original offsets); the rest are new. Refused as a whole otherwise.
 */
export function checkEntry(
  table: ProducerStateTable, headers: readonly ProducerBatchHeader[], nowMs: number,
): { readonly kind: 'ok'; readonly duplicates: ReadonlyArray<{ baseOffset: number; lastOffset: number }>; readonly firstNew: number } | Extract<SequenceVerdict, { kind: 'refused' }> {
  const first = headers[0]
  for (let i = 1; i < headers.length; i++) {
    const h = headers[i]
    const prev = headers[i - 1]
    if (h.producerId !== first.producerId || h.producerEpoch !== first.producerEpoch) {
      return refused(ErrorCode.INVALID_RECORD,
        `batches of one partition entry disagree: producer ${first.producerId} epoch ${first.producerEpoch}, then producer ${h.producerId} epoch ${h.producerEpoch}`) as Extract<SequenceVerdict, { kind: 'refused' }>
    }
    if (isIdempotent(h) && h.baseSequence !== advanceSequence(prev.baseSequence, prev.recordCount)) {
      return refused(ErrorCode.INVALID_RECORD,
        `batches of one partition entry do not follow each other: sequence ${h.baseSequence} after ${prev.baseSequence}..${advanceSequence(prev.baseSequence, prev.recordCount - 1)}`) as Extract<SequenceVerdict, { kind: 'refused' }>
    }
  }
  const duplicates: Array<{ baseOffset: number; lastOffset: number }> = []
  for (let i = 0; i < headers.length; i++) {
    const v = table.check(headers[i], nowMs)
    if (v.kind === 'refused') return v
    // The rest follow this one's sequences (checked above): all new once one is.
    if (v.kind === 'append') return { kind: 'ok', duplicates, firstNew: i }
    duplicates.push({ baseOffset: v.baseOffset, lastOffset: v.lastOffset })
  }
  return { kind: 'ok', duplicates, firstNew: headers.length }
}
