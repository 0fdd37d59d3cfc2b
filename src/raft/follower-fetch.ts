// The follower's side of the fetch path (and an observer's, looking for the leader): one
// fetch outstanding at the log end, and what each answer does to the log — append the
// records, truncate at a divergence, start over at the leader's log start, or download its
// snapshot (snapshot-download.ts).
import { assert } from './assert.js'
import { checkRepaired } from './damage.js'
import { FETCH_IDS_VALID_MAX } from './limits.js'
import type { RaftNode } from './node.js'
import type { Candidate, Follower, Prospective, Unattached } from './roles.js'
import { answersDownload, requestChunk, startDownload, takeChunk } from './snapshot-download.js'
import type { FetchResponse, FetchSnapshotResponse, NodeId } from './types.js'
import { mayCampaign, votersChanged } from './voter-changes.js'

/** A role that fetches: a follower from its leader, the others (when they may not campaign) from voters in turn. */
type Fetching = Follower | Unattached | Prospective | Candidate

/** `heardFromLeader`: the leader itself spoke (not a hint), which refuses pre-votes for a while. */
export function becomeFollower(n: RaftNode, epoch: number, leaderId: NodeId, heardFromLeader = false): void {
  assert(epoch >= n.epoch && leaderId !== n.id, 'bad follower transition')
  assert(n.state.role !== 'leader' || epoch > n.epoch, 'two leaders in one epoch')
  if (epoch > n.epoch) n.enterEpoch(epoch)
  n.reset({ role: 'follower', leaderId, fetchDeadlineTick: n.nowTicks + n.followerTimeoutTicks(), fetch: null, download: null })
  if (heardFromLeader) {
    n.lastLeaderContactTick = n.nowTicks
    n.linkClosedLeader = null
  }
  if (n.pendingAppends.length === 0) sendFetch(n)
}

/** Asks for what comes next: the next snapshot chunk while downloading, else records from the log end. */
export function sendFetch(n: RaftNode): void {
  const s = n.state
  assert(s.role !== 'leader', 'a leader does not fetch')
  if (s.role === 'follower' && s.download !== null) return requestChunk(n, s, s.download)
  const to = fetchTarget(n, s)
  if (to === null) return
  const id = n.nextFetchId++
  const prior = s.fetch
  if (prior !== null && prior.fetchOffset === n.logEnd) {
    if (prior.ids.length >= FETCH_IDS_VALID_MAX) prior.ids.shift()
    prior.ids.push(id)
    prior.sentAtTick = n.nowTicks
  } else {
    s.fetch = { ids: [id], sentAtTick: n.nowTicks, fetchOffset: n.logEnd }
  }
  fetchFrom(n, to, id)
}

/**
 * A follower flushed while its fetch is outstanding: the same fetch again (same id), now with the
 * flushed offset, so the leader's HW need not wait for the next one. The leader answers it only if
 * it has not answered that fetch with records already (leader-fetch.ts onlyReportsFlush).
 */
export function reportFlushed(n: RaftNode): void {
  const s = n.state
  if (s.role !== 'follower' || s.fetch === null || n.pendingAppends.length > 0) return
  if (s.download !== null || s.fetch.fetchOffset !== n.logEnd) return sendFetch(n)
  fetchFrom(n, s.leaderId, s.fetch.ids[s.fetch.ids.length - 1])
}

function fetchFrom(n: RaftNode, to: NodeId, id: number): void {
  n.send({
    type: 'fetch', from: n.id, to, epoch: n.epoch, fetchId: id, fetchOffset: n.logEnd,
    lastFetchedEpoch: n.epochs.latestEpoch(), flushedOffset: n.flushedEnd, maxBytes: n.cfg.fetchMaxBytes,
    replicaDirectoryId: n.directoryId, highWatermark: n.highWatermark,
  })
}

function fetchTarget(n: RaftNode, s: Fetching): NodeId | null {
  if (s.role === 'follower') return s.leaderId
  if (mayCampaign(n)) return null
  const contacts = (n.cfg.observerContacts ?? [...n.voters]).filter((id) => id !== n.id)
  return contacts.length === 0 ? null : contacts[n.bootstrapCursor++ % contacts.length]
}

/** Follower's tick while its leader is alive: re-ask for a chunk or records left unanswered. */
export function retryFetch(n: RaftNode, s: Follower): void {
  if (s.download !== null) {
    if (n.nowTicks - s.download.sentAtTick >= n.cfg.fetchRetryTicks) requestChunk(n, s, s.download)
    return
  }
  const f = s.fetch
  const stuck = f !== null && n.nowTicks - f.sentAtTick >= n.cfg.fetchRetryTicks
  if ((f === null || stuck) && n.pendingAppends.length === 0) sendFetch(n)
}

