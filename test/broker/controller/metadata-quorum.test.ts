// The metadata quorum as DescribeQuorum, AddVoter and RemoveVoter see it, on real replicas: the
// leader's view of every voter's and observer's log end; a node added once it caught up as an
// observer; one that never does times out without holding up the quorum; the last voter is
// never removed; a restart with the original flags keeps the voter set the log recorded.
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { QuorumError } from '../../../src/broker/controller/node/quorum.js'
import { MetadataCluster } from './metadata-cluster.js'
import { waitFor } from './wait.js'

const url = (id: number) => `ws://127.0.0.1:${9000 + id}/`

t.test('status: the leader sees every voter and observer; the others know the leader and their own log', async (t) => {
  const c = new MetadataCluster(t, [1, 2, 3])
  for (const id of [1, 2, 3, 4]) await c.start(id)
  await waitFor(() => (c.leader()?.controller.active() ?? null) !== null, 'an active controller')
  const leader = c.leader()!
  const id = leader.node.nodeId
  await waitFor(() => {
    const s = leader.quorum.status()
    return [...s.voters, ...s.observers].every((r) => r.logEndOffset === leader.node.replica.status().logEnd) && s.observers.length === 1
  }, 'every replica caught up in the leader\'s view')
  const s = leader.quorum.status()
  t.equal(s.leaderId, id)
  t.equal(leader.quorum.controllerId, id)
  t.same(s.voters.map((v) => v.nodeId), [1, 2, 3])
  t.same(s.voters.map((v) => v.url), [1, 2, 3].map(url), 'with their URLs')
  t.same(s.observers.map((o) => o.nodeId), [4], 'node 4 follows as an observer')
  for (const r of [...s.voters, ...s.observers]) {
    t.equal(r.lag, 0, `node ${r.nodeId} lags 0`)
    t.ok(r.lastFetchMsAgo >= 0 && r.lastFetchMsAgo < 2_000, `node ${r.nodeId} fetched ${r.lastFetchMsAgo} ms ago`)
  }
  const follower = c.get(id === 1 ? 2 : 1)
  const f = follower.quorum.status()
  t.equal(f.leaderId, id, 'a follower knows the leader')
  t.match(f.voters.find((v) => v.nodeId === id), { nodeId: id, url: url(id), logEndOffset: -1, lastFetchMsAgo: -1, lag: -1 }, 'but not its position')
  t.equal(f.voters.find((v) => v.nodeId === follower.node.nodeId)?.logEndOffset, follower.node.replica.status().logEnd, 'its own log end it knows')
  await t.rejects(follower.quorum.addVoter(4, url(4), 1_000), { name: 'QuorumError', code: 'NOT_CONTROLLER', controllerId: id, message: new RegExp(`the active controller is node ${id} at ${url(id)}`) })
  await t.rejects(follower.quorum.removeVoter(3), { code: 'NOT_CONTROLLER' })
})

