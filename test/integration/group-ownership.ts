// Partition ownership as consumer-group members report it from their own onAssigned /
// onRevoked callbacks, possibly in several processes (a page, a child process): each event
// carries its wall-clock time (performance.timeOrigin + performance.now(), shared by processes
// on one machine), and the log replays them in time order to find a partition given to one
// member while another still owned it. At equal times a revocation goes first.

export interface OwnershipEvent {
  member: string
  kind: 'assigned' | 'revoked'
  partitions: number[]
  at: number
}

export const wallClockMs = () => performance.timeOrigin + performance.now()

export class OwnershipLog {
  private readonly events: OwnershipEvent[] = []

  add(event: OwnershipEvent): void {
    this.events.push(event)
  }

  /** Adds the events of `member` not added yet (a page or child reports all of its events each time). */
  sync(member: string, events: readonly Omit<OwnershipEvent, 'member'>[]): void {
    const known = this.events.filter((e) => e.member === member).length
    for (const e of events.slice(known)) this.add({ ...e, member })
  }

  /** Replays every event in time order: who owns each partition, and each time two did at once. */
  replay(): { owner: Map<number, string>; violations: string[] } {
    const owner = new Map<number, string>()
    const violations: string[] = []
    const ordered = [...this.events].sort((a, b) => a.at - b.at || (a.kind === b.kind ? 0 : a.kind === 'revoked' ? -1 : 1))
    for (const e of ordered) {
      for (const p of e.partitions) {
        const current = owner.get(p)
        if (e.kind === 'assigned') {
          if (current !== undefined) violations.push(`${e.member} was given partition ${p} at ${e.at.toFixed(1)} while ${current} owned it`)
          owner.set(p, e.member)
        } else {
          if (current !== e.member) violations.push(`${e.member} gave up partition ${p}, owned by ${current}`)
          owner.delete(p)
        }
      }
    }
    return { owner, violations }
  }

  owned(member: string): number[] {
    return [...this.replay().owner].filter(([, m]) => m === member).map(([p]) => p).sort((a, b) => a - b)
  }

  /** Events of `member` after `since`. */
  after(member: string, since: number): OwnershipEvent[] {
    return this.events.filter((e) => e.member === member && e.at > since)
  }
}

/** Polls `cond` (which may be async) every 20 ms until it holds, or throws naming `what` after `timeoutMs`. */
export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}
