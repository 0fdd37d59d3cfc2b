// Every wait an application can see has a documented bound: a send waits for room and metadata
// up to maxBlockMs, an admin call or a consumer's offset lookup up to apiTimeoutMs. A Deadline
// carries the instant and the option it comes from, so what runs out of time says which bound
// it was and what stood in the way (most often: no broker could be reached, and why).
import { ClientError, isConnectionError, type ClientErrorCode } from './errors.js'

/** What Deadline.race resolves to when the deadline passed first. */
export const EXPIRED: unique symbol = Symbol('deadline expired')

export class Deadline {
  constructor(
    readonly at: number,
    /** The bound, for messages: e.g. 'maxBlockMs (60000 ms)'. */
    readonly bound: string,
  ) {}

  static after(ms: number, option: string, now: number): Deadline {
    return new Deadline(now + ms, `${option} (${ms} ms)`)
  }

  remainingMs(now: number): number {
    return Math.max(0, this.at - now)
  }

  /**
   * `work`'s outcome, or EXPIRED once the deadline passes. The work is not cancelled (a
   * connection attempt goes on and may serve the next caller); its late outcome is dropped.
   */
  race<T>(work: Promise<T>, now: number): Promise<T | typeof EXPIRED> {
    return new Promise<T | typeof EXPIRED>((resolve, reject) => {
      const timer = setTimeout(() => resolve(EXPIRED), this.remainingMs(now))
      work.then(
        (value) => {
          clearTimeout(timer)
          resolve(value)
        },
        (err: unknown) => {
          clearTimeout(timer)
          reject(err)
        },
      )
    })
  }

  /** The error ending `what` at this deadline: see giveUp. */
  expired(what: string, last: unknown, code?: ClientErrorCode): Error {
    return giveUp(what, `within ${this.bound}`, last, code)
  }
}

/**
 * The error ending `what` after retriable failures, out of time or of retries (`when` says
 * which). NO_BROKER_AVAILABLE (retriable) when the last failure was reaching a broker, or
 * nothing answered at all; otherwise `code` if given, else the last failure itself. The
 * message ends with the last failure's, which is also the cause.
 */
export function giveUp(what: string, when: string, last: unknown, code?: ClientErrorCode): Error {
  if (last === undefined) return new ClientError('NO_BROKER_AVAILABLE', `${what}: no broker answered ${when}`)
  const message = last instanceof Error ? last.message : String(last)
  if (isConnectionError(last) || (last instanceof ClientError && last.code === 'REQUEST_TIMEOUT')) {
    return new ClientError('NO_BROKER_AVAILABLE', `${what}: no broker could be reached ${when}: ${message}`, { cause: last })
  }
  if (code === undefined) return last instanceof Error ? last : new Error(message)
  return new ClientError(code, `${what}: not done ${when}: ${message}`, { cause: last })
}
