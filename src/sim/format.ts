// Human-readable one-liners for messages and directives, used by traces and scripts.
import type { Message } from '../raft/types.js'
import type { SimEntry } from './sim-log.js'

export function formatMessage(m: Message): string {
  const head = `${m.from}->${m.to} e${m.epoch}`
  switch (m.type) {
    case 'vote':
      return `${head} ${m.preVote ? 'PreVote' : 'Vote'}(last=${m.lastEpoch}@${m.logEnd}${m.voterDirectoryId !== undefined ? ` to=${m.voterDirectoryId}` : ''})`
    case 'voteResponse':
      return `${head} ${m.preVote ? 'PreVoteResp' : 'VoteResp'}(${m.granted ? 'granted' : 'rejected'}${m.leaderId !== null ? ` leader=${m.leaderId}` : ''})`
    case 'beginQuorumEpoch':
      return `${head} BeginQuorumEpoch${m.voterDirectoryId !== undefined ? `(to=${m.voterDirectoryId})` : ''}`
    case 'endQuorumEpoch':
      return `${head} EndQuorumEpoch(successors=${m.preferredSuccessors.join(',')})`
    case 'fetch':
      return `${head} Fetch#${m.fetchId}(offset=${m.fetchOffset} lastEpoch=${m.lastFetchedEpoch} flushed=${m.flushedOffset}${m.highWatermark !== undefined ? ` hw=${m.highWatermark}` : ''}${m.replicaDirectoryId !== undefined ? ` dir=${m.replicaDirectoryId}` : ''})`
    case 'fetchResponse': {
      const base = `${head} FetchResp#${m.fetchId}`
      switch (m.kind) {
        case 'records': {
          // The stand-in shell sends entries; the real one, record batch bytes.
          const rs = m.records as SimEntry[] | Uint8Array | null
          const span = rs === null ? 'none' : rs instanceof Uint8Array ? `${rs.length} bytes` : `${rs[0].offset}..${rs[rs.length - 1].offset}`
          return `${base}(records=${span} hw=${m.highWatermark})`
        }
        case 'diverging':
          return `${base}(diverging epoch=${m.divergingEpoch} end=${m.divergingEndOffset} hw=${m.highWatermark})`
        case 'outOfRange':
          return `${base}(outOfRange logStart=${m.logStart} epoch=${m.logStartEpoch} voters=${m.voters.join(',')} hw=${m.highWatermark})`
        case 'snapshot':
          return `${base}(snapshot end=${m.snapshot.endOffset} epoch=${m.snapshot.epoch} size=${m.snapshot.sizeBytes} hw=${m.highWatermark})`
        case 'notLeader':
          return `${base}(notLeader leader=${m.leaderId ?? '?'})`
      }
      break
    }
    case 'fetchSnapshot':
      return `${head} FetchSnapshot(end=${m.snapshotId.endOffset} epoch=${m.snapshotId.epoch} position=${m.position})`
    case 'fetchSnapshotResponse': {
      const base = `${head} FetchSnapshotResp(end=${m.snapshotId.endOffset} position=${m.position}`
      switch (m.kind) {
        case 'chunk':
          return `${base} length=${m.length} of ${m.sizeBytes})`
        case 'notFound':
          return `${base} notFound)`
        case 'notLeader':
          return `${base} notLeader leader=${m.leaderId ?? '?'})`
      }
    }
  }
  return `${head} ?`
}

/** A log as `epoch:payload` per offset; control records print as `epoch:LC` and `epoch:V{voters}` (`id@directory` where known). */
export function formatLog(entries: readonly SimEntry[]): string {
  return entries.map((e) => `${e.epoch}:${e.voters !== undefined ? `V{${formatVoters(e.voters, e.directoryIds)}}` : e.payload < 0 ? 'LC' : e.payload}`).join(' ')
}

export function formatVoters(voters: readonly number[], directoryIds: Readonly<Record<number, string>> | undefined): string {
  return voters.map((v) => (directoryIds?.[v] === undefined ? `${v}` : `${v}@${directoryIds[v]}`)).join(',')
}
