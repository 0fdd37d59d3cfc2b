// One admin call's retry loop: attempts until one succeeds, a failure is not retriable, the
// client closes, or the deadline passes (attempts raced against it, back-off between them).
import type { RetryPolicy } from './backoff.js'
import { type Deadline, EXPIRED, giveUp } from './deadline.js'
import { ClientError } from './errors.js'
import type { Sleeper } from './sleep.js'

export interface RetryLoop {
  readonly now: () => number
  readonly retry: RetryPolicy
  readonly sleeper: Sleeper
  readonly isClosed: () => boolean
}

export async function retryUntil<T>(
  loop: RetryLoop, what: string, deadline: Deadline, retriable: (err: unknown) => boolean, attempt: () => Promise<T>,
): Promise<T> {
  let last: unknown
  for (let failures = 1; ; failures++) {
    if (loop.isClosed()) throw new ClientError('CLIENT_CLOSED', `admin closed during ${what}`)
    let result: T | typeof EXPIRED
    try {
      result = await deadline.race(attempt(), loop.now())
    } catch (err) {
      if (!retriable(err)) throw err
      last = err
      const delay = loop.retry.nextDelayMs(err, failures, loop.now(), deadline.at)
      if (delay === null) throw giveUp(what, `(${failures} attempts, ${deadline.bound})`, err)
      await loop.sleeper.sleep(delay)
      continue
    }
    if (result === EXPIRED) throw deadline.expired(what, last)
    return result
  }
}
