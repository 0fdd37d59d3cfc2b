// DescribeQuorum, AddVoter and RemoveVoter against real metadata quorums (MetadataQuorum on real
// replicas and files, test/broker/controller/metadata-cluster.ts): what each answers, and each
// refusal's code and message. Three clusters, each started once: voters 1-3 with node 4 an
// observer; one voter of three alone (no leader can be elected); a one-node quorum.
import t from 'tap'
import { register } from '../../../src/broker/controller/decisions/membership.js'
import type { ControllerQuorum } from '../../../src/broker/controller/node/quorum.js'
import { addVoter } from '../../../src/broker/api/add-voter.js'
import { describeQuorum } from '../../../src/broker/api/describe-quorum.js'
import { quorumRefusal } from '../../../src/broker/api/quorum-refusal.js'
import { removeVoter } from '../../../src/broker/api/remove-voter.js'
import { ADD_VOTER_TIMEOUT_MS_DEFAULT, ADD_VOTER_TIMEOUT_MS_MAX } from '../../../src/broker/limits.js'
import { ErrorCode } from '../../../src/protocol/index.js'
import { MetadataCluster, type Member } from '../controller/metadata-cluster.js'
import { waitFor } from '../controller/wait.js'

const url = (id: number) => `ws://127.0.0.1:${9000 + id}/` // the URLs MetadataCluster gives its nodes
const answer = (m: Member) => describeQuorum({ clusterId: 'c1', quorum: m.quorum, registeredBrokers: () => m.node.image.brokers })

/** The fields of a DescribeQuorum answer these tests are about (a replica may carry more: its directory id). */
function described(a: ReturnType<typeof answer>) {
  if (!('describeQuorum' in a)) return a
  const { clusterId, leaderId, leaderEpoch, highWatermark, voters, observers, brokers } = a.describeQuorum
  const replicas = (rs: typeof voters) => (rs ?? []).map(({ nodeId, url, logEndOffset, lastFetchMsAgo, lag }) => ({ nodeId, url, logEndOffset, lastFetchMsAgo, lag }))
  return { describeQuorum: { clusterId, leaderId, leaderEpoch, highWatermark, voters: replicas(voters), observers: replicas(observers), brokers } }
}

/** Settles to 'pending' unless `p` has settled by the end of this turn. */
const settled = (p: Promise<unknown>) => Promise.race([p.then(() => 'settled', () => 'settled'), new Promise((resolve) => setImmediate(() => resolve('pending')))])

const c = new MetadataCluster(t, [1, 2, 3])
for (const id of [1, 2, 3, 4]) await c.start(id)
await waitFor(() => (c.leader()?.controller.active() ?? null) !== null, 'an active controller')
const leader = c.leader()!
const L = leader.node.nodeId
const follower = c.get(L === 1 ? 2 : 1)
await c.registerBrokers([L])

t.test('DescribeQuorum on the leader: every replica\'s position, an observer behind by its lag, and the brokers with their fenced state', async (t) => {
  // Broker 4 registers but never heartbeats: it stays fenced. Cut off, it falls behind.
  await leader.controller.submit((s, ctx) => register(s, { brokerId: 4, incarnationId: 'a4'.repeat(16), url: url(4), rack: 'r4', directoryId: 'd4'.repeat(16) }, ctx), 5_000)
  await waitFor(() => leader.node.image.brokers.length === 2, 'the leader to replay broker 4\'s registration')
  // The leader's view of a replica is where its last fetch asked from: wait on that view.
  const seenAt = (ids: number[], end: number) => {
    const s = leader.quorum.status()
    return ids.every((id) => [...s.voters, ...s.observers].some((r) => r.nodeId === id && r.logEndOffset === end))
  }
  await waitFor(() => seenAt([4], leader.node.replica.status().logEnd), 'node 4 to catch up, in the leader\'s view')
  c.cut.add(4)
  const [created] = await leader.admin.createTopics({ topics: [{ name: 'behind', partitions: 1, replicationFactor: 0, configs: {} }], validateOnly: false }, 5_000)
  t.equal(created.error, null)
  const logEnd = leader.node.replica.status().logEnd
  await waitFor(() => seenAt([1, 2, 3], logEnd) && leader.node.replica.highWatermark === logEnd, 'the voters to catch up, in the leader\'s view')
  const behind = c.get(4).node.replica.status().logEnd
  t.ok(behind < logEnd, `node 4 is behind (${behind} < ${logEnd})`)

  const a = answer(leader)
  t.ok('describeQuorum' in a)
  if (!('describeQuorum' in a)) return
  const d = a.describeQuorum
  for (const r of [...d.voters!, ...d.observers!]) t.ok(r.lastFetchMsAgo! >= 0 && r.lastFetchMsAgo! < 5_000, `node ${r.nodeId} fetched ${r.lastFetchMsAgo} ms ago`)
  const at = (nodeId: number, end: number, lastFetchMsAgo: number | null | undefined) => ({ nodeId, url: url(nodeId), logEndOffset: end, lastFetchMsAgo, lag: logEnd - end })
  t.strictSame(described(a), { describeQuorum: {
    clusterId: 'c1', leaderId: L, leaderEpoch: leader.node.replica.status().epoch, highWatermark: logEnd,
    voters: [1, 2, 3].map((id) => at(id, logEnd, id === L ? 0 : d.voters![id - 1].lastFetchMsAgo)),
    observers: [at(4, behind, d.observers![0]?.lastFetchMsAgo)],
    brokers: [
      { id: L, url: url(L), rack: '', fenced: false },
      { id: 4, url: url(4), rack: 'r4', fenced: true },
    ],
  } })
})

