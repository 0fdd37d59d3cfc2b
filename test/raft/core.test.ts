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

/** n1 leading `voters` in epoch 2 with its LeaderChange (offset 0) committed through a majority's fetches. */
function committedLeader(voters = [1, 2, 3]): RaftCore {
  const core = new RaftCore(config(1, voters), { epoch: 1, votedFor: 1, leaderId: null }, EMPTY)
  const others = voters.slice(1, Math.floor(voters.length / 2) + 1)
  core.campaign()
  for (const from of others) core.receive({ type: 'voteResponse', from, to: 1, epoch: 2, preVote: true, granted: true, leaderId: null })
  for (const from of others) core.receive({ type: 'voteResponse', from, to: 1, epoch: 2, preVote: false, granted: true, leaderId: null })
  drain(core)
  core.appended(1, { epochStarts: [{ epoch: 2, startOffset: 0 }] })
  core.flushed(1)
  for (const from of others) core.receive(fetchFrom(from, 1))
  drain(core)
  return core
}

function fetchFrom(from: number, offset: number, epoch = 2): Message {
  return { type: 'fetch', from, to: 1, epoch, fetchId: offset, fetchOffset: offset, lastFetchedEpoch: offset === 0 ? 0 : 2, flushedOffset: offset, maxBytes: 100 }
}

t.test('voter changes: one at a time, from a committed epoch, to caught-up observers', async (t) => {
  const fresh = new RaftCore(config(1, [1, 2, 3]), { epoch: 1, votedFor: 1, leaderId: null }, EMPTY)
  t.match(fresh.addVoter(4), { ok: false, reason: 'notLeader' })
  const core = committedLeader()
  t.equal(core.status().highWatermark, 1)
  t.match(core.addVoter(2), { ok: false, reason: 'alreadyVoter' })
  t.match(core.addVoter(4), { ok: false, reason: 'notCaughtUp' }, 'an observer that never fetched')
  core.receive(fetchFrom(4, 0))
  drain(core)
  t.match(core.addVoter(4), { ok: false, reason: 'notCaughtUp' }, 'fetching, but below the HW')
  core.receive(fetchFrom(4, 1))
  drain(core)
  t.same(core.addVoter(4), { ok: true, voters: [1, 2, 3, 4] })
  t.same(drain(core).directives, [{ kind: 'appendVoters', epoch: 2, voters: [1, 2, 3, 4] }])
  t.match(core.removeVoter(3), { ok: false, reason: 'leaderNotReady' }, 'the record is not appended yet')
  core.appended(2, { voterSets: [{ offset: 1, voters: [1, 2, 3, 4] }] })
  const rd = drain(core)
  t.same(rd.voters, [1, 2, 3, 4], 'the Ready reports the set now in force')
  t.same(core.status().voters, [1, 2, 3, 4])
  t.match(core.removeVoter(3), { ok: false, reason: 'changeInProgress' }, 'the first change is uncommitted')
  // 3 of 4 must flush the record now: n1, n2 and n4.
  core.flushed(2)
  core.receive(fetchFrom(2, 2))
  t.equal(core.status().highWatermark, 1, 'n1 and n2 are not a majority of four')
  core.receive(fetchFrom(4, 2))
  t.equal(core.status().highWatermark, 2)
  drain(core)
  t.same(core.removeVoter(3), { ok: true, voters: [1, 2, 4] })
})

t.test('a leader that steps down keeps nothing of its leadership', async (t) => {
  const core = committedLeader()
  t.equal(core.epochCommitted(), true, 'its LeaderChange is below the HW')
  core.resign()
  t.match(drain(core).leadership, { role: 'unattached' })
  t.equal(core.epochCommitted(), false, 'the epoch it committed is no answer for a node that no longer leads')
  t.match(core.propose(), { ok: false, reason: 'notLeader' })
})

