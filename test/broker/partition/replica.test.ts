// The replica shell with real replication: three (or four) PartitionReplicas wired together in
// one process. Each test reproduces one way the shell and its core or log could get out of step.
import t from 'tap'
import { ErrorCode, isRetriable } from '../../../src/protocol/index.js'
import { ReplicaError } from '../../../src/broker/partition/replica-error.js'
import { CORE_INPUTS_QUEUED_MAX } from '../../../src/broker/partition/limits.js'
import type { FetchRequest, Message, VoteResponse } from '../../../src/raft/types.js'
import { cleanLogs } from '../../../src/broker/partition/replica-manager.js'
import { Cluster, codec, RecordingLogger, turn } from './cluster.js'

const settled = <T>(p: Promise<T>) => p.then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error }))

function start(t: { teardown(fn: () => unknown): void }, ...args: Parameters<typeof Cluster.start>): Promise<Cluster> {
  return Cluster.start(...args).then((c) => {
    t.teardown(() => c.stopAll())
    return c
  })
}

t.test('a follower whose append fails reopens from disk and catches up (it used to stop fetching for good)', async (t) => {
  const c = await start(t, { voters: 3 })
  const leader = await c.electLeader()
  const leaderId = c.leaderId()!
  const followerId = c.ids.find((id) => id !== leaderId)!
  await leader.committed((await c.produce(leader)).nextOffset, 10_000)
  c.files.get(followerId)!.failNext = { op: 'write', path: /\.log$/ }
  for (let i = 0; i < 3; i++) await c.produce(leader)
  await c.until('the follower caught up', () => c.get(followerId).log.logEndOffset === leader.log.logEndOffset)
  t.same(await c.bytes(followerId, 0), await c.bytes(leaderId, 0), 'byte for byte')
  const lines = c.logs.get(followerId)!.lines.filter((l) => l.level === 'warn')
  t.match(lines, [{ msg: /reopen/, fields: { error: /EIO/ } }], 'it said why it reopened')
})

t.test('a leader whose quorum-state write fails reopens, and the group still elects and commits', async (t) => {
  const c = await start(t, { voters: 3 })
  const leader = await c.electLeader()
  const leaderId = c.leaderId()!
  // The next vote anyone grants, or the next epoch anyone enters, needs a quorum-state write: fail one.
  const victim = c.ids.find((id) => id !== leaderId)!
  c.files.get(victim)!.failNext = { op: 'sync', path: /quorum-state/ }
  await c.stop(leaderId) // resigns: the others elect a successor
  await c.until('a new leader', () => c.leader() !== undefined && c.leaderId() !== leaderId && c.leader()!.leaderReady)
  const next = c.leader()!
  const { nextOffset } = await c.produce(next)
  await next.committed(nextOffset, 10_000)
  t.pass('committed under the new leader')
  t.match(c.logs.get(victim)!.lines, [{ msg: /reopen/, fields: { error: /EIO/ } }], 'the replica whose write failed reopened')
})

t.test('retention between a fetch and its answer neither fails acks=all waiters nor loses the answer', async (t) => {
  const c = await start(t, { voters: 3, logConfig: { retentionBytes: 1024, retentionMs: -1 } })
  const leader = await c.electLeader()
  const leaderId = c.leaderId()!
  const [f1, f2] = c.ids.filter((id) => id !== leaderId)
  c.isolate(f2)
  let last = 0
  for (let i = 0; i < 40; i++) last = (await c.produce(leader, 1, null, 'x'.repeat(60))).nextOffset
  await leader.committed(last, 10_000)
  c.isolate(f1) // nothing commits now: a waiter stays pending
  const { nextOffset } = await c.produce(leader)
  const waiter = settled(leader.committed(nextOffset, 60_000))
  // f2 comes back; its fetch (far below what retention will delete) reaches the leader together with a cleaner pass.
  c.route = (m) => (m.type === 'fetch' && m.from === f2 ? 'hold' : 'deliver')
  c.isolate(f2, false)
  await c.until('f2 fetches', () => c.held.length > 0)
  c.route = () => 'deliver'
  const fetch = c.held.shift()!
  void c.deliver(fetch)
  await leader.cleanLog()
  t.ok(leader.log.logStartOffset > (fetch as FetchRequest).fetchOffset, 'retention deleted what the fetch asked for')
  c.isolate(f1, false)
  await c.until('f2 caught up', () => c.get(f2).log.logEndOffset === leader.log.logEndOffset)
  const result = await waiter
  t.ok(result.ok, result.ok ? 'the acks=all waiter was acknowledged' : `the acks=all waiter failed: ${(result.error as Error).message}`)
})