t.test('DescribeQuorum on a follower: the leader, its own log end; the others\' positions unknown (-1)', async (t) => {
  const a = answer(follower)
  t.ok('describeQuorum' in a)
  if (!('describeQuorum' in a)) return
  const d = a.describeQuorum
  t.equal(d.leaderId, L)
  const self = follower.node.nodeId
  t.strictSame(d.voters!.map((v) => [v.nodeId, v.url, v.lag]), [1, 2, 3].map((id) => [id, url(id), -1]), 'lags known only to the leader')
  t.strictSame(d.voters!.find((v) => v.nodeId === self)!.logEndOffset, follower.node.replica.status().logEnd, 'its own log end it knows')
  t.ok(d.voters!.filter((v) => v.nodeId !== self).every((v) => v.logEndOffset === -1 && v.lastFetchMsAgo === -1), 'the others\' it does not')
})

t.test('a follower refuses changes with NOT_CONTROLLER naming the controller and its URL, once', async (t) => {
  const add = await addVoter(follower.quorum, { nodeId: 4, url: url(4) })
  const remove = await removeVoter(follower.quorum, { nodeId: 3 })
  const message = `node ${follower.node.nodeId} is not the active controller; the active controller is node ${L} at ${url(L)}`
  for (const a of [add, remove]) t.strictSame(a, { error: { code: ErrorCode.NOT_CONTROLLER, message } })
})

t.test('AddVoter refuses bad input itself, before asking the quorum', async (t) => {
  const cases: Array<[object, string]> = [
    [{ nodeId: -1, url: url(5) }, 'AddVoter: node id must be >= 0, got -1'],
    [{ nodeId: 5, url: '' }, "AddVoter: '' is not a URL; give the node's listener as ws://HOST:PORT/"],
    [{ nodeId: 5, url: '127.0.0.1:9005' }, "AddVoter: '127.0.0.1:9005' is not a URL; give the node's listener as ws://HOST:PORT/"],
    [{ nodeId: 5, url: 'localhost:9005' }, "AddVoter: 'localhost:9005' must be a ws:// or wss:// URL (the node's listener)"],
    [{ nodeId: 5, url: 'http://127.0.0.1:9005/' }, "AddVoter: 'http://127.0.0.1:9005/' must be a ws:// or wss:// URL (the node's listener)"],
    [{ nodeId: 5, url: 'ws://u:p@127.0.0.1:9005/' }, "AddVoter: 'ws://u:p@127.0.0.1:9005/' must be only ws://HOST:PORT/ (no credentials, query or fragment)"],
    [{ nodeId: 5, url: url(5), timeoutMs: ADD_VOTER_TIMEOUT_MS_MAX + 1 }, `AddVoter: timeout ${ADD_VOTER_TIMEOUT_MS_MAX + 1} ms is over the most a node may take to catch up, ${ADD_VOTER_TIMEOUT_MS_MAX} ms`],
  ]
  const asked = recording(leader.quorum)
  for (const [request, message] of cases) {
    t.strictSame(await addVoter(asked.quorum, request), { error: { code: ErrorCode.INVALID_REQUEST, message } }, JSON.stringify(request))
  }
  t.strictSame(asked.addVoterCalls, [], 'the quorum was not asked')
})

t.test('AddVoter of a node nobody runs: REQUEST_TIMED_OUT within its time, with the quorum\'s message; the voters unchanged', async (t) => {
  const started = Date.now()
  t.strictSame(await addVoter(leader.quorum, { nodeId: 5, url: url(5), timeoutMs: 30 }), {
    error: {
      code: ErrorCode.REQUEST_TIMED_OUT,
      message: `cannot add node 5 (${url(5)}) within 30 ms: node 5 has not fetched from this leader: is it running at ${url(5)}, started with --id 5 and this cluster's --controller-voters? It stays an observer; nothing was changed`,
    },
  })
  t.ok(Date.now() - started < 1_000, `answered in ${Date.now() - started} ms`)
  t.strictSame(leader.quorum.status().voters.map((v) => v.nodeId), [1, 2, 3])
})

