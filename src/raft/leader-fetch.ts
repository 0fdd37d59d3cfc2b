// The leader's side of the fetch path: checking each fetch against the epoch cache (records,
// a divergence, or a fresh start below the log start), parking fetches with nothing new,
// the high watermark the followers' flushed offsets move, and the leader's tick (check-quorum,
// BeginQuorumEpoch re-sent to voters that have not fetched).
import { assert } from './assert.js'
import { sendBeginQuorumEpoch } from './elections.js'
import { PARKED_FETCHES_MAX } from './limits.js'
import type { RaftNode } from './node.js'
import type { Leader } from './roles.js'
import { completeTransferIfCaughtUp, expireTransfer } from './transfer.js'
import { learnVoterDirectories } from './voter-changes.js'
import type { FetchRecords, FetchRequest, FetchResponse, NodeId } from './types.js'

export function handleFetch(n: RaftNode, m: FetchRequest): void {
  const s = n.state
  if (s.role !== 'leader') return n.send(notLeader(n.id, m, n.epoch, n.leaderId))
  const end = n.epochs.endOffsetFor(m.lastFetchedEpoch, n.logEnd)
  // Behind our log start, or diverging somewhere below it: only a fresh start helps.
  if (m.fetchOffset < n.logStart || end === null) return startOver(n, s, m)
  if (end.epoch !== m.lastFetchedEpoch || end.endOffset < m.fetchOffset) {
    // Still contact for check-quorum: the follower is alive, just behind a divergence.
    s.progress.observe(m.from, m.replicaDirectoryId, 0, 0, n.nowTicks)
    return n.send({
      ...responseBase(n.id, m, n.epoch), kind: 'diverging', highWatermark: n.highWatermark,
      divergingEpoch: end.epoch, divergingEndOffset: Math.min(end.endOffset, m.fetchOffset),
    })
  }
  if (!s.progress.observe(m.from, m.replicaDirectoryId, m.fetchOffset, m.flushedOffset, n.nowTicks, n.logEnd)) {
    return n.send(notLeader(n.id, m, n.epoch, null)) // observer slots are full
  }
  if (m.fetchOffset < n.logEnd) {
    if (!onlyReportsFlush(s, m)) respondRecords(n, s, m)
  } else {
    s.parked.delete(m.from) // a fetch replaces the one parked before it
    if (m.highWatermark !== undefined && m.highWatermark < n.highWatermark) {
      // No records, but a HW the follower has not heard of (it moved while this fetch was on its
      // way): answered now. Parked, the follower — a broker's metadata image, say — would learn
      // the commit only when the wait runs out (a topic created, then unusable for 500 ms).
      respondRecords(n, s, m)
    } else {
      // Nothing to send: park until data arrives, the HW moves, or the wait runs out.
      assert(s.parked.size < PARKED_FETCHES_MAX, 'parked fetches overflow')
      s.parked.set(m.from, { request: m, parkedAtTick: n.nowTicks })
    }
  }
  advanceLeaderHw(n)
  const after = n.state // a removed leader may have resigned
  if (after.role === 'leader' && m.from === after.transfer?.target) completeTransferIfCaughtUp(n)
  learnVoterDirectories(n)
}

/** The follower must drop its log and start at ours: from the snapshot, or (data partitions) empty. */
function startOver(n: RaftNode, s: Leader, m: FetchRequest): void {
  if (!s.progress.observe(m.from, m.replicaDirectoryId, 0, 0, n.nowTicks)) return n.send(notLeader(n.id, m, n.epoch, null))
  const at = n.logStart - 1
  const base = {
    ...responseBase(n.id, m, n.epoch), highWatermark: n.highWatermark, voters: n.history.at(at), directoryIds: n.history.directoriesAt(at),
  }
  if (n.snapshot !== null) return n.send({ ...base, kind: 'snapshot', snapshot: n.snapshot })
  n.send({ ...base, kind: 'outOfRange', logStart: n.logStart, logStartEpoch: n.epochs.logStartEpoch })
}