t.test('a follower across a compaction gap at the log end: an empty read is no records, and it catches up once data follows', async (t) => {
  const c = await start(t, { voters: 3, logConfig: { cleanupPolicy: 'compact', deleteRetentionMs: 0 } })
  const leader = await c.electLeader()
  const leaderId = c.leaderId()!
  const lagging = c.ids.find((id) => id !== leaderId)!
  c.isolate(lagging)
  for (let i = 0; i < 5; i++) await c.produce(leader, 1, 'k', `v${i}`)
  const { nextOffset } = await c.produce(leader, 1, 'k', null) // a tombstone: the key's last record
  await leader.committed(nextOffset, 10_000)
  await leader.log.roll() // the active segment is empty: the compacted tail leaves a gap up to the log end
  await leader.cleanLog()
  t.same((await leader.log.read(1, 1 << 20)).bytes.length, 0, 'the leader reads nothing from the gap')
  c.isolate(lagging, false)
  for (let i = 0; i < 20; i++) await c.tick()
  const more = await c.produce(leader, 1, 'j', 'after')
  await c.until('the lagging follower reached the leader', () => c.get(lagging).log.logEndOffset === more.nextOffset)
  t.same(await c.bytes(lagging, 0), await c.bytes(leaderId, 0), 'the same batches, gap and all')
})

t.test('a follower appends across a compaction gap in the middle of the leader\'s log', async (t) => {
  const c = await start(t, { voters: 3, logConfig: { cleanupPolicy: 'compact', deleteRetentionMs: 60 * 60_000 } })
  const leader = await c.electLeader()
  const leaderId = c.leaderId()!
  const lagging = c.ids.find((id) => id !== leaderId)!
  c.isolate(lagging)
  for (let i = 0; i < 30; i++) await c.produce(leader, 1, `k${i % 3}`, `v${i}-${'y'.repeat(50)}`)
  const { nextOffset } = await c.produce(leader, 1, 'last', 'z')
  await leader.committed(nextOffset, 10_000)
  await leader.cleanLog()
  const first = (await leader.log.read(1, 100)).nextOffset
  t.ok(first > 2, `compaction left a gap after offset 0 (the next batch ends at ${first})`)
  c.isolate(lagging, false)
  await c.until('the lagging follower caught up', () => c.get(lagging).log.logEndOffset === leader.log.logEndOffset)
  t.same(await c.bytes(lagging, 0), await c.bytes(leaderId, 0))
})

t.test('a replica reset to the leader\'s log start keeps that start\'s epoch across a restart (and refuses a stale candidate)', async (t) => {
  const c = await start(t, { voters: 3, logConfig: { retentionBytes: 1024, retentionMs: -1 } })
  const leader = await c.electLeader()
  const leaderId = c.leaderId()!
  const epoch = leader.leaderEpoch
  const lagging = c.ids.find((id) => id !== leaderId)!
  c.isolate(lagging)
  let last = 0
  for (let i = 0; i < 40; i++) last = (await c.produce(leader, 1, null, 'x'.repeat(60))).nextOffset
  await leader.committed(last, 10_000)
  await leader.cleanLog()
  const logStart = leader.log.logStartOffset
  t.ok(logStart > c.get(lagging).log.logEndOffset, 'the leader deleted what the lagging replica lacks')
  c.isolate(lagging, false)
  await c.until('the lagging replica reset to the leader\'s start', () => c.get(lagging).log.logStartOffset === logStart)
  c.isolate(lagging)
  await c.stop(lagging)
  const restarted = await c.open(lagging)
  await turn()
  t.equal(restarted.log.logStartEpoch, epoch, 'the epoch below its start is on disk')
  // A candidate whose log ends in an older epoch, however long, lacks committed records.
  const answers: VoteResponse[] = []
  c.route = (m: Message) => {
    if (m.type === 'voteResponse' && m.from === lagging) answers.push(m)
    return 'drop'
  }
  await c.deliver({ type: 'vote', from: 99, to: lagging, epoch: epoch + 1, preVote: false, lastEpoch: epoch - 1, logEnd: logStart + 1000 })
  await c.until('an answer', () => answers.length > 0)
  t.equal(answers[0].granted, false, 'the vote is refused')
})

