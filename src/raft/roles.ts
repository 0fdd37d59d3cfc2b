// What each role holds of its own, and nothing else. The core keeps one of these at a time
// and replaces it whole on every transition (node.ts's `reset`, as etcd's `reset(term)`), so
// nothing a role kept can outlive it: a follower's download, a candidate's tally, a leader's
// replica progress and parked fetches are gone the moment the role is.
import type { ProgressTracker } from './progress.js'
import type { VoteTally } from './quorum.js'
import type { FetchRequest, NodeId, SnapshotInfo, VoterDirectories } from './types.js'

export type RoleState = Leader | Follower | Unattached | Prospective | Candidate

export interface Leader {
  readonly role: 'leader'
  readonly progress: ProgressTracker
  /** Fetches with nothing to return yet, one per replica, answered when data or the HW moves. */
  readonly parked: Map<NodeId, ParkedFetch>
  /** The last fetch answered with records, per replica: the same fetch re-sent is only a flush report. */
  readonly answered: Map<NodeId, AnsweredFetch>
  lastBeginQuorumTick: number
  /** Where this leader's LeaderChange landed (null until appended): its epoch commits with it. */
  leaderChangeOffset: number | null
  /** A leadership transfer waiting for its target to catch up; proposals wait meanwhile. */
  transfer: Transfer | null
}

export interface Follower {
  readonly role: 'follower'
  readonly leaderId: NodeId
  /** The leader is silent past this tick: campaign (voters) or look for it again (observers). */
  fetchDeadlineTick: number
  fetch: InflightFetch | null
  download: SnapshotDownload | null
}

/**
 * No known leader. `fetch`: a node that may not campaign (an observer) looks for the leader by
 * fetching from voters in turn.
 */
export interface Unattached {
  readonly role: 'unattached'
  electionDeadlineTick: number
  fetch: InflightFetch | null
}

/**
 * Pre-voting (KIP-996), then voting. `fetch`: a node that an uncommitted removal let campaign
 * looks for the leader like an observer once the removal commits (it may no longer campaign);
 * the outstanding fetch carries over from prospective to candidate, and to unattached when a
 * prospective grants its vote.
 */
export interface Prospective {
  readonly role: 'prospective'
  readonly electionDeadlineTick: number
  readonly tally: VoteTally
  fetch: InflightFetch | null
}

export interface Candidate {
  readonly role: 'candidate'
  /** Brought forward by a refusal that shows the vote split (elections.ts). */
  electionDeadlineTick: number
  readonly tally: VoteTally
  fetch: InflightFetch | null
}

/**
 * The outstanding fetch. A fetch re-sent only to report a newer flushed offset supersedes
 * the earlier ones without invalidating them: they asked for the same offset, so any of
 * their answers is still good. Only answers for the current log end are accepted.
 */
export interface InflightFetch {
  readonly ids: number[]
  sentAtTick: number
  readonly fetchOffset: number
}

/** A follower's download of the leader's snapshot, chunk by chunk. */
export interface SnapshotDownload {
  readonly snapshot: SnapshotInfo
  readonly voters: readonly NodeId[]
  readonly directoryIds: VoterDirectories | undefined
  position: number
  sentAtTick: number
}

export interface ParkedFetch {
  readonly request: FetchRequest
  readonly parkedAtTick: number
}

export interface AnsweredFetch {
  readonly fetchId: number
  readonly fetchOffset: number
}

export interface Transfer {
  readonly target: NodeId
  readonly deadlineTick: number
}

/** The leader a role knows of: its own for a follower, this node for a leader, else none. */
export function leaderOf(state: RoleState, self: NodeId): NodeId | null {
  return state.role === 'follower' ? state.leaderId : state.role === 'leader' ? self : null
}