/** A node that may not campaign finds the leader by asking voters in turn; any answer carries a hint. */
export function lookForLeader(n: RaftNode, s: Unattached | Prospective | Candidate): void {
  const f = s.fetch
  if (f === null || n.nowTicks - f.sentAtTick >= n.cfg.fetchRetryTicks) sendFetch(n)
}

export function handleFetchResponse(n: RaftNode, m: FetchResponse): void {
  const s = n.state
  if (s.role !== 'follower') {
    // Only this epoch's leader answers with data: follow it.
    if (m.kind !== 'notLeader' && s.role !== 'leader') becomeFollower(n, n.epoch, m.from, true)
    else if (m.kind === 'notLeader' && m.leaderId !== null && m.leaderId !== n.id && s.role === 'unattached') {
      becomeFollower(n, n.epoch, m.leaderId)
    }
    return
  }
  const f = s.fetch
  // Ids restart with the process, so an answer to a pre-crash fetch may carry a current
  // id: it is only good if it asked for the offset we are asking for now.
  const current = f !== null && f.ids.includes(m.fetchId) && m.fetchOffset === f.fetchOffset && f.fetchOffset === n.logEnd
  if (!current || m.from !== s.leaderId) return // stale or duplicate
  s.fetch = null
  if (m.kind === 'notLeader') {
    if (m.leaderId === null) n.becomeUnattached(n.epoch) // our leader resigned
    return
  }
  heardFromLeader(n, s)
  assert(m.fetchOffset === n.logEnd, 'log changed under an outstanding fetch')
  switch (m.kind) {
    case 'records':
      if (m.records === null) {
        checkRepaired(n, m.highWatermark <= n.logEnd) // nothing past our end: we hold what the leader does
        n.raiseHighWatermark(Math.min(m.highWatermark, n.logEnd))
        return sendFetch(n)
      }
      n.pendingLeaderHw = m.highWatermark
      n.pushPendingAppend('fetched')
      return n.directive({ kind: 'appendFetched', fromOffset: n.logEnd, records: m.records })
    case 'diverging':
      truncateDivergent(n, m.divergingEpoch, m.divergingEndOffset)
      return sendFetch(n)
    case 'outOfRange':
      n.directive({ kind: 'resetLog', logStart: m.logStart, logStartEpoch: m.logStartEpoch, voters: m.voters, directoryIds: m.directoryIds })
      n.restartLog(m.logStart, m.logStartEpoch, m.voters, m.directoryIds)
      votersChanged(n)
      n.raiseHighWatermark(Math.min(m.highWatermark, n.logEnd))
      return sendFetch(n)
    case 'snapshot':
      return startDownload(n, s, m.snapshot, m.voters, m.directoryIds)
  }
}

export function handleFetchSnapshotResponse(n: RaftNode, m: FetchSnapshotResponse): void {
  const s = n.state
  if (s.role !== 'follower') {
    if (m.kind !== 'notLeader' && s.role !== 'leader') becomeFollower(n, n.epoch, m.from, true)
    return
  }
  const d = s.download
  if (d === null || m.from !== s.leaderId || !answersDownload(d, m)) return // stale
  if (m.kind === 'notLeader') {
    s.download = null
    if (m.leaderId === null) n.becomeUnattached(n.epoch)
    return
  }
  heardFromLeader(n, s)
  if (!takeChunk(n, s, d, m)) sendFetch(n)
}

/** The leader answered: it is alive, so neither campaign nor grant pre-votes for a while. */
function heardFromLeader(n: RaftNode, s: Follower): void {
  n.lastLeaderContactTick = n.nowTicks
  n.linkClosedLeader = null
  s.fetchDeadlineTick = n.nowTicks + n.followerTimeoutTicks()
}

function truncateDivergent(n: RaftNode, divergingEpoch: number, divergingEndOffset: number): void {
  const ours = n.epochs.endOffsetFor(divergingEpoch, n.logEnd)?.endOffset ?? n.logStart
  const offset = Math.max(n.logStart, Math.min(divergingEndOffset, ours))
  assert(offset >= n.highWatermark, `truncating committed offsets (${offset} < HW ${n.highWatermark})`)
  if (offset >= n.logEnd) return
  n.directive({ kind: 'truncate', offset })
  n.logEnd = offset
  n.flushedEnd = Math.min(n.flushedEnd, offset)
  n.epochs.truncateFrom(offset)
  n.history.truncateFrom(offset)
  votersChanged(n)
}
