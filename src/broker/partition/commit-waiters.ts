// acks=all producers waiting for the high watermark to pass their batch, each tied to the leader
// epoch it was made in: a leadership change fails the waiters of every other epoch, so no waiter
// is ever released by a later leader's HW over bytes that may have replaced its own.
import { ErrorCode } from '../../protocol/index.js'
import type { Timers } from '../../storage/index.js'
import { HW_WAITERS_MAX } from './limits.js'
import { ReplicaError } from './replica-error.js'

interface Waiter {
  readonly offset: number
  readonly epoch: number
  resolve(): void
  reject(err: Error): void
}

export class CommitWaiters {
  private waiters: Waiter[] = []

  constructor(private readonly timers: Timers) {}

  /** Resolves once `release` passes `offset`; fails on timeout or when `fail` names another epoch. */
  wait(offset: number, epoch: number, timeoutMs: number): Promise<void> {
    if (this.waiters.length >= HW_WAITERS_MAX) {
      return Promise.reject(new ReplicaError(ErrorCode.NOT_ENOUGH_REPLICAS, 'too many produce requests waiting for replication'))
    }
    return new Promise((resolve, reject) => {
      const cancel = this.timers.after(timeoutMs, () => {
        this.waiters = this.waiters.filter((w) => w !== waiter)
        reject(new ReplicaError(ErrorCode.REQUEST_TIMED_OUT, `not replicated within ${timeoutMs} ms; the batch may still commit`))
      })
      const waiter: Waiter = {
        offset,
        epoch,
        resolve: () => {
          cancel()
          resolve()
        },
        reject: (err) => {
          cancel()
          reject(err)
        },
      }
      this.waiters.push(waiter)
    })
  }

  /** The high watermark reached `hw`: waiters at or below it are done. */
  release(hw: number): void {
    const done = this.waiters.filter((w) => w.offset <= hw)
    if (done.length === 0) return
    this.waiters = this.waiters.filter((w) => w.offset > hw)
    for (const w of done) w.resolve()
  }

  /** Fails the waiters of every epoch but `keepEpoch` (-1: all of them). */
  fail(err: ReplicaError, keepEpoch = -1): void {
    const failing = this.waiters.filter((w) => w.epoch !== keepEpoch)
    if (failing.length === 0) return
    this.waiters = this.waiters.filter((w) => w.epoch === keepEpoch)
    for (const w of failing) w.reject(err)
  }
}
