// A cancellable sleep: close() of a producer or consumer must not wait out a back-off. The
// clock is a group member's heartbeat clock in a browser (heartbeat-clock.ts), else timers.
import { timerClock, type Clock } from './heartbeat-clock.js'

export class Sleeper {
  private readonly wakers = new Set<() => void>()

  constructor(private readonly clock: Clock = timerClock) {}

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        cancel()
        this.wakers.delete(done)
        resolve()
      }
      const cancel = this.clock.after(ms, done)
      this.wakers.add(done)
    })
  }

  /** Ends every sleep now. */
  wakeAll(): void {
    for (const wake of [...this.wakers]) wake()
  }
}
