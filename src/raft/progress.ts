// A leader's view of its replicas, learned only from their fetches: how far each has
// fetched, how far it has flushed, and when it was last heard from (check-quorum). The voter
// set can change under it (KIP-853): a replica keeps its progress when it becomes or stops
// being a voter, and the leader itself counts only while it is a voter. A voter is a replica key
// (id, directory id) as in KIP-853: a fetch from the voter's id with another directory id (a node
// whose disk was wiped) is an observer's, tracked apart, and counts for neither the HW nor
// check-quorum. It also tracks when each replica was last caught up (what ISR needs, as Kafka's
// replica.lag.time.max.ms defines it): the latest moment whose leader log end its flushed offset
// has reached since.
import { assert } from './assert.js'
import { CATCH_UP_SAMPLES_MAX, OBSERVERS_MAX } from './limits.js'
import { majority, quorumValue } from './quorum.js'
import type { DirectoryId, NodeId, ReplicaProgress, VoterDirectories } from './types.js'

interface Replica {
  fetchOffset: number
  flushedOffset: number
  /** Tick of the last fetch in this epoch; the leader's election tick until the first one. */
  lastFetchTick: number
  fetchedThisEpoch: boolean
  /** The directory id its latest fetch carried (undefined: none yet, or it sends none). */
  directoryId: DirectoryId | undefined
  /** Tick it was last caught up; null: never this epoch. A voter at election gets the election tick (grace). */
  caughtUpTick: number | null
  /**
   * The leader's log end at its recent fetches (ascending), oldest first: a flush that reaches one
   * later says it was caught up at that fetch's tick. Under steady load a follower's flush trails
   * the leader's log end at every fetch, so only this look back can see it keeping up.
   */
  samples: Array<{ readonly logEnd: number; readonly tick: number }>
}

export class ProgressTracker {
  /** The voters other than the leader, by id (the replica matching each one's key). */
  private readonly voters = new Map<NodeId, Replica>()
  /** Every other replica that fetched, by id: a wiped voter's id may be here too, with its new directory id. */
  private readonly observers = new Map<NodeId, Replica>()
  private directories: VoterDirectories = {}
  private leaderVotes = false
  /** Voters removed during this leadership (only the countRemovedVoter bug switch reads it). */
  private readonly removed = new Set<NodeId>()

  constructor(
    private readonly leaderId: NodeId,
    voterIds: readonly NodeId[],
    directoryIds: VoterDirectories,
    leaderVotes: boolean,
    nowTicks: number,
    /** Bug switch: a fetch from a voter's id counts for that voter whatever its directory id. */
    private readonly ignoreDirectoryIds = false,
  ) {
    this.setVoters(voterIds, directoryIds, leaderVotes, nowTicks)
  }

  /** The voter set in force changed (a voter record was appended or truncated). `leaderVotes`: the leader is a member. */
  setVoters(voterIds: readonly NodeId[], directoryIds: VoterDirectories, leaderVotes: boolean, nowTicks: number): void {
    this.directories = directoryIds
    this.leaderVotes = leaderVotes
    for (const [id, r] of this.voters) {
      if (voterIds.includes(id) && this.matches(id, r.directoryId)) continue
      this.voters.delete(id)
      if (!voterIds.includes(id)) this.removed.add(id)
      // Its progress stays as an observer's, unless another replica of that id fetches as one.
      if (!this.observers.has(id)) this.observers.set(id, r)
    }
    for (const id of voterIds) {
      if (id === this.leaderId || this.voters.has(id)) continue
      const o = this.observers.get(id)
      // An observer becoming a voter keeps its progress; a new voter that never fetched gets a
      // grace period, as every voter does at election.
      if (o !== undefined && this.matches(id, o.directoryId)) {
        this.observers.delete(id)
        this.voters.set(id, o)
      } else this.voters.set(id, { ...fresh(nowTicks), caughtUpTick: nowTicks })
    }
    // In the set's order (ids ascending), whatever order they joined in.
    const ordered = voterIds.filter((id) => this.voters.has(id)).map((id) => [id, this.voters.get(id)!] as const)
    this.voters.clear()
    for (const [id, r] of ordered) this.voters.set(id, r)
  }

