// Runs async tasks one at a time, in the order they were submitted: the one promise-chain lock
// of the code base (a log's mutations, a replica's inputs, one connection's appends to a
// partition). A failed task fails only its own caller; the next task still runs. The queue is
// bounded: past `queuedMax` waiting tasks, `run` refuses at once with the caller's error.

export class Serial {
  private tail: Promise<unknown> = Promise.resolve()
  private queued = 0

  constructor(
    /** Tasks that may wait (the running one included); Infinity when an outer limit bounds them. */
    private readonly queuedMax: number,
    /** The error a refused task rejects with (a typed, retriable one where a client sees it). */
    private readonly full: (queuedMax: number) => Error = (max) => new Error(`serial queue full (${max} tasks waiting)`),
  ) {}

  /** Tasks submitted and not yet settled (the running one included). */
  get size(): number {
    return this.queued
  }

  /** Runs `task` after every task submitted before it has settled. */
  run<T>(task: () => T | Promise<T>): Promise<T> {
    if (this.queued >= this.queuedMax) return Promise.reject(this.full(this.queuedMax))
    this.queued++
    const result = this.tail.then(task)
    this.tail = result.then(
      () => this.queued--,
      () => this.queued--,
    )
    return result
  }

  /** Resolves once every task submitted so far has settled. */
  idle(): Promise<void> {
    return this.tail.then(() => undefined)
  }
}

/**
 * One Serial per key, made on first use and dropped once idle: independent queues (say, one per
 * partition) that never wait for each other. Bounded by the callers (e.g. requests in flight).
 */
export class KeyedSerial {
  private readonly queues = new Map<string, Serial>()

  run<T>(key: string, task: () => T | Promise<T>): Promise<T> {
    let queue = this.queues.get(key)
    if (queue === undefined) {
      queue = new Serial(Number.POSITIVE_INFINITY)
      this.queues.set(key, queue)
    }
    const result = queue.run(task)
    const settled = () => {
      if (queue.size === 0 && this.queues.get(key) === queue) this.queues.delete(key)
    }
    void result.then(settled, settled)
    return result
  }

  /** Keys with tasks waiting or running (for tests: idle keys leave nothing behind). */
  get activeKeys(): number {
    return this.queues.size
  }
}
