// Runs an async task so that concurrent requests share runs: a request while the task is idle
// starts it at once; requests while it runs all share the single next run. This is group
// commit when the task is an fsync: one fsync covers every append made before it started,
// and appends that arrive during it wait for (and share) exactly one more.
export class Coalescer {
  private running: Promise<void> | null = null
  private next: Promise<void> | null = null

  constructor(private readonly task: () => Promise<void>) {}

  /** Resolves after a run that started after this call (so it covers the caller's writes). */
  run(): Promise<void> {
    if (this.running === null) {
      this.running = this.start()
      return this.running
    }
    this.next ??= this.running.then(
      () => this.promoteNext(),
      () => this.promoteNext(),
    )
    return this.next
  }

  /** Resolves when no run is in progress or queued (errors are the runs' callers' to see). */
  async idle(): Promise<void> {
    while (this.running !== null) await this.running.catch(() => undefined)
  }

  private promoteNext(): Promise<void> {
    const p = this.start()
    this.running = p
    this.next = null
    return p
  }

  private start(): Promise<void> {
    const p = this.task()
    const clear = () => {
      if (this.running === p && this.next === null) this.running = null
    }
    p.then(clear, clear)
    return p
  }
}
