// The fence switch (issue 17, "The active controller"): a broker whose heartbeat lease expired
// is fenced, and its data-partition replicas must neither lead nor campaign until it is
// unfenced. A fenced node resigns a leadership at once (EndQuorumEpoch, as `resign()`) and
// drops a campaign under way; `mayCampaign` (voter-changes.ts) then keeps it from starting any
// (election timers, `campaign()`, an EndQuorumEpoch or transfer naming it). It still votes,
// fetches and follows — it must catch up to be unfenced — and, knowing no leader, looks for one
// by fetching from the voters in turn, as an observer does. Never for the metadata log: a
// cluster whose brokers were all fenced could never elect a controller to unfence them.
import type { RaftNode } from './node.js'

export function setFenced(n: RaftNode, fenced: boolean): void {
  if (n.fenced === fenced) return
  n.fenced = fenced
  if (n.bugs.ignoreFence === true) return
  const s = n.state
  if (fenced) {
    if (s.role === 'leader') n.resignLeadership(s)
    // A candidate keeps its own vote for this epoch: it grants no other, which is safe.
    else if (s.role === 'prospective' || s.role === 'candidate') n.becomeUnattached(n.epoch)
  } else if (s.role === 'unattached') {
    // Its deadline ran out while fenced: wait a whole election timeout, as any unattached voter
    // does, so a leader that exists can reach it (BeginQuorumEpoch) before it disturbs anyone.
    s.electionDeadlineTick = n.nowTicks + n.randomElectionTicks()
  }
}
