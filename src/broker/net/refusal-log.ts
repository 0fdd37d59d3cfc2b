// Refused connections, logged without flooding: the first refusal of a kind is logged at once,
// later ones are counted and summed up in one line per interval.
import { REFUSAL_LOG_INTERVAL_MS } from '../limits.js'
import type { Logger } from '../log.js'

interface Pending {
  count: number
  last: Record<string, unknown>
}

export class RefusalLog {
  private readonly pending = new Map<string, Pending>()
  private readonly lastLoggedAt = new Map<string, number>()
  private timer: ReturnType<typeof setTimeout> | null = null

  constructor(
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  refused(kind: string, fields: Record<string, unknown>): void {
    const at = this.now()
    const last = this.lastLoggedAt.get(kind)
    if (last === undefined || at - last >= REFUSAL_LOG_INTERVAL_MS) {
      this.lastLoggedAt.set(kind, at)
      this.log.warn('connection refused', { kind, ...fields })
      return
    }
    const p = this.pending.get(kind) ?? { count: 0, last: fields }
    p.count++
    p.last = fields
    this.pending.set(kind, p)
    this.timer ??= setTimeout(() => this.flush(), REFUSAL_LOG_INTERVAL_MS).unref()
  }

  /** Logs the counts of refusals held back so far. */
  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    for (const [kind, p] of this.pending) {
      this.log.warn('connections refused', { kind, count: p.count, ...p.last })
      this.lastLoggedAt.set(kind, this.now())
    }
    this.pending.clear()
  }
}
