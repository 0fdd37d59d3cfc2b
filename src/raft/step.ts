// A message in: its epoch decides first (a newer one moves this node there, an older one is
// refused), then its type routes it to the module that handles it.
import { handleBeginQuorumEpoch, handleEndQuorumEpoch, handlePreVote, handleVote, handleVoteResponse } from './elections.js'
import { becomeFollower, handleFetchResponse, handleFetchSnapshotResponse } from './follower-fetch.js'
import { handleFetch, notLeader } from './leader-fetch.js'
import type { RaftNode } from './node.js'
import { handleFetchSnapshot, snapshotResponseBase } from './snapshot-download.js'
import type { DirectoryId, Message, NodeId } from './types.js'

export function step(n: RaftNode, m: Message): void {
  if (m.to !== n.id || m.from === n.id) return
  // KIP-853: addressed to the voter (our id, another directory id) — the replica this node was
  // before its disk was wiped. It is not that voter: it neither votes nor follows as one.
  if ((m.type === 'vote' || m.type === 'beginQuorumEpoch') && !addressedToThisReplica(n, m.voterDirectoryId)) return
  if (m.epoch > n.epoch && !acceptHigherEpoch(n, m)) return
  if (m.epoch < n.epoch) return rejectStale(n, m)
  switch (m.type) {
    case 'vote':
      return m.preVote ? handlePreVote(n, m) : handleVote(n, m)
    case 'voteResponse':
      return handleVoteResponse(n, m)
    case 'beginQuorumEpoch':
      return handleBeginQuorumEpoch(n, m.from)
    case 'endQuorumEpoch':
      return handleEndQuorumEpoch(n, m)
    case 'fetch':
      return handleFetch(n, m)
    case 'fetchResponse':
      return handleFetchResponse(n, m)
    case 'fetchSnapshot':
      return handleFetchSnapshot(n, m)
    case 'fetchSnapshotResponse':
      return handleFetchSnapshotResponse(n, m)
  }
}

/** A message from a newer epoch: move there first (or just answer, for a pre-vote). */
function acceptHigherEpoch(n: RaftNode, m: Message): boolean {
  switch (m.type) {
    case 'vote':
      if (m.preVote) {
        handlePreVote(n, m) // a pre-vote never changes the receiver's state
        return false
      }
      n.becomeUnattached(m.epoch)
      return true
    case 'voteResponse':
      if (m.preVote && m.granted) return true // granted pre-votes carry the proposed epoch
      adoptEpoch(n, m.epoch, m.leaderId)
      return false
    case 'beginQuorumEpoch':
      becomeFollower(n, m.epoch, m.from, true)
      return false
    case 'endQuorumEpoch':
      n.becomeUnattached(m.epoch)
      return true
    case 'fetch':
    case 'fetchSnapshot':
      n.becomeUnattached(m.epoch)
      return true
    case 'fetchResponse':
    case 'fetchSnapshotResponse':
      if (m.kind === 'notLeader') adoptEpoch(n, m.epoch, m.leaderId)
      else becomeFollower(n, m.epoch, m.from, true)
      return false
  }
}

function addressedToThisReplica(n: RaftNode, voterDirectoryId: DirectoryId | undefined): boolean {
  if (n.bugs.ignoreDirectoryIds === true) return true
  return voterDirectoryId === undefined || n.directoryId === undefined || voterDirectoryId === n.directoryId
}

function adoptEpoch(n: RaftNode, epoch: number, leaderId: NodeId | null): void {
  if (leaderId !== null && leaderId !== n.id) becomeFollower(n, epoch, leaderId)
  else n.becomeUnattached(epoch)
}

function rejectStale(n: RaftNode, m: Message): void {
  if (m.type === 'vote') {
    n.send({ type: 'voteResponse', from: n.id, to: m.from, epoch: n.epoch, preVote: m.preVote, granted: false, leaderId: n.leaderId })
  } else if (m.type === 'fetch') {
    n.send(notLeader(n.id, m, n.epoch, n.leaderId))
  } else if (m.type === 'fetchSnapshot') {
    n.send(snapshotResponseBase(n.id, m, n.epoch, { kind: 'notLeader', leaderId: n.leaderId }))
  } else if (m.type === 'beginQuorumEpoch' && addressedToThisReplica(n, m.voterDirectoryId)) {
    // A leader of an older epoch asking this voter to follow: tell it the epoch is over, or it
    // leads on without this voter, which — past its own failed candidacy — can never rejoin (its
    // pre-votes are refused for the live leader, whose notices it drops). KRaft answers
    // BeginQuorumEpoch with FENCED_LEADER_EPOCH and the newer epoch; our one-way frames carry that
    // as an EndQuorumEpoch of this node's epoch, which moves the old leader there, to an election.
    n.send({ type: 'endQuorumEpoch', from: n.id, to: m.from, epoch: n.epoch, preferredSuccessors: [] })
  }
  // Other stale responses and notices are dropped: their epoch is over.
}