t.test('a partition created with three voters keeps them when reopened with another bootstrap set', async (t) => {
  const c = await start(t, { voters: 3 })
  await c.electLeader()
  await c.stop(1)
  const reopened = await c.open(1, [1]) // a config naming only this node would let it elect itself alone
  for (let i = 0; i < 30; i++) await c.tick()
  t.equal(reopened.isLeader && reopened.leaderEpoch > c.get(2).leaderEpoch && reopened.leaderEpoch > c.get(3).leaderEpoch, false,
    'it did not elect itself alone')
  t.same(reopened.status().voters, [1, 2, 3])
})

t.test('voter changes: a voter record is appended, replicated, reported to every core, and survives restarts', async (t) => {
  const c = await start(t, { voters: 3, observers: 1 })
  const leader = await c.electLeader()
  await leader.committed((await c.produce(leader)).nextOffset, 10_000)
  await c.until('the observer caught up', () => c.get(4).log.logEndOffset === leader.log.logEndOffset)
  const added = await leader.addVoter(4)
  t.same(added, { ok: true, voters: [1, 2, 3, 4] })
  await c.until('every replica has the new set', () => c.ids.every((id) => c.get(id).status().voters.length === 4))
  const follower = c.ids.find((id) => id !== c.leaderId() && id !== 4)!
  await c.stop(follower)
  await c.stop(4)
  t.same((await c.open(follower)).status().voters, [1, 2, 3, 4], 'a restarted follower finds the record again')
  t.same((await c.open(4)).status().voters, [1, 2, 3, 4], 'so does the added voter, though its bootstrap set lacks it')
  const removed = await c.leader()!.removeVoter(4)
  t.ok(removed.ok || removed.reason === 'changeInProgress', JSON.stringify(removed))
})

t.test('an acks=all waiter for a batch the log no longer holds is refused, never acknowledged by a later epoch', async (t) => {
  const c = await start(t, { voters: 3 })
  const first = await c.electLeader()
  const a = c.leaderId()!
  await first.committed((await c.produce(first)).nextOffset, 10_000)
  c.isolate(a)
  const lost = await c.produce(first, 3) // never replicated: a later leader overwrites it
  await c.until('another leader', () => c.leader() !== first && c.leader()?.leaderReady === true)
  const other = c.leader()!
  await other.committed((await c.produce(other, 5)).nextOffset, 10_000)
  c.isolate(a, false)
  await c.until('the old leader follows and holds the new data', () => c.get(a).log.logEndOffset === other.log.logEndOffset && c.get(a).highWatermark >= lost.nextOffset)
  // Make the old leader lead again.
  for (let round = 0; round < 10 && c.leaderId() !== a; round++) {
    const current = c.leaderId()!
    c.isolate(current)
    await c.until('a new election', () => c.leaderId() !== current && c.leader()?.leaderReady === true)
    c.isolate(current, false)
  }
  t.equal(c.leaderId(), a, 'the first leader leads again')
  const r = await settled(c.get(a).committed(lost.nextOffset, 5_000))
  t.notOk(r.ok, 'the overwritten batch is not acknowledged')
  if (!r.ok) t.match(r.error, { code: ErrorCode.NOT_LEADER_OR_FOLLOWER })
})

t.test('a truncation that lands below the asked offset (a straddling batch) never leaves core and log apart', async (t) => {
  const c = await start(t, { voters: 3 })
  const leader = await c.electLeader()
  const leaderId = c.leaderId()!
  const [f1, f2] = c.ids.filter((id) => id !== leaderId)
  c.isolate(f2)
  const base = leader.log.logEndOffset
  c.route = (m) => (m.type === 'fetch' && m.from === f1 && m.fetchOffset > base ? 'hold' : 'deliver')
  await c.produce(leader, 5) // one batch of five records: [base, base + 5)
  await c.until('f1 appended the batch and asks for more', () => c.held.length > 0)
  const fetch = c.held.shift() as FetchRequest
  c.held.length = 0 // a re-sent fetch reporting a flush may be held too: drop it
  c.route = (m) => (m.type === 'fetch' && m.from === f1 ? 'hold' : 'deliver')
  // The leader's answer says f1 diverges in the middle of that batch.
  await c.deliver({
    type: 'fetchResponse', from: leaderId, to: f1, epoch: fetch.epoch, fetchId: fetch.fetchId, fetchOffset: fetch.fetchOffset,
    kind: 'diverging', highWatermark: base, divergingEpoch: leader.leaderEpoch, divergingEndOffset: base + 2,
  })
  await c.until('f1 fetches again', () => c.held.length > 0)
  const next = c.held.shift() as FetchRequest
  t.equal(next.fetchOffset, c.get(f1).log.logEndOffset, 'it fetches from where its log really ends')
  t.equal(c.get(f1).status().logEnd, c.get(f1).log.logEndOffset, 'core and log agree')
})

