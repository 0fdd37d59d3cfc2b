// Time and scheduling as a value, so callers can inject them: the system's in production, a
// simulator's virtual ones in a simulated run (where a seed then replays exactly). The storage
// engine and the replica shell take everything time-related from here.

export interface Timers {
  /** Milliseconds since the epoch (or since a simulation began). */
  now(): number
  /** Runs `fn` once the current turn's other work is done (setImmediate). */
  soon(fn: () => void): void
  /** Runs `fn` after `ms` milliseconds; the returned function cancels it. */
  after(ms: number, fn: () => void): () => void
}

export const systemTimers: Timers = {
  now: () => Date.now(),
  soon: (fn) => {
    setImmediate(fn)
  },
  after: (ms, fn) => {
    const timer = setTimeout(fn, ms)
    return () => clearTimeout(timer)
  },
}
