// Exponential back-off with jitter, as Kafka's ExponentialBackoff: delay = initial *
// multiplier^attempt, capped, then scaled by a random factor in [1 - jitter, 1 + jitter] (and
// capped again). Jitter keeps many clients (or many tabs woken together after background
// throttling) from retrying in lock-step. Randomness is injected so tests are exact.
import {
  BACKOFF_JITTER, BACKOFF_MULTIPLIER, RETRIES_DEFAULT, RETRY_BACKOFF_INITIAL_MS, RETRY_BACKOFF_MAX_MS, intOption, numberOption,
} from './limits.js'
import { isRetriableError } from './errors.js'

export interface BackoffOptions {
  initialMs?: number
  maxMs?: number
  multiplier?: number
  /** 0..1: the delay varies by ± this fraction. */
  jitter?: number
}

export class Backoff {
  readonly initialMs: number
  readonly maxMs: number
  readonly multiplier: number
  readonly jitter: number

  constructor(options: BackoffOptions = {}, private readonly random: () => number = Math.random) {
    this.initialMs = intOption('initialMs', options.initialMs, RETRY_BACKOFF_INITIAL_MS, 0)
    this.maxMs = intOption('maxMs', options.maxMs, RETRY_BACKOFF_MAX_MS, this.initialMs)
    this.multiplier = numberOption('multiplier', options.multiplier, BACKOFF_MULTIPLIER, 1, 1_000)
    this.jitter = numberOption('jitter', options.jitter, BACKOFF_JITTER, 0, 1)
  }

  /** Delay before retry number `attempt` (0 for the first retry). */
  delayMs(attempt: number): number {
    // Cap the exponent so a long outage cannot overflow to Infinity.
    const exp = Math.min(this.maxMs, this.initialMs * this.multiplier ** Math.min(attempt, 64))
    const factor = 1 - this.jitter + 2 * this.jitter * this.random()
    return Math.round(Math.min(this.maxMs, exp * factor))
  }
}

export interface RetryOptions extends BackoffOptions {
  /** Retries after the first attempt. */
  retries?: number
}

/** Decides whether and when to retry a failed attempt: retriable error, attempts, deadline. */
export class RetryPolicy {
  readonly retries: number
  readonly backoff: Backoff

  constructor(options: RetryOptions = {}, random: () => number = Math.random) {
    this.retries = intOption('retries', options.retries, RETRIES_DEFAULT, 0)
    this.backoff = new Backoff(options, random)
  }

  /**
   * The delay before retrying after failure number `failures` (1 for the first), or null when
   * the error is final: not retriable, out of retries, or the retry would start past `deadline`.
   */
  nextDelayMs(err: unknown, failures: number, now: number, deadline = Infinity): number | null {
    if (!isRetriableError(err) || failures > this.retries) return null
    const delay = this.backoff.delayMs(failures - 1)
    return now + delay < deadline ? delay : null
  }
}