t.test('a voter change is refused for the last voter, unknown voters and a full set', async (t) => {
  const single = new RaftCore(config(1, [1]), null, EMPTY)
  single.campaign()
  drain(single)
  single.appended(1, { epochStarts: [{ epoch: 1, startOffset: 0 }] })
  single.flushed(1)
  drain(single)
  t.match(single.removeVoter(1), { ok: false, reason: 'lastVoter' })
  t.match(single.removeVoter(2), { ok: false, reason: 'notVoter' })
  const seven = committedLeader([1, 2, 3, 4, 5, 6, 7])
  t.equal(seven.status().role, 'leader')
  t.match(seven.addVoter(8), { ok: false, reason: 'tooManyVoters' })
})

t.test('a voter change is refused when the new set could not commit', async (t) => {
  const core = committedLeader()
  t.match(core.removeVoter(2), { ok: false, reason: 'wouldLoseQuorum' }, '{1,3} needs n3, which has not fetched')
  core.receive(fetchFrom(3, 1))
  drain(core)
  t.same(core.removeVoter(2), { ok: true, voters: [1, 3] })
})

t.test('a leader that removed itself leads until the removal commits, then resigns', async (t) => {
  const core = committedLeader()
  core.receive(fetchFrom(3, 1))
  drain(core)
  t.same(core.removeVoter(1), { ok: true, voters: [2, 3] })
  drain(core)
  core.appended(2, { voterSets: [{ offset: 1, voters: [2, 3] }] })
  core.flushed(2)
  drain(core)
  t.equal(core.status().role, 'leader')
  t.equal(core.status().voter, false)
  core.receive(fetchFrom(2, 2))
  t.equal(core.status().highWatermark, 1, 'its own flush does not count any more')
  core.receive(fetchFrom(3, 2))
  const rd = drain(core)
  t.equal(core.status().highWatermark, 2)
  t.match(rd.leadership, { role: 'unattached' })
  t.same(rd.messages.filter((m) => m.type === 'endQuorumEpoch').map((m) => m.to), [2, 3])
  for (let i = 0; i < 100; i++) core.tick()
  t.notOk(drain(core).messages.some((m) => m.type === 'vote'), 'an observer never campaigns')
})

t.test('leadership transfer: refusals, proposals held, hand-over once the target caught up', async (t) => {
  t.match(new RaftCore(config(2, [1, 2, 3]), null, EMPTY).transferLeadership(1), { ok: false, reason: 'notLeader' })
  const core = committedLeader()
  t.match(core.transferLeadership(1), { ok: false, reason: 'self' })
  t.match(core.transferLeadership(9), { ok: false, reason: 'notVoter' })
  core.receive(fetchFrom(3, 0))
  drain(core)
  t.same(core.transferLeadership(3), { ok: true })
  t.match(core.transferLeadership(2), { ok: false, reason: 'inProgress' })
  t.match(core.propose(), { ok: false, reason: 'transferring' })
  t.match(core.addVoter(4), { ok: false, reason: 'changeInProgress' })
  t.equal(core.status().transferTarget, 3)
  core.receive(fetchFrom(3, 1))
  const rd = drain(core)
  t.match(rd.leadership, { role: 'unattached' })
  t.match(rd.messages.filter((m) => m.type === 'endQuorumEpoch'), [{ to: 2, preferredSuccessors: [3, 2] }, { to: 3, preferredSuccessors: [3, 2] }])
})

t.test('snapshots and log starts: limits and what followers behind them are told', async (t) => {
  const core = committedLeader()
  t.throws(() => core.snapshotTaken({ endOffset: 2, epoch: 2, sizeBytes: 10 }), /outside \(log start, HW\]/)
  t.throws(() => core.snapshotTaken({ endOffset: 1, epoch: 1, sizeBytes: 10 }), /epoch differs/)
  t.throws(() => core.advanceLogStart(2), /beyond the flushed HW/)
  const data = committedLeader()
  data.advanceLogStart(1)
  t.equal(data.status().logStart, 1)
  t.equal(data.status().logStartEpoch, 2)
  data.receive(fetchFrom(3, 0))
  t.match(drain(data).messages, [{ kind: 'outOfRange', logStart: 1, logStartEpoch: 2, voters: [1, 2, 3] }])
  const sm = committedLeader()
  sm.snapshotTaken({ endOffset: 1, epoch: 2, sizeBytes: 250 })
  t.throws(() => sm.advanceLogStart(1), /moves its start by snapshotTaken/)
  sm.receive(fetchFrom(3, 0))
  t.match(drain(sm).messages, [{ kind: 'snapshot', snapshot: { endOffset: 1, epoch: 2, sizeBytes: 250 } }])
  const ask = (position: number, maxBytes = 100): Message => ({ type: 'fetchSnapshot', from: 3, to: 1, epoch: 2, snapshotId: { endOffset: 1, epoch: 2 }, position, maxBytes })
  sm.receive(ask(200))
  const rd = drain(sm)
  t.match(rd.directives, [{ kind: 'attachSnapshotChunk', position: 200, length: 50 }], 'the last chunk is what is left')
  sm.receive({ ...ask(0), snapshotId: { endOffset: 1, epoch: 1 } } as Message)
  t.match(drain(sm).messages, [{ kind: 'notFound' }], 'an unknown snapshot id')
  sm.receive(ask(250))
  t.match(drain(sm).messages, [{ kind: 'notFound' }], 'a position past the end')
})