function respondRecords(n: RaftNode, s: Leader, m: FetchRequest): void {
  // Spelled out rather than spread: this is the hottest allocation of the fetch path.
  const response: FetchRecords = {
    type: 'fetchResponse', from: n.id, to: m.from, epoch: n.epoch, fetchId: m.fetchId, fetchOffset: m.fetchOffset,
    kind: 'records', highWatermark: n.highWatermark, records: null,
  }
  if (m.fetchOffset < n.logEnd) {
    n.directive({ kind: 'attachRecords', response, fromOffset: m.fetchOffset, maxBytes: Math.min(m.maxBytes, n.cfg.fetchMaxBytes) })
    s.answered.set(m.from, { fetchId: m.fetchId, fetchOffset: m.fetchOffset })
  }
  n.send(response)
}

/**
 * A follower re-sends its outstanding fetch, same id, as soon as it has flushed
 * (follower-fetch.ts reportFlushed), so the HW need not wait for its next fetch. Under load that
 * fetch was already answered with records still on their way: answering it again would read and
 * ship the same bytes once more, only for the follower to drop them as stale (half of an RF=3
 * leader's replication traffic). So it only reports progress (taken above). Once: a fetch
 * sent again later gets a new id, and records if they were lost.
 */
function onlyReportsFlush(s: Leader, m: FetchRequest): boolean {
  const a = s.answered.get(m.from)
  if (a === undefined || a.fetchId !== m.fetchId || a.fetchOffset !== m.fetchOffset) return false
  s.answered.delete(m.from)
  return true
}

/** Answers parked fetches: all of them (the HW moved) or those that now have data. */
export function completeParked(n: RaftNode, s: Leader, all: boolean): void {
  for (const [id, p] of s.parked) {
    if (all || p.request.fetchOffset < n.logEnd) {
      s.parked.delete(id)
      respondRecords(n, s, p.request)
    }
  }
}

/**
 * The HW is the offset a majority of voters has flushed, but only once that includes an
 * entry of the current epoch (our LeaderChange): earlier epochs commit only through it.
 */
export function advanceLeaderHw(n: RaftNode): void {
  const s = n.state
  if (s.role !== 'leader') return
  // Not the epoch cache's start of our epoch: a log-start move may clamp that to the log start.
  const epochStart = s.leaderChangeOffset
  const figure8 = n.bugs.commitByCountingReplicas === true
  if (epochStart === null && !figure8) return
  const candidate = s.progress.quorumOffset(n.flushedEnd, n.logEnd, n.bugs)
  if (!figure8 && epochStart !== null && candidate <= epochStart) return
  if (candidate > n.highWatermark) {
    n.raiseHighWatermark(candidate)
    completeParked(n, s, true)
  }
  // A leader that removed itself leads until the removal commits, then hands over.
  if (!n.isVoter && n.history.latestOffset() < n.highWatermark) n.resignLeadership(s)
}

/** True once an entry of the leader's own epoch (its LeaderChange) is committed. */
export function epochCommitted(n: RaftNode): boolean {
  const s = n.state
  return s.role === 'leader' && s.leaderChangeOffset !== null && n.highWatermark > s.leaderChangeOffset
}

export function tickLeader(n: RaftNode, s: Leader): void {
  for (const [id, p] of s.parked) {
    if (n.nowTicks - p.parkedAtTick >= n.cfg.fetchMaxWaitTicks) {
      s.parked.delete(id)
      respondRecords(n, s, p.request)
    }
  }
  if (!s.progress.heardFromMajority(n.nowTicks, n.cfg.fetchTimeoutTicks)) {
    return n.resignLeadership(s) // check-quorum: we may be the minority side of a partition
  }
  expireTransfer(n, s)
  if (n.nowTicks - s.lastBeginQuorumTick >= n.cfg.beginQuorumRetryTicks) {
    s.lastBeginQuorumTick = n.nowTicks
    for (const id of s.progress.votersNotFetched()) sendBeginQuorumEpoch(n, id)
  }
}

function responseBase(from: NodeId, m: FetchRequest, epoch: number) {
  return { type: 'fetchResponse' as const, from, to: m.from, epoch, fetchId: m.fetchId, fetchOffset: m.fetchOffset }
}

export function notLeader(from: NodeId, m: FetchRequest, epoch: number, leaderId: NodeId | null): FetchResponse {
  return { type: 'fetchResponse', from, to: m.from, epoch, fetchId: m.fetchId, fetchOffset: m.fetchOffset, kind: 'notLeader', leaderId }
}
