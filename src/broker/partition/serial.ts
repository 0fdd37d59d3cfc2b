// Runs async tasks one at a time, in submission order. A failed task does not stop the queue.

export class Serial {
  private tail: Promise<unknown> = Promise.resolve()
  private queued = 0

  constructor(private readonly queuedMax: number) {}

  run<T>(task: () => T | Promise<T>): Promise<T> {
    if (this.queued >= this.queuedMax) {
      return Promise.reject(new Error(`serial queue full (${this.queuedMax} tasks waiting)`))
    }
    this.queued++
    const result = this.tail.then(task)
    this.tail = result.then(
      () => this.queued--,
      () => this.queued--,
    )
    return result
  }
}
