// The client's quorum calls against real nodes (listener, sessions, API table, real WebSockets)
// whose quorum is the stand-in until the real one runs in a broker: the describe answer comes
// from the leader, voter changes follow NOT_CONTROLLER to the controller once, and what is
// retried, what is not, and within which bound.
import t, { type Test } from 'tap'
import { createClient, type Client } from '../../src/client/node.js'
import { BitacoraError, ClientError } from '../../src/client/errors.js'
import { QuorumStandIn } from '../broker/api/quorum-stand-in.js'
import { listenNode, type QuorumNode } from './quorum-node.js'

/** Nodes 1..n serving stand-ins that agree on voters 1..n and on `leaderId`. */
async function cluster(t: Test, n: number, leaderId: number | null) {
  const nodes: QuorumNode[] = []
  for (let id = 1; id <= n; id++) {
    const node = await listenNode(id)
    t.teardown(() => node.stop())
    nodes.push(node)
  }
  const voters = new Map(nodes.map((node, i) => [i + 1, node.url]))
  const quorums = nodes.map((_, i) => new QuorumStandIn({ nodeId: i + 1, voters, leaderId, leaderEpoch: 4, highWatermark: 100 }))
  for (const [i, node] of nodes.entries()) await node.serve(quorums[i])
  return { nodes, quorums }
}

function client(t: Test, url: string, options: { apiTimeoutMs?: number; requestTimeoutMs?: number } = {}): Client {
  const c = createClient({ brokers: [url], clientId: 'quorum-test', retry: { initialMs: 20, maxMs: 100 }, ...options })
  t.teardown(() => c.close())
  return c
}

t.test('describeQuorum asked of a follower answers with the leader\'s view (every lag known)', async (t) => {
  const { nodes } = await cluster(t, 3, 2)
  const d = await client(t, nodes[0].url).admin().describeQuorum()
  t.equal(d.answeredBy, 2)
  t.equal(d.clusterId, 'quorum-test')
  t.equal(d.leaderId, 2)
  t.equal(d.leaderEpoch, 4)
  t.equal(d.highWatermark, 100)
  t.strictSame(d.voters.map((v) => [v.nodeId, v.url, v.logEndOffset, v.lag]), nodes.map((n, i) => [i + 1, n.url, 100, 0]))
  t.strictSame(d.observers, [])
  t.strictSame(d.brokers, [], 'no broker registered in the image yet')
})

t.test('describeQuorum with the leader out of reach answers with the asked node\'s view', async (t) => {
  const { nodes } = await cluster(t, 3, 2)
  await nodes[1].stop()
  const d = await client(t, nodes[0].url, { apiTimeoutMs: 10_000 }).admin().describeQuorum()
  t.equal(d.answeredBy, 1)
  t.equal(d.leaderId, 2)
  t.strictSame(d.voters.map((v) => v.lag), [-1, -1, -1], 'positions unknown outside the leader')
})

t.test('addVoter asked of a follower follows NOT_CONTROLLER to the controller', async (t) => {
  const { nodes, quorums } = await cluster(t, 3, 3)
  quorums[2].observe(4, 'ws://127.0.0.1:9/', 0)
  const voters = await client(t, nodes[0].url).admin().addVoter(4, 'ws://127.0.0.1:9/', { timeoutMs: 5_000 })
  t.strictSame(voters, [1, 2, 3, 4])
  t.strictSame(quorums[2].addVoterCalls, [{ nodeId: 4, url: 'ws://127.0.0.1:9/', timeoutMs: 5_000 }], 'made at the controller, with the catch-up time')
  t.strictSame([...quorums[0].voters.keys()], [1, 2, 3], 'not at the node first asked')
})

t.test('removeVoter follows NOT_CONTROLLER too; the controller\'s refusal is final and not retried', async (t) => {
  const { nodes, quorums } = await cluster(t, 2, 2)
  const admin = client(t, nodes[0].url).admin()
  t.strictSame(await admin.removeVoter(1), [2])
  let calls = 0
  const remove = quorums[1].removeVoter.bind(quorums[1])
  quorums[1].removeVoter = (id) => (calls++, remove(id))
  const err = await admin.removeVoter(2).catch((e: unknown) => e)
  t.type(err, BitacoraError)
  t.match((err as BitacoraError).code, 'INVALID_REQUEST')
  t.match((err as Error).message, 'node 2 is the last voter')
  t.equal(calls, 1, 'asked once')
})

t.test('a node that does not catch up: the controller\'s REQUEST_TIMED_OUT comes back at once, not retried', async (t) => {
  const { nodes, quorums } = await cluster(t, 1, 1)
  const err = await client(t, nodes[0].url).admin().addVoter(5, 'ws://127.0.0.1:9/', { timeoutMs: 50 }).catch((e: unknown) => e)
  t.type(err, BitacoraError)
  t.equal((err as BitacoraError).code, 'REQUEST_TIMED_OUT')
  t.match((err as Error).message, 'node 5 did not catch up within 50 ms')
  t.equal(quorums[0].addVoterCalls.length, 1, 'asked once')
})

t.test('with no controller elected, a change is retried with back-off until one is', async (t) => {
  const { nodes, quorums } = await cluster(t, 3, null)
  const admin = client(t, nodes[0].url, { apiTimeoutMs: 10_000 }).admin()
  const removed = admin.removeVoter(3)
  // Node 2 wins an election while the client backs off.
  setTimeout(() => quorums.forEach((q) => (q.leaderId = 2)), 200)
  t.strictSame(await removed, [1, 2])
  t.strictSame([...quorums[1].voters.keys()], [1, 2])
})

t.test('with no controller for the whole bound, NOT_CONTROLLER ends the call at apiTimeoutMs', async (t) => {
  const { nodes } = await cluster(t, 3, null)
  const started = Date.now()
  const err = await client(t, nodes[0].url, { apiTimeoutMs: 500 }).admin().removeVoter(3).catch((e: unknown) => e)
  t.type(err, BitacoraError)
  t.equal((err as BitacoraError).code, 'NOT_CONTROLLER')
  t.match((err as Error).message, 'no controller is elected right now')
  t.ok(Date.now() - started < 5_000, `bounded (${Date.now() - started} ms)`)
})

t.test('bad arguments are INVALID_ARGUMENT before any request', async (t) => {
  const admin = client(t, 'ws://127.0.0.1:9/').admin()
  const cases: Array<[() => Promise<unknown>, RegExp]> = [
    [() => admin.addVoter(-1, 'ws://127.0.0.1:9/'), /node id must be an integer from 0/],
    [() => admin.addVoter(1.5, 'ws://127.0.0.1:9/'), /not 1.5/],
    [() => admin.addVoter(4, 'http://127.0.0.1:9/'), /url must be the node's ws:\/\/ or wss:\/\/ URL/],
    [() => admin.addVoter(4, 'ws://127.0.0.1:9/', { timeoutMs: 0 }), /option timeoutMs must be an integer from 1/],
    [() => admin.removeVoter(Number.NaN), /node id must be an integer/],
  ]
  for (const [call, message] of cases) {
    const err = await call().catch((e: unknown) => e)
    t.type(err, ClientError)
    t.equal((err as ClientError).code, 'INVALID_ARGUMENT')
    t.match((err as Error).message, message)
  }
})
