// A broker's side of membership, decided (as Kafka's BrokerLifecycleManager): register with the
// active controller, then heartbeat; whether the broker is fenced. Pure: time comes in as an
// argument, requests go out as outputs, and the shell (lifecycle.ts) owns the timer and the
// controller channel.
//
// The broker is fenced until the controller says otherwise, again whenever it says so, and when
// its own lease runs out: a lease from when it sent its last answered request, so it ends no
// later than the controller's (renewed when the request arrived). A broker cut off from the
// controller thus stops leading before the controller fences it and lets another lead. One
// request at a time; a failed one is tried again after a doubling back-off (at most a heartbeat
// interval for heartbeats, so a lease holds several tries). BROKER_ID_NOT_REGISTERED sends the
// broker back to registering.
import { ErrorCode } from '../../../protocol/index.js'

export interface LifecycleConfig {
  /** Between heartbeats while unfenced. */
  readonly heartbeatIntervalMs: number
  /** Between heartbeats while the controller says fenced (catching up): shorter, to be unfenced soon after. */
  readonly fencedHeartbeatIntervalMs: number
  /** The broker fences itself when this passes without an answered request. */
  readonly leaseMs: number
  /** Back-off after a failed request: doubling from min per failure up to max. */
  readonly retryBackoffMsMin: number
  readonly retryBackoffMsMax: number
}

/** The controller's answer to a registration or heartbeat. */
export type LifecycleAnswer =
  | { readonly ok: true; readonly fenced: boolean }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string; readonly retriable: boolean }

export type LifecycleOutput =
  /** Send this request to the active controller now, and report its answer. */
  | { readonly kind: 'register' | 'heartbeat' }
  /** The broker's fenced state changed. */
  | { readonly kind: 'fenced'; readonly fenced: boolean; readonly reason: string }
  /** A request failed; it is tried again in `retryInMs`. `failures`: in a row. */
  | { readonly kind: 'failed'; readonly request: 'register' | 'heartbeat'; readonly code: ErrorCode; readonly message: string; readonly retriable: boolean; readonly failures: number; readonly retryInMs: number }
  /** A request succeeded after `failures` failed ones. */
  | { readonly kind: 'recovered'; readonly failures: number }

type Phase = 'new' | 'registering' | 'registered' | 'stopped'

export interface LifecycleStatus {
  readonly phase: Phase
  readonly fenced: boolean
  /** When the broker's own lease ends (it fences itself then), or null: none running. */
  readonly leaseEndsAtMs: number | null
  /** Requests failed in a row. */
  readonly failures: number
  /** Whether a request is waiting for its answer. */
  readonly waiting: boolean
}

export class LifecycleState {
  private phase: Phase = 'new'
  private inFlight: { readonly request: 'register' | 'heartbeat'; readonly sentAtMs: number } | null = null
  private nextSendAtMs = 0
  private failures = 0
  private leaseEndsAtMs: number | null = null
  /** What the controller's last answer said (a broker it has not answered is fenced). */
  private controllerFenced = true
  /** As last told: starts fenced. */
  private fenced = true

  constructor(private readonly config: LifecycleConfig) {
    const c = config
    const positive = (n: number) => Number.isInteger(n) && n >= 1
    if (![c.heartbeatIntervalMs, c.fencedHeartbeatIntervalMs, c.leaseMs, c.retryBackoffMsMin, c.retryBackoffMsMax].every(positive)) {
      throw new RangeError(`lifecycle times must be positive integers (ms): ${JSON.stringify(c)}`)
    }
    if (c.leaseMs <= c.heartbeatIntervalMs) throw new RangeError(`the lease (${c.leaseMs} ms) must be longer than the heartbeat interval (${c.heartbeatIntervalMs} ms)`)
    if (c.retryBackoffMsMin > c.retryBackoffMsMax) throw new RangeError(`retry back-off min ${c.retryBackoffMsMin} ms is over its max ${c.retryBackoffMsMax} ms`)
  }

  /** Registers at once. */
  start(nowMs: number): LifecycleOutput[] {
    if (this.phase !== 'new') throw new Error(`start() in phase ${this.phase}`)
    this.phase = 'registering'
    this.nextSendAtMs = nowMs
    return this.tick(nowMs)
  }

