// A cancellable sleep: close() of a producer or consumer must not wait out a back-off.

export class Sleeper {
  private readonly wakers = new Set<() => void>()

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.wakers.delete(done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      this.wakers.add(done)
    })
  }

  /** Ends every sleep now. */
  wakeAll(): void {
    for (const wake of [...this.wakers]) wake()
  }
}
