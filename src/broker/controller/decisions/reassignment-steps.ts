// The partition leader's next step of a move (KIP-853's one voter at a time): add every target
// replica that is not a voter yet — an observer caught up first —, then remove every voter the
// target leaves out, others before itself (a leader to be removed hands leadership to a target
// voter first, so the group never waits out an election), then, once the voters in force are the
// target and committed, tell the controller. Adding before removing keeps the group at least
// as large as either set, so it never runs on fewer replicas than it had. Pure: the shell
// (node/partition-mover.ts) carries out the step, waits for its record to commit, and asks again.

type NodeId = number

/** What the leader heard from one other replica this epoch (the core's ReplicaProgress has these fields). */
export interface ReplicaSeen {
  readonly id: NodeId
  /** Where its last fetch asked to read from; -1: it has not fetched this epoch. */
  readonly fetchOffset: number
  /** Ticks since its last fetch; -1: it has not fetched this epoch. */
  readonly ticksSinceFetch: number
}

export type ReassignStep =
  | { readonly kind: 'add'; readonly id: NodeId }
  | { readonly kind: 'remove'; readonly id: NodeId }
  | { readonly kind: 'transfer'; readonly to: NodeId }
  | { readonly kind: 'complete' }
  | { readonly kind: 'wait'; readonly why: string }

export interface MoveView {
  /** The leader (this node). */
  readonly self: NodeId
  /** The voter set in force: committed (the shell waits for each change it makes to commit, and a leader's epoch commits earlier ones). */
  readonly voters: readonly NodeId[]
  readonly target: readonly NodeId[]
  /** The leader's view of the other replicas (voters and observers) this epoch. */
  readonly progress: readonly ReplicaSeen[]
  readonly highWatermark: number
  /** A replica whose last fetch is older than this many ticks is not counted as caught up. */
  readonly recentTicks: number
}

export function nextReassignStep(v: MoveView): ReassignStep {
  const adding = v.target.filter((id) => !v.voters.includes(id))
  if (adding.length > 0) {
    const ready = adding.find((id) => caughtUp(v, id))
    if (ready !== undefined) return { kind: 'add', id: ready }
    return { kind: 'wait', why: `replica${adding.length > 1 ? 's' : ''} ${adding.join(', ')} ${adding.length > 1 ? 'are' : 'is'} catching up (or down)` }
  }
  const removing = v.voters.filter((id) => !v.target.includes(id))
  const other = removing.find((id) => id !== v.self)
  if (other !== undefined) return { kind: 'remove', id: other }
  if (removing.length > 0) {
    // The leader itself goes: first hand leadership to a caught-up target voter (the first in preferred order).
    const successor = v.target.find((id) => id !== v.self && caughtUp(v, id))
    return successor === undefined ? { kind: 'wait', why: 'no other target voter has caught up to take over leadership' } : { kind: 'transfer', to: successor }
  }
  return { kind: 'complete' }
}

function caughtUp(v: MoveView, id: NodeId): boolean {
  const p = v.progress.find((r) => r.id === id)
  return p !== undefined && p.fetchOffset >= v.highWatermark && p.ticksSinceFetch >= 0 && p.ticksSinceFetch <= v.recentTicks
}