  /** Time passed: the own lease may have run out, a request may be due. */
  tick(nowMs: number): LifecycleOutput[] {
    if (this.phase === 'new' || this.phase === 'stopped') return []
    const out: LifecycleOutput[] = []
    if (this.leaseEndsAtMs !== null && nowMs >= this.leaseEndsAtMs) {
      this.leaseEndsAtMs = null
      this.tell(out, nowMs, `no answer from the controller for ${this.config.leaseMs} ms (its own lease ran out)`)
    }
    if (this.inFlight === null && nowMs >= this.nextSendAtMs) {
      const request = this.phase === 'registered' ? 'heartbeat' : 'register'
      this.inFlight = { request, sentAtMs: nowMs }
      out.push({ kind: request })
    }
    return out
  }

  /** The answer to the request in flight. */
  answered(nowMs: number, answer: LifecycleAnswer): LifecycleOutput[] {
    const sent = this.inFlight
    if (this.phase === 'stopped') return []
    if (sent === null) throw new Error('an answer with no request in flight')
    this.inFlight = null
    const out: LifecycleOutput[] = []
    if (answer.ok) {
      if (this.failures > 0) out.push({ kind: 'recovered', failures: this.failures })
      this.failures = 0
      this.phase = 'registered'
      this.controllerFenced = answer.fenced
      this.leaseEndsAtMs = Math.max(this.leaseEndsAtMs ?? 0, sent.sentAtMs + this.config.leaseMs)
      this.nextSendAtMs = nowMs + (answer.fenced ? this.config.fencedHeartbeatIntervalMs : this.config.heartbeatIntervalMs)
      this.tell(out, nowMs, answer.fenced ? 'the controller says fenced (not caught up with the metadata log, or its lease ran out there)' : 'the controller says unfenced')
    } else {
      this.failures++
      let retryInMs = this.backoffMs()
      if (answer.code === ErrorCode.BROKER_ID_NOT_REGISTERED) {
        // The controller does not know this process: it fences it, and the broker registers again at once.
        this.phase = 'registering'
        this.controllerFenced = true
        this.leaseEndsAtMs = null
        retryInMs = 0
        this.tell(out, nowMs, 'the controller does not know this registration')
      } else if (!answer.retriable) {
        retryInMs = this.config.retryBackoffMsMax
      } else if (sent.request === 'heartbeat') {
        retryInMs = Math.min(retryInMs, this.config.heartbeatIntervalMs)
      }
      this.nextSendAtMs = nowMs + retryInMs
      out.push({ kind: 'failed', request: sent.request, code: answer.code, message: answer.message, retriable: answer.retriable, failures: this.failures, retryInMs })
    }
    return [...out, ...this.tick(nowMs)]
  }

  /** No more requests or changes; an answer still on its way is ignored. */
  stop(): void {
    this.phase = 'stopped'
    this.inFlight = null
  }

  /** When tick() has something to do next, or null: nothing until an answer comes. */
  nextWakeMs(): number | null {
    if (this.phase === 'new' || this.phase === 'stopped') return null
    const send = this.inFlight === null ? this.nextSendAtMs : null
    const lease = this.leaseEndsAtMs
    if (send === null) return lease
    return lease === null ? send : Math.min(send, lease)
  }

  status(): LifecycleStatus {
    return { phase: this.phase, fenced: this.fenced, leaseEndsAtMs: this.leaseEndsAtMs, failures: this.failures, waiting: this.inFlight !== null }
  }

  /** Tells a change of the fenced state, if any, with why. */
  private tell(out: LifecycleOutput[], nowMs: number, reason: string): void {
    const leaseRuns = this.leaseEndsAtMs !== null && nowMs < this.leaseEndsAtMs
    const fenced = this.phase !== 'registered' || this.controllerFenced || !leaseRuns
    if (fenced === this.fenced) return
    this.fenced = fenced
    out.push({ kind: 'fenced', fenced, reason })
  }

  private backoffMs(): number {
    const { retryBackoffMsMin: min, retryBackoffMsMax: max } = this.config
    return Math.min(max, min * 2 ** Math.min(this.failures - 1, 30))
  }
}
