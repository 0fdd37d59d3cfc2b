// acks=all producers waiting for the high watermark to pass their batch, each tied to the leader
// epoch it was made in: a leadership change fails the waiters of every other epoch, so no waiter
// is ever released by a later leader's HW over bytes that may have replaced its own. A waiter
// may need more than the HW (flushed on a majority): min.insync.replicas above a majority needs
// that many replicas to have flushed its batch.
import { ErrorCode } from '../../protocol/index.js'
import type { Timers } from '../../storage/index.js'
import { HW_WAITERS_MAX } from './limits.js'
import { ReplicaError } from './replica-error.js'

interface Waiter {
  readonly offset: number
  readonly epoch: number
  /** Replicas that must have flushed below `offset` besides the HW passing it; 0: the HW suffices. */
  readonly replicasNeeded: number
  resolve(): void
  reject(err: Error): void
}

export class CommitWaiters {
  private waiters: Waiter[] = []
  /** Waiters with replicasNeeded > 0 (so a publish without them costs no scan). */
  private flushWaiters = 0

  constructor(private readonly timers: Timers) {}

  /**
   * Resolves once `release` passes `offset` (with `replicasNeeded` replicas flushed to it, if more
   * than 0); fails on timeout (`timedOut` says why, else REQUEST_TIMED_OUT) or when `fail` names
   * another epoch.
   */
  wait(offset: number, epoch: number, timeoutMs: number, replicasNeeded = 0, timedOut?: () => ReplicaError): Promise<void> {
    if (this.waiters.length >= HW_WAITERS_MAX) {
      return Promise.reject(new ReplicaError(ErrorCode.NOT_ENOUGH_REPLICAS, 'too many produce requests waiting for replication'))
    }
    return new Promise((resolve, reject) => {
      const cancel = this.timers.after(timeoutMs, () => {
        this.take((w) => w === waiter)
        reject(timedOut?.() ?? new ReplicaError(ErrorCode.REQUEST_TIMED_OUT, `not replicated within ${timeoutMs} ms; the batch may still commit`))
      })
      const waiter: Waiter = {
        offset,
        epoch,
        replicasNeeded,
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
      if (replicasNeeded > 0) this.flushWaiters++
    })
  }

  /**
   * The high watermark is `hw`: waiters at or below it are done, those needing more replicas once
   * `flushedOn(offset)` (how many replicas have flushed below `offset`) says enough have.
   */
  release(hw: number, flushedOn: (offset: number) => number): void {
    for (const w of this.take((w) => w.offset <= hw && (w.replicasNeeded === 0 || flushedOn(w.offset) >= w.replicasNeeded))) w.resolve()
  }

  /** Some waiter needs more than the HW: a follower's flush may release it though the HW did not move. */
  get waitingOnFlushes(): boolean {
    return this.flushWaiters > 0
  }

  /** Fails the waiters of every epoch but `keepEpoch` (-1: all of them). */
  fail(err: ReplicaError, keepEpoch = -1): void {
    for (const w of this.take((w) => w.epoch !== keepEpoch)) w.reject(err)
  }

  /** Removes and returns the waiters `matches` picks. */
  private take(matches: (w: Waiter) => boolean): Waiter[] {
    const taken: Waiter[] = []
    const left: Waiter[] = []
    for (const w of this.waiters) (matches(w) ? taken : left).push(w)
    if (taken.length === 0) return taken
    this.waiters = left
    for (const w of taken) if (w.replicasNeeded > 0) this.flushWaiters--
    return taken
  }
}
