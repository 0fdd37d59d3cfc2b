// What a group member waits on between heartbeats. In Node, plain timers. In a browser, a tab
// in the background has its timers throttled (Chrome runs chained timers about once a minute in
// a tab hidden for five minutes), which would let a member miss its session and lose its
// partitions; a dedicated Worker's timers are not throttled that way. So the browser member's
// clock ticks in a small Worker made from a Blob URL (the bundle stays one file): the worker
// only counts time, and the heartbeat itself still goes out on the page's connection — a
// message from the worker wakes the page, which is not throttled, and the connection's socket
// is not either. Moving the membership into the worker would mean a second client (bundle,
// connection, coordinator lookup) in the worker for no gain. Where Worker is missing or fails
// (no Worker in the runtime, a Content-Security-Policy without `worker-src blob:`), the clock
// falls back to timers, with a warning.

/** Calls `fn` after `ms`; the function returned cancels it. */
export interface Clock {
  after(ms: number, fn: () => void): () => void
  /** Ends the clock (a worker is terminated); pending ticks never fire. */
  close(): void
}

export const timerClock: Clock = {
  after(ms, fn) {
    const timer = setTimeout(fn, ms)
    return () => clearTimeout(timer)
  },
  close() {},
}

/** The worker: { id, ms } arms tick `id` (ms < 0 cancels it); it posts `id` back when due. */
const WORKER_SOURCE = `const ticks = new Map()
onmessage = (e) => {
  const { id, ms } = e.data
  clearTimeout(ticks.get(id))
  ticks.delete(id)
  if (ms >= 0) ticks.set(id, setTimeout(() => { ticks.delete(id); postMessage(id) }, ms))
}`

const warnOnConsole = (message: string) => console.warn(message)

/** A clock ticking in a dedicated Worker, or timers (with a warning) where a Worker cannot run. */
export function workerClock(warn: (message: string) => void = warnOnConsole): Clock {
  const WorkerClass = (globalThis as { Worker?: typeof Worker }).Worker
  if (typeof WorkerClass !== 'function') {
    warn('bitacora: no Worker here; group heartbeats use timers, which a background tab throttles (ask for a sessionTimeoutMs above 60 s)')
    return timerClock
  }
  let url: string
  let worker: Worker
  try {
    url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }))
    worker = new WorkerClass(url)
  } catch (err) {
    warn(`bitacora: cannot start the heartbeat Worker (${(err as Error).message}); group heartbeats use timers, which a background tab throttles`)
    return timerClock
  }
  const pending = new Map<number, { fn: () => void; dueMs: number }>()
  let nextId = 1
  let failed = false
  worker.onmessage = (e: MessageEvent<number>) => {
    const tick = pending.get(e.data)
    pending.delete(e.data)
    tick?.fn()
  }
  // A worker refused after construction (CSP) reports an error event: the ticks move to timers.
  worker.onerror = (e: Event) => {
    e.preventDefault()
    if (failed) return
    failed = true
    warn('bitacora: the heartbeat Worker failed (a Content-Security-Policy without worker-src blob:?); group heartbeats use timers, which a background tab throttles')
    for (const [id, tick] of pending) {
      pending.delete(id)
      timerClock.after(Math.max(0, tick.dueMs - Date.now()), tick.fn)
    }
  }
  return {
    after(ms, fn) {
      if (failed) return timerClock.after(ms, fn)
      const id = nextId++
      pending.set(id, { fn, dueMs: Date.now() + ms })
      worker.postMessage({ id, ms })
      return () => {
        if (pending.delete(id)) worker.postMessage({ id, ms: -1 })
      }
    },
    close() {
      pending.clear()
      worker.terminate()
      URL.revokeObjectURL(url)
    },
  }
}
