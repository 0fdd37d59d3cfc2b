// The broker's Raft timing (issue 17, "timeouts for real networks"): seconds, not hundreds of
// milliseconds; a follower's fetch parked 250–500 ms; never a fetch timeout below 1.5 s.
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MetadataNode } from '../../../src/broker/controller/node/metadata-node.js'
import { RAFT_FETCH_TIMEOUT_MS_MIN, RAFT_TIMING, type RaftTiming } from '../../../src/broker/limits.js'
import { NodeFileLayer } from '../../../src/storage/index.js'
import { raftTicks, RaftTimingError } from '../../../src/broker/partition/raft-timing.js'
import { Cluster } from './cluster.js'

const TICK_MS = 50 // the broker's default tick-ms

for (const [group, timing] of Object.entries(RAFT_TIMING) as [string, RaftTiming][]) {
  t.test(`the ${group} timing, in ticks of the default tick, keeps issue 17's bounds`, async (t) => {
    const { electionTimeoutTicks, raft } = raftTicks(TICK_MS, timing)
    const ms = (ticks: number) => ticks * TICK_MS
    t.ok(ms(raft.fetchTimeoutTicks) >= 2_000, `fetch timeout (pre-vote, check-quorum) ${ms(raft.fetchTimeoutTicks)} ms: seconds`)
    t.ok(ms(electionTimeoutTicks) >= 1_000, `election timeout ${ms(electionTimeoutTicks)} ms: seconds`)
    t.ok(ms(raft.fetchMaxWaitTicks) >= 250 && ms(raft.fetchMaxWaitTicks) <= 500, `parked fetch ${ms(raft.fetchMaxWaitTicks)} ms`)
    t.ok(raft.fetchRetryTicks > raft.fetchMaxWaitTicks && raft.fetchRetryTicks < raft.fetchTimeoutTicks, 'a retry after the parked wait, before the timeout')
    t.ok(raft.beginQuorumRetryTicks < electionTimeoutTicks, 'BeginQuorumEpoch re-sent within an election timeout')
    t.ok(ms(raft.leaderLinkDropTicks!) < 1_000 && raft.leaderLinkDropTicks! >= 2, `a closed link to the leader starts a pre-vote within ${ms(raft.leaderLinkDropTicks!)} ms, spread over ticks`)
  })
}

t.test('each setting converts on its own, to the nearest tick, and the retry stays above the parked wait', async (t) => {
  t.same(raftTicks(100, { ...RAFT_TIMING.partition, fetchTimeoutMs: 2_000, electionTimeoutMs: 1_250, fetchMaxWaitMs: 480, fetchRetryMs: 520, beginQuorumRetryMs: 260, leaderLinkDropMs: 340 }), {
    electionTimeoutTicks: 13,
    raft: { fetchTimeoutTicks: 20, fetchMaxWaitTicks: 5, fetchRetryTicks: 6, beginQuorumRetryTicks: 3, leaderLinkDropTicks: 3 },
  })
})

t.test('a timing the core could not keep is refused, naming the setting', async (t) => {
  const d = RAFT_TIMING.partition
  t.throws(() => raftTicks(TICK_MS, { ...d, fetchTimeoutMs: RAFT_FETCH_TIMEOUT_MS_MIN - 1 }), new RaftTimingError(`Raft fetchTimeoutMs ${RAFT_FETCH_TIMEOUT_MS_MIN - 1} is below 1500 ms, shorter than a busy broker can be relied on to answer`))
  t.throws(() => raftTicks(300), { name: 'RaftTimingError', message: /tick \(300 ms\) is too coarse to park a fetch for 500 ms: use a tick of at most 250 ms/ })
  t.throws(() => raftTicks(TICK_MS, { ...d, fetchRetryMs: 500 }), { message: /fetchRetryMs 500 must exceed fetchMaxWaitMs 500/ })
  t.throws(() => raftTicks(TICK_MS, { ...d, leaderLinkDropMs: 3_000 }), { message: /leaderLinkDropMs 3000 must be below fetchTimeoutMs 3000/ })
  t.throws(() => raftTicks(TICK_MS, { ...d, fetchRetryMs: 3_000 }), { message: /fetchRetryMs 3000 must be below fetchTimeoutMs 3000/ })
  t.throws(() => raftTicks(TICK_MS, { ...d, electionTimeoutMs: Number.NaN }), { message: /electionTimeoutMs must be a whole number of milliseconds >= 1 \(got NaN\)/ })
  t.throws(() => raftTicks(0), { message: /tick must be a whole number of milliseconds >= 1 \(got 0\)/ })
})

t.test('the metadata quorum keeps the same floor: a node whose timing is too short does not open', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'bitacora-timing-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined }
  const open = (fetchTimeoutMs: number) =>
    MetadataNode.open({ dataDir, nodeId: 1, voters: undefined, tickMs: TICK_MS, send: () => undefined, log: quiet, fs: new NodeFileLayer(), timing: { fetchTimeoutMs } })
  await t.rejects(open(RAFT_FETCH_TIMEOUT_MS_MIN - 1), { name: 'RaftTimingError', message: /fetchTimeoutMs 1499 is below 1500 ms/ })
  const node = await open(RAFT_FETCH_TIMEOUT_MS_MIN)
  await node.close()
})

t.test('with the broker timing, followers of a leader that died wait out the fetch timeout, then elect within an election timeout', async (t) => {
  const timing = raftTicks(TICK_MS)
  const c = await Cluster.start({ voters: 3, electionTimeoutTicks: timing.electionTimeoutTicks, raft: timing.raft })
  t.teardown(() => c.stopAll())
  await c.electLeader()
  const dead = c.leaderId()!
  c.crash(dead, false) // no EndQuorumEpoch: the others learn only from silence
  let ticks = 0
  while (c.leader() === undefined && ticks < 1_000) {
    await c.tick()
    ticks++
  }
  const { fetchTimeoutTicks } = timing.raft
  t.ok(ticks >= fetchTimeoutTicks, `no election before the fetch timeout: a new leader after ${ticks * TICK_MS} ms`)
  // Pre-vote and vote take a few ticks of message turns; the random part is below one election timeout.
  t.ok(ticks <= fetchTimeoutTicks + 2 * timing.electionTimeoutTicks, `elected within ${ticks * TICK_MS} ms`)
  t.not(c.leaderId(), dead)
})

t.test("with the broker timing, followers told that their leader's link closed elect a successor within leaderLinkDropMs, not the fetch timeout", async (t) => {
  const timing = raftTicks(TICK_MS)
  const c = await Cluster.start({ voters: 3, electionTimeoutTicks: timing.electionTimeoutTicks, raft: timing.raft })
  t.teardown(() => c.stopAll())
  await c.electLeader()
  const dead = c.leaderId()!
  c.crash(dead, false) // no EndQuorumEpoch: a SIGKILL, whose closed sockets the peer transport reports
  for (const [id, r] of c.replicas) if (id !== dead) await r.leaderUnreachable(dead)
  let ticks = 0
  while (c.leader() === undefined && ticks < 1_000) {
    await c.tick()
    ticks++
  }
  const { leaderLinkDropTicks, fetchTimeoutTicks } = timing.raft
  t.ok(ticks <= leaderLinkDropTicks! + 5, `elected after ${ticks * TICK_MS} ms (link drop ${leaderLinkDropTicks! * TICK_MS} ms, fetch timeout ${fetchTimeoutTicks * TICK_MS} ms)`)
  t.not(c.leaderId(), dead)
})
