// Unit tests of the core through its public inputs and Ready outputs.
import t from 'tap'
import { RaftCore } from '../../src/raft/core.js'
import type { Message, RaftConfig, Ready } from '../../src/raft/types.js'

const EMPTY = { logStart: 0, logEnd: 0, flushedEnd: 0, epochs: [] }

function config(id: number, voters: number[], extra: Partial<RaftConfig> = {}): RaftConfig {
  return {
    id, voters, electionTimeoutTicks: 10, fetchTimeoutTicks: 20, fetchMaxWaitTicks: 4, fetchRetryTicks: 6,
    beginQuorumRetryTicks: 4, fetchMaxBytes: 1000, random: () => 0, ...extra,
  }
}

function drain(core: RaftCore): Ready {
  const rd = core.ready()
  core.advance()
  return rd
}

t.test('a single voter elects itself and commits through its LeaderChange', async (t) => {
  const core = new RaftCore(config(1, [1]), null, EMPTY)
  core.campaign()
  const rd = drain(core)
  t.same(rd.quorumState, { epoch: 1, votedFor: 1, leaderId: 1 }, 'the vote is persisted with the Ready')
  t.same(rd.directives, [{ kind: 'appendLeaderChange', epoch: 1, voters: [1] }])
  t.same(rd.leadership, { role: 'leader', epoch: 1, leaderId: 1 })
  t.match(core.propose(), { ok: false, reason: 'leaderNotReady' }, 'no client data before the LeaderChange')
  core.appended(1, { epochStarts: [{ epoch: 1, startOffset: 0 }] })
  t.equal(core.status().highWatermark, 0, 'appended is not flushed')
  core.flushed(1)
  t.equal(drain(core).highWatermark, 1)
  t.same(core.propose(), { ok: true, epoch: 1 })
  core.appended(2)
  core.flushed(2)
  t.equal(drain(core).highWatermark, 2)
})

t.test('the election timer starts a pre-vote, not an epoch bump', async (t) => {
  const core = new RaftCore(config(1, [1, 2, 3]), null, EMPTY)
  for (let i = 0; i < 10; i++) core.tick()
  const rd = drain(core)
  t.equal(core.status().role, 'prospective')
  t.equal(core.status().epoch, 0)
  t.equal(rd.quorumState, null, 'a pre-vote changes nothing durable')
  t.same(rd.messages.map((m) => [m.type, m.to, m.epoch, (m as { preVote: boolean }).preVote]), [['vote', 2, 1, true], ['vote', 3, 1, true]])
})

t.test('a vote is granted once per epoch and persisted in the same Ready', async (t) => {
  const core = new RaftCore(config(2, [1, 2, 3]), null, EMPTY)
  const vote = (from: number): Message => ({ type: 'vote', from, to: 2, epoch: 1, preVote: false, lastEpoch: 0, logEnd: 0 })
  core.receive(vote(1))
  const rd = drain(core)
  t.same(rd.quorumState, { epoch: 1, votedFor: 1, leaderId: null })
  t.match(rd.messages, [{ type: 'voteResponse', granted: true, to: 1 }])
  core.receive(vote(3))
  t.match(drain(core).messages, [{ type: 'voteResponse', granted: false, to: 3 }])
})

t.test('a leader answers a divergent fetch with the diverging epoch', async (t) => {
  const log = { logStart: 0, logEnd: 6, flushedEnd: 6, epochs: [{ epoch: 1, startOffset: 0 }, { epoch: 3, startOffset: 4 }] }
  const core = new RaftCore(config(1, [1, 2, 3]), { epoch: 3, votedFor: 1, leaderId: null }, log)
  core.campaign()
  core.receive({ type: 'voteResponse', from: 2, to: 1, epoch: 4, preVote: true, granted: true, leaderId: null })
  core.receive({ type: 'voteResponse', from: 2, to: 1, epoch: 4, preVote: false, granted: true, leaderId: null })
  t.equal(core.status().role, 'leader')
  drain(core)
  core.appended(7, { epochStarts: [{ epoch: 4, startOffset: 6 }] })
  // n2 has epoch-2 entries up to 5 that the leader never had.
  core.receive({ type: 'fetch', from: 2, to: 1, epoch: 4, fetchId: 1, fetchOffset: 5, lastFetchedEpoch: 2, flushedOffset: 5, maxBytes: 100 })
  t.match(drain(core).messages, [{ type: 'fetchResponse', kind: 'diverging', divergingEpoch: 1, divergingEndOffset: 4 }])
  // n3 matches: it gets records (an attach directive) from its fetch offset.
  core.receive({ type: 'fetch', from: 3, to: 1, epoch: 4, fetchId: 1, fetchOffset: 4, lastFetchedEpoch: 3, flushedOffset: 4, maxBytes: 100 })
  const rd = drain(core)
  t.match(rd.directives, [{ kind: 'attachRecords', fromOffset: 4, maxBytes: 100 }])
  t.match(rd.messages, [{ kind: 'records', highWatermark: 0 }])
})

t.test('a follower truncates on divergence and appends fetched records', async (t) => {
  const log = { logStart: 0, logEnd: 6, flushedEnd: 6, epochs: [{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 4 }] }
  const core = new RaftCore(config(2, [1, 2, 3]), { epoch: 3, votedFor: null, leaderId: 1 }, log)
  const fetch = drain(core).messages[0]
  t.match(fetch, { type: 'fetch', to: 1, fetchOffset: 6, lastFetchedEpoch: 2, flushedOffset: 6 })
  const base = { type: 'fetchResponse' as const, from: 1, to: 2, epoch: 3, fetchId: (fetch as { fetchId: number }).fetchId, fetchOffset: 6 }
  core.receive({ ...base, kind: 'diverging', highWatermark: 3, divergingEpoch: 1, divergingEndOffset: 4 })
  const rd = drain(core)
  t.same(rd.directives, [{ kind: 'truncate', offset: 4 }])
  t.match(rd.messages, [{ type: 'fetch', fetchOffset: 4, lastFetchedEpoch: 1, flushedOffset: 4 }])
  const id = (rd.messages[0] as { fetchId: number }).fetchId
  core.receive({ ...base, fetchId: id, fetchOffset: 4, kind: 'records', highWatermark: 5, records: 'bytes' })
  t.same(drain(core).directives, [{ kind: 'appendFetched', fromOffset: 4, records: 'bytes' }])
  core.appended(7, { epochStarts: [{ epoch: 3, startOffset: 4 }] })
  t.equal(core.status().highWatermark, 5, 'HW = min(leader HW, appended end)')
  t.equal(core.status().lastEpoch, 3)
})

t.test('the Ready contract is enforced', async (t) => {
  const core = new RaftCore(config(1, [1]), null, EMPTY)
  core.campaign()
  core.ready()
  t.throws(() => core.tick(), /between ready\(\) and advance\(\)/)
  core.advance()
  t.throws(() => core.advance(), /without ready/)
})