t.test('AddVoter on the controller waits while the node catches up (the quorum committing meanwhile), then answers the new voter set', async (t) => {
  const asked = recording(leader.quorum)
  // Node 4 is still cut off (the first test): the change cannot be made until it catches up.
  const pending = addVoter(asked.quorum, { nodeId: 4, url: 'ws://127.0.0.1:9004' })
  const [created] = await leader.admin.createTopics({ topics: [{ name: 'meanwhile', partitions: 1, replicationFactor: 0, configs: {} }], validateOnly: false }, 5_000)
  t.equal(created.error, null, 'the quorum commits while node 4 is awaited')
  t.equal(await settled(pending), 'pending', 'not answered while node 4 is behind')
  c.cut.delete(4)
  t.strictSame(await pending, { addVoter: { voters: [1, 2, 3, 4] } })
  t.strictSame(asked.addVoterCalls, [{ nodeId: 4, url: url(4), timeoutMs: ADD_VOTER_TIMEOUT_MS_DEFAULT }], 'asked with the URL normalized, and the default time to catch up')
  const d = answer(leader)
  t.ok('describeQuorum' in d && d.describeQuorum.voters!.some((v) => v.nodeId === 4 && v.url === url(4)), 'node 4 is a voter at its URL')
  t.ok('describeQuorum' in d && d.describeQuorum.observers!.length === 0, 'and no longer an observer')
})

t.test('RemoveVoter of a live voter: the new voter set, and it follows as an observer; non-voters and bad ids refused', async (t) => {
  t.strictSame(await removeVoter(leader.quorum, { nodeId: 4 }), { removeVoter: { voters: [1, 2, 3] } })
  await waitFor(() => leader.quorum.status().observers.some((o) => o.nodeId === 4 && o.lag === 0), 'node 4 to fetch as an observer')
  t.strictSame(leader.quorum.status().voters.map((v) => v.nodeId), [1, 2, 3])
  t.strictSame(await removeVoter(leader.quorum, { nodeId: 9 }), { error: { code: ErrorCode.INVALID_REQUEST, message: 'cannot remove node 9: node 9 is not a voter (voters: 1, 2, 3)' } })
  t.strictSame(await removeVoter(leader.quorum, { nodeId: -2 }), { error: { code: ErrorCode.INVALID_REQUEST, message: 'RemoveVoter: node id must be >= 0, got -2' } })
})

t.test('with no leader elected: DescribeQuorum says -1 and no position; a change is NOT_CONTROLLER saying to retry', async (t) => {
  const alone = new MetadataCluster(t, [1, 2, 3]) // node 1 of three: it can never win an election alone
  const m = await alone.start(1)
  const a = answer(m)
  t.ok('describeQuorum' in a)
  if (!('describeQuorum' in a)) return
  t.equal(a.describeQuorum.leaderId, -1)
  t.strictSame(a.describeQuorum.voters!.map((v) => v.lag), [-1, -1, -1])
  t.strictSame(await removeVoter(m.quorum, { nodeId: 3 }), {
    error: { code: ErrorCode.NOT_CONTROLLER, message: 'node 1 is not the active controller; no active controller is known yet; retry shortly' },
  })
})

t.test('a one-node quorum: DescribeQuorum of its one voter; RemoveVoter of the last voter is INVALID_REQUEST naming why', async (t) => {
  const one = new MetadataCluster(t, undefined)
  const m = await one.start(0)
  await m.node.caughtUp()
  const { epoch, logEnd } = m.node.replica.status()
  t.ok(epoch >= 1 && logEnd >= 1, `epoch ${epoch}, log end ${logEnd}`)
  await waitFor(() => m.node.replica.highWatermark === logEnd, 'its log committed')
  t.strictSame(described(answer(m)), {
    describeQuorum: {
      clusterId: 'c1', leaderId: 0, leaderEpoch: epoch, highWatermark: logEnd,
      voters: [{ nodeId: 0, url: url(0), logEndOffset: logEnd, lastFetchMsAgo: 0, lag: 0 }], observers: [], brokers: [],
    },
  })
  t.strictSame(await removeVoter(m.quorum, { nodeId: 0 }), {
    error: { code: ErrorCode.INVALID_REQUEST, message: 'cannot remove node 0: node 0 is the last voter: a quorum cannot be left without one' },
  })
  t.strictSame(m.quorum.status().voters.map((v) => v.nodeId), [0])
})

t.test('a failure that is not a QuorumError is not dressed up: rethrown for the session to log (UNKNOWN_SERVER_ERROR)', async (t) => {
  const bug = new TypeError('bug')
  t.throws(() => quorumRefusal(bug), bug)
})

/** `quorum`, recording the calls of addVoter it is given (and making them). */
function recording(quorum: ControllerQuorum): { quorum: ControllerQuorum; addVoterCalls: Array<{ nodeId: number; url: string; timeoutMs: number }> } {
  const addVoterCalls: Array<{ nodeId: number; url: string; timeoutMs: number }> = []
  return {
    addVoterCalls,
    quorum: {
      status: () => quorum.status(),
      get controllerId() {
        return quorum.controllerId
      },
      addVoter: (nodeId, url, timeoutMs) => {
        addVoterCalls.push({ nodeId, url, timeoutMs })
        return quorum.addVoter(nodeId, url, timeoutMs)
      },
      removeVoter: (nodeId) => quorum.removeVoter(nodeId),
    },
  }
}