t.test('a full input queue refuses with a typed retriable error; ticks and flush notices never reject', async (t) => {
  const c = await start(t, { voters: 1 })
  const r = await c.electLeader()
  const unhandled: unknown[] = []
  const onUnhandled = (err: unknown) => unhandled.push(err)
  process.on('unhandledRejection', onUnhandled)
  t.teardown(() => process.off('unhandledRejection', onUnhandled))
  const noop: Message = { type: 'beginQuorumEpoch', from: 2, to: 1, epoch: 0 } // stale: changes nothing
  // An append first: an idle replica takes a message at once (its Ready, if it needs no I/O, too);
  // behind a queued input, messages queue.
  const first = r.appendValidated(codec.encodeBatch([{ key: null, value: new Uint8Array(1) }]))
  const fills: Promise<void>[] = []
  for (let i = 0; i < CORE_INPUTS_QUEUED_MAX + 10; i++) fills.push(r.receive(noop))
  // Both asked while the queue is full (it drains within a few turns).
  const appending = settled(r.appendValidated(codec.encodeBatch([{ key: null, value: new Uint8Array(1) }])))
  const ticking = settled(r.tick())
  const append = await appending
  const tick = await ticking
  t.notOk(append.ok, 'the append is refused')
  if (!append.ok) {
    t.ok(append.error instanceof ReplicaError, `a ReplicaError (${(append.error as Error).message})`)
    t.ok(isRetriable((append.error as ReplicaError).code), 'with a retriable code')
  }
  t.ok(tick.ok, 'a tick on a full queue resolves')
  const receipts = await Promise.all(fills.map(settled))
  t.ok(receipts.every((x) => x.ok), 'messages beyond the bound are dropped, not rejected')
  await first
  await turn()
  t.same(unhandled, [], 'no unhandled rejection')
  const { nextOffset } = await c.produce(r)
  await r.committed(nextOffset, 10_000)
  t.pass('the replica works on once the queue drains')
})

t.test('the broker\'s cleaner deletes below the high watermark on followers too', async (t) => {
  const c = await start(t, { voters: 3, logConfig: { retentionBytes: 1024, retentionMs: -1 } })
  const leader = await c.electLeader()
  let last = 0
  for (let i = 0; i < 40; i++) last = (await c.produce(leader, 1, null, 'x'.repeat(60))).nextOffset
  await leader.committed(last, 10_000)
  await c.until('followers know the high watermark', () => c.ids.every((id) => c.get(id).highWatermark === last))
  const logger = new RecordingLogger()
  await cleanLogs(new Map([['t', c.ids.map((id) => c.get(id))]]), logger)
  for (const id of c.ids) t.ok(c.get(id).log.logStartOffset > 0, `replica ${id} (${c.get(id).isLeader ? 'leader' : 'follower'}) deleted old segments`)
  t.same(logger.lines, [], 'without errors')
})

t.test('campaign() does not restart an election the core already carried to epoch 1 while that epoch is not yet published', async (t) => {
  // The replica manager asks a new partition's preferred replica to campaign again every 100 ms
  // while its published epoch is 0; the core may already be a candidate of epoch 1 with that
  // Ready queued. A second pre-vote then would make the partition's first leader one of epoch 2.
  const c = await start(t, { voters: 3 })
  c.route = () => 'hold'
  const r = c.get(1)
  await r.campaign()
  const preVotes = c.held.splice(0).filter((m) => m.type === 'vote' && m.preVote)
  t.equal(preVotes.length, 2, 'a pre-vote to each other voter')
  for (const m of preVotes) await c.deliver(m)
  const grant = c.held.splice(0).find((m): m is VoteResponse => m.type === 'voteResponse' && m.granted)
  t.ok(grant, 'a voter granted it')
  const won = c.deliver(grant!) // the core becomes a candidate of epoch 1; its Ready (the vote to persist) is queued
  const again = r.campaign() // asked before that Ready is carried out: the published epoch is still 0
  await Promise.all([won, again])
  t.equal(r.status().epoch, 1, 'still epoch 1')
  t.equal(r.status().role, 'candidate', 'a candidate')
  t.same(c.held.filter((m) => m.type === 'vote').map((m) => (m as { epoch: number; preVote: boolean }).preVote ? `pre-vote ${m.epoch}` : `vote ${m.epoch}`), ['vote 1', 'vote 1'], 'its votes for epoch 1 went out, and no pre-vote for epoch 2')
})
