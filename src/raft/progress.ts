// A leader's view of its replicas, learned only from their fetches: how far each has
// fetched, how far it has flushed, and when it was last heard from (check-quorum).
import { assert } from './assert.js'
import { OBSERVERS_MAX } from './limits.js'
import { majority, quorumValue } from './quorum.js'
import type { NodeId } from './types.js'

interface Replica {
  fetchOffset: number
  flushedOffset: number
  /** Tick of the last fetch in this epoch; the leader's election tick until the first one. */
  lastFetchTick: number
  fetchedThisEpoch: boolean
}

export class ProgressTracker {
  private readonly voters = new Map<NodeId, Replica>()
  private readonly observers = new Map<NodeId, Replica>()

  constructor(
    private readonly leaderId: NodeId,
    voterIds: readonly NodeId[],
    nowTicks: number,
  ) {
    for (const id of voterIds) {
      if (id !== leaderId) this.voters.set(id, fresh(nowTicks))
    }
  }

  /** Records a valid fetch; false if it comes from one observer too many. */
  observe(id: NodeId, fetchOffset: number, flushedOffset: number, nowTicks: number): boolean {
    assert(id !== this.leaderId, 'leader fetched from itself')
    let r = this.voters.get(id) ?? this.observers.get(id)
    if (r === undefined) {
      if (this.observers.size >= OBSERVERS_MAX) return false
      r = fresh(nowTicks)
      this.observers.set(id, r)
    }
    r.fetchOffset = fetchOffset
    // A flush can only cover what was fetched; anything else is a confused follower.
    r.flushedOffset = Math.min(flushedOffset, fetchOffset)
    r.lastFetchTick = nowTicks
    r.fetchedThisEpoch = true
    return true
  }

  /** The offset a majority of voters holds: flushed (correct) or merely fetched (bug switch). */
  quorumOffset(leaderFlushed: number, leaderLogEnd: number, countFetchPosition: boolean): number {
    const values = [countFetchPosition ? leaderLogEnd : leaderFlushed]
    for (const r of this.voters.values()) {
      values.push(countFetchPosition ? r.fetchOffset : r.flushedOffset)
    }
    return quorumValue(values)
  }

  /** Check-quorum: has a majority (the leader included) fetched within `timeoutTicks`? */
  heardFromMajority(nowTicks: number, timeoutTicks: number): boolean {
    let heard = 1
    for (const r of this.voters.values()) {
      if (nowTicks - r.lastFetchTick < timeoutTicks) heard++
    }
    return heard >= majority(this.voters.size + 1)
  }

  votersNotFetched(): NodeId[] {
    return [...this.voters].filter(([, r]) => !r.fetchedThisEpoch).map(([id]) => id)
  }

  /** Voters ordered by how far they fetched, best first: successors for a graceful resign. */
  successors(): NodeId[] {
    return [...this.voters].sort((a, b) => b[1].fetchOffset - a[1].fetchOffset).map(([id]) => id)
  }
}

function fresh(nowTicks: number): Replica {
  return { fetchOffset: 0, flushedOffset: 0, lastFetchTick: nowTicks, fetchedThisEpoch: false }
}
