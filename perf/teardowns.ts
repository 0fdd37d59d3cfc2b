// Teardown callbacks for perf scripts that borrow the integration tests' process helpers
// (ProcessCluster registers each broker process here): run in reverse at the end.
export class Teardowns {
  private readonly fns: Array<() => unknown> = []
  teardown(fn: () => unknown): void {
    this.fns.push(fn)
  }
  async run(): Promise<void> {
    for (const fn of this.fns.reverse()) await fn()
  }
}
