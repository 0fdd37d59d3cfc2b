// Warnings about peers that could repeat every event-loop turn (frames dropped, a peer
// unreachable, malformed frames): the first of a kind is logged at once, later ones within
// PEER_WARNING_INTERVAL_MS are counted and reported as `suppressed` on the next line of that
// kind. No timer: a kind that stops happening leaves its count in the link's stats.
import { PEER_WARNING_INTERVAL_MS } from '../limits.js'
import type { Logger } from '../log.js'

export class PeerWarnings {
  private readonly lastAt = new Map<string, number>()
  private readonly suppressed = new Map<string, number>()

  constructor(
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  warn(kind: string, message: string, fields: Record<string, unknown>): void {
    const at = this.now()
    const last = this.lastAt.get(kind)
    if (last !== undefined && at - last < PEER_WARNING_INTERVAL_MS) {
      this.suppressed.set(kind, (this.suppressed.get(kind) ?? 0) + 1)
      return
    }
    const suppressed = this.suppressed.get(kind) ?? 0
    this.suppressed.delete(kind)
    this.lastAt.set(kind, at)
    this.log.warn(message, suppressed > 0 ? { ...fields, suppressed } : fields)
  }
}
