// Human-readable one-liners for messages and directives, used by traces and scripts.
import type { Message } from '../types.js'
import type { SimEntry } from './sim-log.js'

export function formatMessage(m: Message): string {
  const head = `${m.from}->${m.to} e${m.epoch}`
  switch (m.type) {
    case 'vote':
      return `${head} ${m.preVote ? 'PreVote' : 'Vote'}(last=${m.lastEpoch}@${m.logEnd})`
    case 'voteResponse':
      return `${head} ${m.preVote ? 'PreVoteResp' : 'VoteResp'}(${m.granted ? 'granted' : 'rejected'}${m.leaderId !== null ? ` leader=${m.leaderId}` : ''})`
    case 'beginQuorumEpoch':
      return `${head} BeginQuorumEpoch`
    case 'endQuorumEpoch':
      return `${head} EndQuorumEpoch(successors=${m.preferredSuccessors.join(',')})`
    case 'fetch':
      return `${head} Fetch#${m.fetchId}(offset=${m.fetchOffset} lastEpoch=${m.lastFetchedEpoch} flushed=${m.flushedOffset})`
    case 'fetchResponse': {
      const base = `${head} FetchResp#${m.fetchId}`
      switch (m.kind) {
        case 'records': {
          const rs = m.records as SimEntry[] | null
          const span = rs === null ? 'none' : `${rs[0].offset}..${rs[rs.length - 1].offset}`
          return `${base}(records=${span} hw=${m.highWatermark})`
        }
        case 'diverging':
          return `${base}(diverging epoch=${m.divergingEpoch} end=${m.divergingEndOffset} hw=${m.highWatermark})`
        case 'outOfRange':
          return `${base}(outOfRange logStart=${m.logStart})`
        case 'notLeader':
          return `${base}(notLeader leader=${m.leaderId ?? '?'})`
      }
    }
  }
}

/** A log as `epoch:payload` per offset; control records print as `epoch:LC`. */
export function formatLog(entries: readonly SimEntry[]): string {
  return entries.map((e) => `${e.epoch}:${e.payload < 0 ? 'LC' : e.payload}`).join(' ')
}