  /** Records a valid fetch from (id, directoryId); false if it comes from one observer too many. */
  /**
   * Records a valid fetch from (id, directoryId); false if it comes from one observer too many.
   * `leaderLogEnd`: the leader's log end now (a fetch that can tell whether the replica keeps up;
   * absent for a diverging or starting-over fetch, which says nothing of that).
   */
  observe(
    id: NodeId, directoryId: DirectoryId | undefined, fetchOffset: number, flushedOffset: number, nowTicks: number, leaderLogEnd?: number,
  ): boolean {
    assert(id !== this.leaderId, 'leader fetched from itself')
    const r = this.replicaFor(id, directoryId, true)
    if (r === null) return false
    r.fetchOffset = fetchOffset
    // A flush can only cover what was fetched; anything else is a confused follower.
    r.flushedOffset = Math.min(flushedOffset, fetchOffset)
    r.lastFetchTick = nowTicks
    r.fetchedThisEpoch = true
    if (directoryId !== undefined) r.directoryId = directoryId
    if (leaderLogEnd !== undefined) noteCatchUp(r, leaderLogEnd, nowTicks)
    return true
  }

  /** Contact without news of the replica's log (a snapshot download): counts for check-quorum. */
  touch(id: NodeId, directoryId: DirectoryId | undefined, nowTicks: number): void {
    const r = this.replicaFor(id, directoryId, false)
    if (r !== null) r.lastFetchTick = nowTicks
  }

  /** How far `id` fetched: the voter of that id if it is one, else the observer. */
  fetchOffsetOf(id: NodeId): number | null {
    return this.byId(id)?.fetchOffset ?? null
  }

  /** The directory id `id`'s fetches carried: the voter of that id if it is one, else the observer. */
  directoryOf(id: NodeId): DirectoryId | undefined {
    return this.byId(id)?.directoryId
  }

  /** Did `id` (the voter of that id if it is one, else the observer) fetch within `timeoutTicks`? */
  recentlyHeard(id: NodeId, nowTicks: number, timeoutTicks: number): boolean {
    const r = this.byId(id)
    return r !== undefined && r.fetchedThisEpoch && nowTicks - r.lastFetchTick < timeoutTicks
  }

  /** The offset a majority of voters holds: flushed (correct) or merely fetched (bug switch). */
  quorumOffset(leaderFlushed: number, leaderLogEnd: number, bugs: { countFetchPosition?: boolean; countRemovedVoter?: boolean }): number {
    const fetched = bugs.countFetchPosition === true
    const values: number[] = []
    if (this.leaderVotes) values.push(fetched ? leaderLogEnd : leaderFlushed)
    for (const r of this.voters.values()) values.push(fetched ? r.fetchOffset : r.flushedOffset)
    if (bugs.countRemovedVoter === true) {
      for (const id of this.removed) {
        const r = this.observers.get(id)
        if (r !== undefined && !this.voters.has(id) && id !== this.leaderId) values.push(fetched ? r.fetchOffset : r.flushedOffset)
      }
    }
    return quorumValue(values)
  }

  /** Check-quorum: has a majority of voters (the leader, if one) fetched within `timeoutTicks`? */
  heardFromMajority(nowTicks: number, timeoutTicks: number): boolean {
    let heard = this.leaderVotes ? 1 : 0
    for (const r of this.voters.values()) if (nowTicks - r.lastFetchTick < timeoutTicks) heard++
    return heard >= majority(this.voters.size + (this.leaderVotes ? 1 : 0))
  }

  votersNotFetched(): NodeId[] {
    return [...this.voters].filter(([, r]) => !r.fetchedThisEpoch).map(([id]) => id)
  }