t.test('a follower restarting with voter records and a snapshot in its log view', async (t) => {
  const log = {
    logStart: 10, logEnd: 14, flushedEnd: 12, epochs: [{ epoch: 3, startOffset: 11 }], logStartEpoch: 2,
    voterSets: [{ offset: 4, voters: [1, 2] }, { offset: 11, voters: [1, 2, 3] }, { offset: 13, voters: [1, 3] }],
    snapshot: { endOffset: 10, epoch: 2, sizeBytes: 99 },
  }
  const core = new RaftCore(config(2, [7, 8, 9]), { epoch: 3, votedFor: null, leaderId: 1 }, log)
  const s = core.status()
  t.same(s.voters, [1, 3], 'the latest record within the log is in force')
  t.equal(s.voter, false)
  t.same(s.snapshot, log.snapshot)
  t.equal(core.epochAt(10), 2, 'offset 10 is before epoch 3 began')
  t.same(core.voterHistory(), [{ offset: 4, voters: [1, 2] }, { offset: 11, voters: [1, 2, 3] }, { offset: 13, voters: [1, 3] }])
  const past = new RaftCore(config(2, [7, 8, 9]), null, { ...log, logEnd: 13, flushedEnd: 13 })
  t.same(past.status().voters, [1, 2, 3], 'a record at or beyond the log end was lost with the tail')
})

t.test('a snapshot covering the leader\'s own LeaderChange does not make its epoch look uncommitted', async (t) => {
  const core = committedLeader()
  core.snapshotTaken({ endOffset: 1, epoch: 2, sizeBytes: 10 })
  t.equal(core.status().logStart, 1)
  t.same(core.removeVoter(3), { ok: true, voters: [1, 2] })
})

t.test('a voter past a failed candidacy tells the leader of an older epoch that its epoch is over, so it can rejoin', async (t) => {
  // Node 3 raised its epoch to 6 campaigning and lost; node 2 leads epoch 5 and keeps asking it to follow.
  const voter = new RaftCore(config(3, [1, 2, 3]), { epoch: 6, votedFor: 3, leaderId: null }, EMPTY)
  voter.receive({ type: 'beginQuorumEpoch', from: 2, to: 3, epoch: 5 })
  t.match(drain(voter).messages, [{ type: 'endQuorumEpoch', from: 3, to: 2, epoch: 6 }], 'the notice is answered with the newer epoch (simulator seed 321 hung forever without it)')

  const leader = new RaftCore(config(2, [1, 2, 3]), null, EMPTY)
  leader.campaign()
  leader.receive({ type: 'voteResponse', from: 1, to: 2, epoch: 1, preVote: true, granted: true, leaderId: null })
  leader.receive({ type: 'voteResponse', from: 1, to: 2, epoch: 1, preVote: false, granted: true, leaderId: null })
  drain(leader)
  t.equal(leader.status().role, 'leader')
  leader.receive({ type: 'endQuorumEpoch', from: 3, to: 2, epoch: 6, preferredSuccessors: [] })
  drain(leader)
  t.match(leader.status(), { role: 'unattached', epoch: 6 }, 'the old leader moves to the newer epoch, where an election follows')
})
