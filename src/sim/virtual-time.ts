// Virtual time for a simulated run: a clock that moves only when the simulation says, and timers
// that run in (due time, arming order). Each simulated process gets its own Timers (clock, soon,
// after); a crash kills them, and timers a dead process armed never fire. The replica shell,
// its log and the simulated disk's fsync delays all take their time from here.
import { assert } from '../raft/assert.js'
import type { Timers } from '../storage/index.js'
import { VIRTUAL_TIMERS_MAX } from './limits.js'

interface Task {
  readonly at: number
  readonly seq: number
  readonly fn: () => void
  readonly owner: VirtualProcess
  cancelled: boolean
}

/** One process's timers; `kill()` silences every one it armed. */
export class VirtualProcess {
  alive = true
  readonly timers: Timers

  constructor(time: VirtualTime) {
    this.timers = {
      now: () => time.now,
      soon: (fn) => {
        time.schedule(this, 0, fn)
      },
      after: (ms, fn) => {
        const task = time.schedule(this, ms, fn)
        return () => {
          task.cancelled = true
        }
      },
    }
  }

  kill(): void {
    this.alive = false
  }
}

export class VirtualTime {
  private nowMs = 0
  private seq = 0
  /** Pending tasks, sorted by (at, seq). */
  private readonly queue: Task[] = []

  get now(): number {
    return this.nowMs
  }

  /** Moves the clock forward (tasks due by then run through runDue). */
  advanceTo(ms: number): void {
    assert(ms >= this.nowMs, 'virtual time does not go back')
    this.nowMs = ms
  }

  process(): VirtualProcess {
    return new VirtualProcess(this)
  }

  /** A promise that resolves `ms` from now, in `owner`'s name. */
  sleep(owner: VirtualProcess, ms: number): Promise<void> {
    return new Promise((resolve) => void this.schedule(owner, ms, resolve))
  }

  schedule(owner: VirtualProcess, ms: number, fn: () => void): Task {
    assert(this.queue.length < VIRTUAL_TIMERS_MAX, 'too many virtual timers armed')
    const task: Task = { at: this.nowMs + Math.max(0, ms), seq: this.seq++, fn, owner, cancelled: false }
    // Insert after every task due at the same time or earlier (the queue is short).
    let i = this.queue.length
    while (i > 0 && this.queue[i - 1].at > task.at) i--
    this.queue.splice(i, 0, task)
    return task
  }

  /** Runs the earliest task due by now; false when none is due. Tasks of dead processes are dropped. */
  runDue(): boolean {
    while (this.queue.length > 0 && this.queue[0].at <= this.nowMs) {
      const task = this.queue.shift()!
      if (task.cancelled || !task.owner.alive) continue
      task.fn()
      return true
    }
    return false
  }
}