  /**
   * The directory ids the voters' fetches carried, where the set records none: all of them once
   * every voter has fetched with one (else null). The leader's own is the caller's.
   */
  learnedDirectories(): Record<NodeId, DirectoryId> | null {
    const out: Record<NodeId, DirectoryId> = {}
    for (const [id, r] of this.voters) {
      if (this.directories[id] !== undefined) continue
      if (r.directoryId === undefined) return null
      out[id] = r.directoryId
    }
    return out
  }

  /** Each replica but the leader, by id, a voter before an observer of its id (what DescribeQuorum shows). */
  replicaProgress(nowTicks: number): ReplicaProgress[] {
    const view = (id: NodeId, r: Replica, voter: boolean): ReplicaProgress => ({
      id,
      directoryId: r.directoryId,
      voter,
      fetchOffset: r.fetchedThisEpoch ? r.fetchOffset : -1,
      ticksSinceFetch: r.fetchedThisEpoch ? nowTicks - r.lastFetchTick : -1,
      flushedOffset: r.fetchedThisEpoch ? r.flushedOffset : -1,
      ticksSinceCaughtUp: r.caughtUpTick === null ? -1 : nowTicks - r.caughtUpTick,
    })
    const all = [...[...this.voters].map(([id, r]) => view(id, r, true)), ...[...this.observers].map(([id, r]) => view(id, r, false))]
    return all.sort((a, b) => a.id - b.id || Number(b.voter) - Number(a.voter))
  }

  /** Voters ordered by how far they fetched, best first: successors for a graceful resign. */
  successors(): NodeId[] {
    return [...this.voters.keys()].sort((a, b) => this.voters.get(b)!.fetchOffset - this.voters.get(a)!.fetchOffset || a - b)
  }

  /** Does a replica with this directory id match voter `id`'s recorded one? (Unknown matches.) */
  private matches(id: NodeId, directoryId: DirectoryId | undefined): boolean {
    const recorded = this.directories[id]
    return this.ignoreDirectoryIds || recorded === undefined || directoryId === undefined || recorded === directoryId
  }

  /** The entry a message from (id, directoryId) speaks for; `create`: a new observer's (null when full). */
  private replicaFor(id: NodeId, directoryId: DirectoryId | undefined, create: boolean): Replica | null {
    const voter = this.voters.get(id)
    if (voter !== undefined && this.matches(id, directoryId)) return voter
    const observer = this.observers.get(id)
    if (observer !== undefined || !create) return observer ?? null
    if (this.observers.size >= OBSERVERS_MAX) return null
    const r = fresh(0)
    this.observers.set(id, r)
    return r
  }

  private byId(id: NodeId): Replica | undefined {
    return this.voters.get(id) ?? this.observers.get(id)
  }
}

function fresh(nowTicks: number): Replica {
  return { fetchOffset: 0, flushedOffset: 0, lastFetchTick: nowTicks, fetchedThisEpoch: false, directoryId: undefined, caughtUpTick: null, samples: [] }
}

/**
 * Kafka's rule (Replica.updateFetchState) on the flushed offset: caught up now if it reached the
 * leader's log end; else caught up at the latest earlier fetch whose leader log end it reached.
 */
function noteCatchUp(r: Replica, leaderLogEnd: number, nowTicks: number): void {
  if (r.flushedOffset >= leaderLogEnd) {
    r.caughtUpTick = nowTicks
    r.samples.length = 0
    return
  }
  let reached = -1
  while (reached + 1 < r.samples.length && r.samples[reached + 1].logEnd <= r.flushedOffset) reached++
  if (reached >= 0) {
    r.caughtUpTick = Math.max(r.caughtUpTick ?? 0, r.samples[reached].tick)
    r.samples.splice(0, reached + 1)
  }
  if (r.samples.length >= CATCH_UP_SAMPLES_MAX) r.samples.shift()
  r.samples.push({ logEnd: leaderLogEnd, tick: nowTicks })
}
