// Broker membership on the active controller: the shell around the pure decisions of
// membership.ts. A registration or heartbeat is decided against the controller's state (its
// committed image plus the records it appended and not yet committed) and answered once the
// records it caused — and every record appended before them — are committed, never earlier, or
// REQUEST_TIMED_OUT past answerTimeoutMs. A lease timer fences unfenced brokers whose lease ran
// out; it runs only while this node is the active controller, whose state starts with a fresh
// lease for every registered broker (ControllerState.elected), so a new controller fences no one
// for a silence only the old one heard.
//
// The controller's state and the metadata log are not this module's: every decision of the
// controller (membership, topics, reports) must be checked against one state, so one shell owns
// it and runs decisions in turn — the ControllerLog below, which the metadata quorum implements.
import { ErrorCode } from '../../../protocol/index.js'
import type { Logger } from '../../log.js'
import { LEASE_EXPIRY_RETRY_MS, MEMBERSHIP_ANSWER_TIMEOUT_MS } from '../decisions/limits.js'
import { expireLeases, heartbeat, register, type HeartbeatRequest, type MembershipAnswer, type RegisterRequest } from '../decisions/membership.js'
import type { ControllerError, ControllerState, Decision, DecisionContext } from '../decisions/state.js'

/** A decision's outcome once carried out: its answer, or why not. */
export type Decided<A> = { readonly ok: true; readonly answer: A } | { readonly ok: false; readonly error: ControllerError }

/**
 * The active controller's state and the metadata log, as the membership service uses them.
 * Implemented by the controller's shell over the `__cluster_metadata` Raft group; the contract:
 * - `active()` is the controller's state while this node is the active controller — from
 *   ControllerState.elected(config, image, committedOffset, now) once its epoch's first offset is
 *   committed and replayed, then each decision's `next` and `committedTo(hw)` as the log commits
 *   — and null otherwise.
 * - `decide(decision)` runs `decision(active(), ctx)` in turn with every other decision of the
 *   controller, with ctx.nowMs from the same clock as the service's `now` and ctx.logEnd the
 *   metadata log's end; keeps `next` and appends `records` (if any) as one batch at ctx.logEnd.
 *   It resolves with the answer once the high watermark has passed that batch, or, for a
 *   decision without records, everything appended before it (so no answer rests on records
 *   that may yet be lost). It resolves with the decision's own refusal at once, and with
 *   NOT_CONTROLLER when this node is not, or stops being, the active controller before then.
 *   It never rejects.
 * - `onActiveChange(listener)` calls the listener whenever active() turns non-null or null.
 */
export interface ControllerLog {
  active(): ControllerState | null
  decide<A>(decision: (state: ControllerState, ctx: DecisionContext) => Decision<A>): Promise<Decided<A>>
  onActiveChange(listener: (active: boolean) => void): void
}

export interface MembershipServiceOptions {
  readonly controller: ControllerLog
  readonly log: Logger
  /** The clock of lease times (the controller log's ctx.nowMs); default Date.now. */
  readonly now?: () => number
  /** Default MEMBERSHIP_ANSWER_TIMEOUT_MS. */
  readonly answerTimeoutMs?: number
}

export type MembershipResult = Decided<MembershipAnswer>

export class MembershipService {
  private readonly now: () => number
  private readonly answerTimeoutMs: number
  private leaseTimer: NodeJS.Timeout | null = null
  /** A lease-expiry decision is running (one at a time). */
  private expiring = false
  private closed = false

  constructor(private readonly o: MembershipServiceOptions) {
    this.now = o.now ?? Date.now
    this.answerTimeoutMs = o.answerTimeoutMs ?? MEMBERSHIP_ANSWER_TIMEOUT_MS
    o.controller.onActiveChange(() => this.armLeaseTimer())
    this.armLeaseTimer()
  }

  /** A broker registers (fenced until it catches up); answered once committed. */
  register(req: RegisterRequest): Promise<MembershipResult> {
    return this.answer((state, ctx) => register(state, req, ctx))
  }

  /** A broker renews its lease, and is unfenced once caught up; answered once committed. */
  heartbeat(req: HeartbeatRequest): Promise<MembershipResult> {
    return this.answer((state, ctx) => heartbeat(state, req, ctx))
  }

  /** Stops the lease timer; later requests are answered NOT_CONTROLLER. */
  close(): void {
    this.closed = true
    this.clearLeaseTimer()
  }

  private async answer(decision: (state: ControllerState, ctx: DecisionContext) => Decision<MembershipAnswer>): Promise<MembershipResult> {
    if (this.closed) return { ok: false, error: { code: ErrorCode.NOT_CONTROLLER, message: 'this node is stopping; ask the next active controller' } }
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<MembershipResult>((resolve) => {
      timer = setTimeout(() => resolve({
        ok: false,
        error: { code: ErrorCode.REQUEST_TIMED_OUT, message: `the controller did not commit the answer within ${this.answerTimeoutMs} ms; it may yet: try again` },
      }), this.answerTimeoutMs)
    })
    const result = await Promise.race([this.o.controller.decide(decision), timedOut])
    clearTimeout(timer)
    // A heartbeat may have unfenced a broker: its lease may now be the first to run out.
    this.armLeaseTimer()
    return result
  }

  /** Sets the lease timer to the first unfenced broker's lease end, while this node is the active controller. */
  private armLeaseTimer(delayMs?: number): void {
    this.clearLeaseTimer()
    if (this.closed || this.expiring) return
    const state = this.o.controller.active()
    const next = state?.nextLeaseExpiryMs() ?? null
    if (next === null) return
    const ms = delayMs ?? Math.max(0, next - this.now())
    this.leaseTimer = setTimeout(() => void this.expire(), ms).unref()
  }

  private clearLeaseTimer(): void {
    if (this.leaseTimer !== null) clearTimeout(this.leaseTimer)
    this.leaseTimer = null
  }

  /** Fences every broker whose lease ran out, then sets the timer for the next. */
  private async expire(): Promise<void> {
    this.leaseTimer = null
    this.expiring = true
    let retryInMs: number | undefined
    try {
      const result = await this.o.controller.decide((state, ctx) => expireLeases(state, ctx))
      if (result.ok && result.answer.length > 0) this.o.log.warn('brokers fenced: their lease ran out', { brokers: result.answer })
      if (!result.ok && result.error.code !== ErrorCode.NOT_CONTROLLER) {
        this.o.log.warn('fencing brokers whose lease ran out failed; trying again', { code: result.error.code, error: result.error.message })
        retryInMs = LEASE_EXPIRY_RETRY_MS
      }
    } catch (err) {
      this.o.log.error('fencing brokers whose lease ran out failed', { error: (err as Error).stack ?? String(err) })
      retryInMs = LEASE_EXPIRY_RETRY_MS
    } finally {
      this.expiring = false
    }
    this.armLeaseTimer(retryInMs)
  }
}
