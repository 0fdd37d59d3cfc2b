// The active controller's state and the shape of its decisions. Pure: no I/O, no clock, no
// randomness — the time, the metadata log's end and new ids come in as arguments, so the same
// inputs always give the same records (test/broker/controller/scripts/*.txt).
//
// A decision is a function of (state, request, context): it checks the request against the
// image of every record appended so far, committed or not (so two creates of one name cannot
// both be appended), and answers with the records to append and the next state, or a typed
// error. The shell appends the records at `context.logEnd` and keeps `next`; if the append is
// refused (leadership lost) it keeps nothing. Decisions: membership.ts (register, heartbeat,
// lease expiry), topic-decisions.ts (create, delete, alter configs), reports.ts (leader
// reports, producer ids).
import { MetadataImage, type MetadataRecord } from '../../../metadata/image.js'
import type { ErrorCode } from '../../../protocol/index.js'
import { PENDING_BATCHES_MAX } from './limits.js'

export interface ControllerConfig {
  /** A broker not heard from for this long is fenced. */
  readonly leaseMs: number
  /** For a CreateTopics that names none. */
  readonly defaultPartitions: number
  readonly defaultReplicationFactor: number
  readonly partitionsPerTopicMax: number
  readonly topicsMax: number
  /** Producer ids per block handed to a broker. */
  readonly producerIdBlockSize: number
}

/** What a decision is given besides the request. */
export interface DecisionContext {
  /** The shell's clock. */
  readonly nowMs: number
  /** Where the decision's records will be appended: the metadata log's end. */
  readonly logEnd: number
  /** A fresh random UUID (32 lowercase hex digits), for topic ids. */
  readonly newUuid: () => string
}

/** A broker's lease, kept by the active controller only (a new one hands out fresh leases). */
export interface BrokerLease {
  /** The broker is fenced at this time unless it heartbeats first. */
  readonly expiresAtMs: number
  /**
   * A fenced broker is unfenced once it has replayed the metadata log up to here (exclusive):
   * past the record that registered or fenced it, so it knows what happened before.
   */
  readonly catchUpOffset: number
}

/** A request refused: the wire code and what to do about it. */
export interface ControllerError {
  readonly code: ErrorCode
  readonly message: string
}

export type Decision<Answer> =
  | { readonly ok: true; readonly answer: Answer; readonly records: readonly MetadataRecord[]; readonly next: ControllerState }
  | { readonly ok: false; readonly error: ControllerError }

export interface PendingBatch {
  readonly startOffset: number
  readonly records: readonly MetadataRecord[]
}

/** The controller's own invariants broke (a bug in Bitácora or its shell, never bad input). */
export class ControllerAssertionError extends Error {
  override name = 'ControllerAssertionError'
}

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new ControllerAssertionError(message)
}

export class ControllerState {
  private constructor(
    readonly config: ControllerConfig,
    /** Records below the metadata log's high watermark. */
    readonly committed: MetadataImage,
    /** Appended, not yet committed, in log order. */
    readonly pending: readonly PendingBatch[],
    /** committed + pending: what every decision is checked against. */
    readonly latest: MetadataImage,
    readonly leases: ReadonlyMap<number, BrokerLease>,
  ) {}

  /**
   * The state of a newly elected controller, once its epoch's first offset is committed and
   * every record below `committedOffset` is replayed into `image` (nothing of earlier epochs is
   * then left uncommitted). Every registered broker gets a fresh lease, so none is fenced for
   * a silence only the old controller heard; a fenced one must catch up to `committedOffset`.
   */
  static elected(config: ControllerConfig, image: MetadataImage, committedOffset: number, nowMs: number): ControllerState {
    assert(config.leaseMs > 0 && config.producerIdBlockSize > 0, 'a lease and a producer id block must be positive')
    assert(Number.isSafeInteger(committedOffset) && committedOffset >= 0, `committed offset ${committedOffset}`)
    const leases = new Map(image.brokers.map((b) => [b.brokerId, { expiresAtMs: nowMs + config.leaseMs, catchUpOffset: committedOffset }]))
    return new ControllerState(config, image, [], image, leases)
  }

  lease(brokerId: number): BrokerLease | undefined {
    return this.leases.get(brokerId)
  }

  /** When the next unfenced broker's lease runs out (for the shell's timer), or null. */
  nextLeaseExpiryMs(): number | null {
    let next: number | null = null
    for (const b of this.latest.brokers) {
      const lease = this.leases.get(b.brokerId)
      if (!b.fenced && lease && (next === null || lease.expiresAtMs < next)) next = lease.expiresAtMs
    }
    return next
  }

  /** The high watermark reached `highWatermark`: batches starting below it are committed. */
  committedTo(highWatermark: number): ControllerState {
    const done = this.pending.findIndex((b) => b.startOffset >= highWatermark)
    const count = done === -1 ? this.pending.length : done
    if (count === 0) return this
    const committed = this.committed.apply(this.pending.slice(0, count).flatMap((b) => b.records))
    return new ControllerState(this.config, committed, this.pending.slice(count), this.latest, this.leases)
  }

  /**
   * A decision's outcome: `records` appended at `ctx.logEnd` (checked against the latest image
   * here, so a decision that writes a misfit fails loudly) and the leases it changed.
   */
  decided<A>(answer: A, records: readonly MetadataRecord[], ctx: DecisionContext, leases: ReadonlyMap<number, BrokerLease> = this.leases): Decision<A> {
    if (records.length === 0) return { ok: true, answer, records, next: leases === this.leases ? this : new ControllerState(this.config, this.committed, this.pending, this.latest, leases) }
    const last = this.pending.at(-1)
    assert(Number.isSafeInteger(ctx.logEnd) && ctx.logEnd > (last?.startOffset ?? -1), `records appended at ${ctx.logEnd}, after a batch at ${last?.startOffset}`)
    assert(this.pending.length < PENDING_BATCHES_MAX, 'more uncommitted batches than the Raft core allows')
    const latest = this.latest.apply(records)
    const pending = [...this.pending, { startOffset: ctx.logEnd, records }]
    return { ok: true, answer, records, next: new ControllerState(this.config, this.committed, pending, latest, leases) }
  }
}

export function refused(code: ErrorCode, message: string): { readonly ok: false; readonly error: ControllerError } {
  return { ok: false, error: { code, message } }
}