t.test('add-voter: an observer that caught up becomes a voter; an unreachable node times out without blocking the quorum; remove-voter; a restart keeps the log\'s set', async (t) => {
  const c = new MetadataCluster(t, [1, 2, 3])
  for (const id of [1, 2, 3, 4]) await c.start(id)
  await waitFor(() => (c.leader()?.controller.active() ?? null) !== null, 'an active controller')
  await c.registerBrokers([1])
  const leader = c.leader()!

  const stuck = leader.quorum.addVoter(9, url(9), 600).then(() => null, (e: unknown) => e)
  const [created] = await leader.admin.createTopics({ topics: [{ name: 'meanwhile', partitions: 1, replicationFactor: 0, configs: {} }], validateOnly: false }, 5_000)
  t.equal(created.error, null, 'the quorum takes changes while a new voter is awaited')
  const err = await stuck
  t.type(err, QuorumError)
  t.match(err, { code: 'REQUEST_TIMED_OUT', message: /cannot add node 9 .* within 600 ms: node 9 has not fetched from this leader: is it running at ws:\/\/127.0.0.1:9009\/.*It stays an observer; nothing was changed/ })
  t.same(leader.quorum.status().voters.map((v) => v.nodeId), [1, 2, 3])

  t.same(await leader.quorum.addVoter(4, url(4), 10_000), [1, 2, 3, 4], 'node 4, caught up as an observer, is added')
  await t.rejects(leader.quorum.addVoter(4, url(4), 1_000), { code: 'INVALID_REQUEST', message: /node 4 is a voter already/ })
  await t.rejects(leader.quorum.addVoter(5, 'http://x:1', 1_000), { code: 'INVALID_REQUEST', message: /add-voter 5: the scheme is http, not ws or wss/ })
  for (const m of c.members.values()) await waitFor(() => m.node.replica.status().voters.length === 4, `node ${m.node.nodeId} to see four voters`)

  const restarted = [...c.members.keys()].find((id) => id !== leader.node.nodeId && id !== 4)!
  await c.stop(restarted)
  const back = await c.start(restarted) // the original --controller-voters 1,2,3
  t.same(back.node.replica.status().voters, [1, 2, 3, 4], 'restarted with its original flags, the voter set in the log wins')

  await waitFor(() => (c.leader()?.controller.active() ?? null) !== null, 'an active controller')
  t.same(await c.leader()!.quorum.removeVoter(4), [1, 2, 3], 'removed again')
  await t.rejects(c.leader()!.quorum.removeVoter(7), { code: 'INVALID_REQUEST', message: /node 7 is not a voter \(voters: 1, 2, 3\)/ })
})

t.test('remove-voter never removes the last voter', async (t) => {
  const c = new MetadataCluster(t, undefined)
  const { node, quorum } = await c.start(0)
  await node.caughtUp()
  await t.rejects(quorum.removeVoter(0), { code: 'INVALID_REQUEST', message: /node 0 is the last voter/ })
  t.same(quorum.status().voters.map((v) => v.nodeId), [0])
})

t.test('KIP-853: a voter whose data dir was wiped returns as an observer under its id; removed and added again, it votes with its new directory id', async (t) => {
  const c = new MetadataCluster(t, [1, 2, 3])
  for (const id of [1, 2, 3]) await c.start(id, { directoryId: `dir-${id}-0` })
  await waitFor(() => (c.leader()?.controller.active() ?? null) !== null, 'an active controller')
  const leader = c.leader()!
  const recorded = () => leader.quorum.status().voters.map((v) => `${v.nodeId}@${v.directoryId}`)
  await waitFor(() => recorded().join() === '1@dir-1-0,2@dir-2-0,3@dir-3-0', 'the leader to record every voter\'s directory id')
  const wiped = [1, 2, 3].find((id) => id !== leader.node.nodeId)!
  await c.stop(wiped)
  const freshDir = mkdtempSync(join(tmpdir(), `bitacora-meta-wiped-${wiped}-`))
  t.teardown(() => rmSync(freshDir, { recursive: true, force: true }))
  await c.start(wiped, { dataDir: freshDir, directoryId: `dir-${wiped}-1` })
  await waitFor(() => leader.quorum.status().observers.some((o) => o.nodeId === wiped && o.lag === 0), `the wiped node ${wiped} to catch up as an observer`)
  t.same(recorded(), ['1@dir-1-0', '2@dir-2-0', '3@dir-3-0'], 'the voter set still names the old replica')
  t.match(leader.quorum.status().observers, [{ nodeId: wiped, directoryId: `dir-${wiped}-1` }], 'the new replica is an observer with its own directory id')
  t.equal(c.get(wiped).node.replica.status().voter, false, 'and knows it is not the voter')
  t.same(await leader.quorum.removeVoter(wiped), [1, 2, 3].filter((id) => id !== wiped))
  t.same(await leader.quorum.addVoter(wiped, url(wiped), 10_000), [1, 2, 3], 'added again')
  t.ok(recorded().includes(`${wiped}@dir-${wiped}-1`), 'under its new directory id')
  await waitFor(() => c.get(wiped).node.replica.status().voter, `node ${wiped} to see itself a voter`)
})
