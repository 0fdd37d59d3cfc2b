// Teardown callbacks for perf scripts that borrow the integration tests' process helpers
// (ProcessCluster registers each broker process here): run in reverse at the end, and on
// SIGTERM / SIGINT (the perf runner stops a script that way), so no broker outlives its script.
const live = new Set<Teardowns>()
let handlersInstalled = false

function installSignalHandlers(): void {
  if (handlersInstalled) return
  handlersInstalled = true
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      void Promise.allSettled([...live].map((t) => t.run())).finally(() => process.exit(128 + (signal === 'SIGINT' ? 2 : 15)))
    })
  }
}

export class Teardowns {
  private readonly fns: Array<() => unknown> = []
  constructor() {
    installSignalHandlers()
    live.add(this)
  }
  teardown(fn: () => unknown): void {
    this.fns.push(fn)
  }
  async run(): Promise<void> {
    live.delete(this)
    const fns = this.fns.splice(0).reverse()
    for (const fn of fns) await fn()
  }
}
