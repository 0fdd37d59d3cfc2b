// Snapshot download (KIP-630), both ends: the leader serves its latest snapshot in chunks of
// at most fetchMaxBytes; a follower sent to it asks for successive positions (one chunk
// outstanding, retried on its tick), writes each into a pending file and installs the whole.
// The follower's fetch path (follower-fetch.ts) checks each answer is the leader's, for the
// chunk asked, before handing it here.
import type { RaftNode } from './node.js'
import type { Follower, SnapshotDownload } from './roles.js'
import type { FetchSnapshotRequest, NodeId, SnapshotChunk, SnapshotId, SnapshotInfo, SnapshotNotFound, VoterDirectories } from './types.js'
import { votersChanged } from './voter-changes.js'

/** Leader: the bytes of its latest snapshot at the asked position, or notFound if it moved on. */
export function handleFetchSnapshot(n: RaftNode, m: FetchSnapshotRequest): void {
  const leader = n.state
  if (leader.role !== 'leader') {
    return n.send(snapshotResponseBase(n.id, m, n.epoch, { kind: 'notLeader', leaderId: n.leaderId }))
  }
  leader.progress.touch(m.from, m.replicaDirectoryId, n.nowTicks)
  const s = n.snapshot
  if (s === null || !sameSnapshot(s, m.snapshotId) || m.position < 0 || m.position >= s.sizeBytes) {
    return n.send(snapshotResponseBase(n.id, m, n.epoch, { kind: 'notFound' }))
  }
  const length = Math.max(1, Math.min(m.maxBytes, n.cfg.fetchMaxBytes, s.sizeBytes - m.position))
  const response: SnapshotChunk = snapshotResponseBase(n.id, m, n.epoch, { kind: 'chunk', sizeBytes: s.sizeBytes, length, chunk: null })
  n.directive({ kind: 'attachSnapshotChunk', response, snapshotId: m.snapshotId, position: m.position, length })
  n.send(response)
}

/** Follower: the leader answered a fetch with this snapshot; download it from the start. */
export function startDownload(n: RaftNode, s: Follower, snapshot: SnapshotInfo, voters: readonly NodeId[], directoryIds: VoterDirectories | undefined): void {
  s.download = { snapshot, voters, directoryIds, position: 0, sentAtTick: n.nowTicks }
  requestChunk(n, s, s.download)
}

/** Follower: ask for the chunk at the download's position (again, when the last ask went unanswered). */
export function requestChunk(n: RaftNode, s: Follower, d: SnapshotDownload): void {
  d.sentAtTick = n.nowTicks
  const snapshotId = { endOffset: d.snapshot.endOffset, epoch: d.snapshot.epoch }
  n.send({
    type: 'fetchSnapshot', from: n.id, to: s.leaderId, epoch: n.epoch, snapshotId, position: d.position, maxBytes: n.cfg.fetchMaxBytes,
    replicaDirectoryId: n.directoryId,
  })
}

/** Is `m` the answer for the chunk the download is waiting on (same snapshot, same position)? */
export function answersDownload(d: SnapshotDownload, m: { readonly snapshotId: SnapshotId; readonly position: number }): boolean {
  return sameSnapshot(d.snapshot, m.snapshotId) && m.position === d.position
}

/**
 * Follower: the leader's answer for the current chunk. Writes it and asks for the next, or
 * installs the snapshot after the last one. False when the download is over (installed, or
 * abandoned: the leader moved on to a newer snapshot, or the chunk is malformed), and the
 * follower should fetch records again.
 */
export function takeChunk(n: RaftNode, s: Follower, d: SnapshotDownload, m: SnapshotChunk | SnapshotNotFound): boolean {
  if (m.kind === 'notFound') {
    s.download = null // the leader moved on to a newer snapshot: ask again
    return false
  }
  if (m.chunk === null || !(m.length >= 1) || m.position + m.length > d.snapshot.sizeBytes || m.sizeBytes !== d.snapshot.sizeBytes) {
    s.download = null // a malformed chunk: start over rather than install something wrong
    return false
  }
  n.directive({ kind: 'writeSnapshotChunk', snapshotId: m.snapshotId, position: m.position, chunk: m.chunk })
  d.position += m.length
  if (d.position < d.snapshot.sizeBytes) {
    requestChunk(n, s, d)
    return true
  }
  s.download = null
  n.directive({ kind: 'installSnapshot', snapshot: d.snapshot, voters: d.voters, directoryIds: d.directoryIds })
  n.restartLog(d.snapshot.endOffset, d.snapshot.epoch, d.voters, d.directoryIds)
  votersChanged(n)
  n.snapshot = d.snapshot
  n.raiseHighWatermark(d.snapshot.endOffset) // a snapshot holds committed state only
  return false
}

export function snapshotResponseBase<T extends object>(from: NodeId, m: FetchSnapshotRequest, epoch: number, rest: T) {
  return { type: 'fetchSnapshotResponse' as const, from, to: m.from, epoch, snapshotId: m.snapshotId, position: m.position, ...rest }
}

function sameSnapshot(a: SnapshotId, b: SnapshotId): boolean {
  return a.endOffset === b.endOffset && a.epoch === b.epoch
}
