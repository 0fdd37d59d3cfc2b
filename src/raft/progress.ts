// A leader's view of its replicas, learned only from their fetches: how far each has
// fetched, how far it has flushed, and when it was last heard from (check-quorum). The voter
// set can change under it (KIP-853): a replica keeps its progress when it becomes or stops
// being a voter, and the leader itself counts only while it is a voter.
import { assert } from './assert.js'
import { OBSERVERS_MAX } from './limits.js'
import { majority, quorumValue } from './quorum.js'
import type { NodeId, ReplicaProgress } from './types.js'

interface Replica {
  fetchOffset: number
  flushedOffset: number
  /** Tick of the last fetch in this epoch; the leader's election tick until the first one. */
  lastFetchTick: number
  fetchedThisEpoch: boolean
}

export class ProgressTracker {
  private readonly replicas = new Map<NodeId, Replica>()
  /** The voters other than the leader. */
  private voters = new Set<NodeId>()
  private leaderVotes = false
  /** Voters removed during this leadership (only the countRemovedVoter bug switch reads it). */
  private readonly removed = new Set<NodeId>()

  constructor(
    private readonly leaderId: NodeId,
    voterIds: readonly NodeId[],
    nowTicks: number,
  ) {
    this.setVoters(voterIds, nowTicks)
  }

  /** The voter set in force changed (a voter record was appended or truncated). */
  setVoters(voterIds: readonly NodeId[], nowTicks: number): void {
    for (const id of this.voters) if (!voterIds.includes(id)) this.removed.add(id)
    this.voters = new Set(voterIds.filter((id) => id !== this.leaderId))
    this.leaderVotes = voterIds.includes(this.leaderId)
    // A new voter that never fetched gets a grace period, as every voter does at election.
    for (const id of this.voters) if (!this.replicas.has(id)) this.replicas.set(id, fresh(nowTicks))
  }

  /** Records a valid fetch; false if it comes from one observer too many. */
  observe(id: NodeId, fetchOffset: number, flushedOffset: number, nowTicks: number): boolean {
    assert(id !== this.leaderId, 'leader fetched from itself')
    let r = this.replicas.get(id)
    if (r === undefined) {
      if (this.replicas.size - this.voters.size >= OBSERVERS_MAX) return false
      r = fresh(nowTicks)
      this.replicas.set(id, r)
    }
    r.fetchOffset = fetchOffset
    // A flush can only cover what was fetched; anything else is a confused follower.
    r.flushedOffset = Math.min(flushedOffset, fetchOffset)
    r.lastFetchTick = nowTicks
    r.fetchedThisEpoch = true
    return true
  }

  /** Contact without news of the replica's log (a snapshot download): counts for check-quorum. */
  touch(id: NodeId, nowTicks: number): void {
    const r = this.replicas.get(id)
    if (r !== undefined) r.lastFetchTick = nowTicks
  }

  fetchOffsetOf(id: NodeId): number | null {
    return this.replicas.get(id)?.fetchOffset ?? null
  }

  /** Did `id` fetch within `timeoutTicks`? */
  recentlyHeard(id: NodeId, nowTicks: number, timeoutTicks: number): boolean {
    const r = this.replicas.get(id)
    return r !== undefined && r.fetchedThisEpoch && nowTicks - r.lastFetchTick < timeoutTicks
  }

  /** The offset a majority of voters holds: flushed (correct) or merely fetched (bug switch). */
  quorumOffset(leaderFlushed: number, leaderLogEnd: number, bugs: { countFetchPosition?: boolean; countRemovedVoter?: boolean }): number {
    const fetched = bugs.countFetchPosition === true
    const values: number[] = []
    if (this.leaderVotes) values.push(fetched ? leaderLogEnd : leaderFlushed)
    for (const id of this.voters) {
      const r = this.replicas.get(id)!
      values.push(fetched ? r.fetchOffset : r.flushedOffset)
    }
    if (bugs.countRemovedVoter === true) {
      for (const id of this.removed) {
        const r = this.replicas.get(id)
        if (r !== undefined && !this.voters.has(id) && id !== this.leaderId) values.push(fetched ? r.fetchOffset : r.flushedOffset)
      }
    }
    return quorumValue(values)
  }

  /** Check-quorum: has a majority of voters (the leader, if one) fetched within `timeoutTicks`? */
  heardFromMajority(nowTicks: number, timeoutTicks: number): boolean {
    let heard = this.leaderVotes ? 1 : 0
    for (const id of this.voters) {
      if (nowTicks - this.replicas.get(id)!.lastFetchTick < timeoutTicks) heard++
    }
    return heard >= majority(this.voters.size + (this.leaderVotes ? 1 : 0))
  }

  votersNotFetched(): NodeId[] {
    return [...this.voters].filter((id) => !this.replicas.get(id)!.fetchedThisEpoch)
  }

  /** Each replica but the leader, by id (what DescribeQuorum shows). */
  replicaProgress(nowTicks: number): ReplicaProgress[] {
    return [...this.replicas].sort(([a], [b]) => a - b).map(([id, r]) => ({
      id,
      voter: this.voters.has(id),
      fetchOffset: r.fetchedThisEpoch ? r.fetchOffset : -1,
      ticksSinceFetch: r.fetchedThisEpoch ? nowTicks - r.lastFetchTick : -1,
    }))
  }

  /** Voters ordered by how far they fetched, best first: successors for a graceful resign. */
  successors(): NodeId[] {
    return [...this.voters].sort((a, b) => this.replicas.get(b)!.fetchOffset - this.replicas.get(a)!.fetchOffset || a - b)
  }
}

function fresh(nowTicks: number): Replica {
  return { fetchOffset: 0, flushedOffset: 0, lastFetchTick: nowTicks, fetchedThisEpoch: false }
}
