// Requests over the peer links, over real WebSockets between in-process brokers: answers matched
// by correlation id whatever their order, beside raft frames on the same connection; a bounded
// number in flight; and every way a request can go unanswered (timeout, a lost connection, a
// peer unreachable or backing off, the link closed, the peer moved) fails it with a typed error,
// never a hang.
import t, { type Test } from 'tap'
import type { ApiHandler } from '../../../src/broker/net/api-table.js'
import { PeerRequestError } from '../../../src/broker/net/peer-requests.js'
import { ErrorCode, errorName, type RequestApiName, type Response } from '../../../src/protocol/index.js'
import { fetchMessage, freePort, startPeerNode, TOPIC, waitFor, type PeerNode, type PeerNodeOptions } from './peer-node.js'

const CLUSTER = 'peer-request-cluster'

async function node(t: Test, o: Omit<PeerNodeOptions, 'clusterId'>): Promise<PeerNode> {
  const n = await startPeerNode({ clusterId: CLUSTER, ...o })
  t.teardown(() => n.stop())
  return n
}

/**
 * A peer whose `metadata` handler answers each request after the delay in ms its first topic
 * names, echoing that topic as the cluster id; a delay of 'hold' never answers until released.
 */
async function echoPeer(t: Test, o: Partial<PeerNodeOptions> = {}) {
  const seen: { correlationId: number; peer: number | null }[] = []
  const held: Array<() => void> = []
  const echo: ApiHandler = async (r, scope) => {
    seen.push({ correlationId: r.correlationId, peer: scope.peer })
    const tag = r.metadata!.topics![0]
    if (tag === 'hold') await new Promise<void>((resolve) => held.push(resolve))
    else await new Promise((resolve) => setTimeout(resolve, Number(tag.split('/')[0])))
    return { metadata: { clusterId: tag } }
  }
  const handlers = new Map<RequestApiName, ApiHandler>([['metadata', echo]])
  const peer = await node(t, { nodeId: 2, handlers, ...o })
  return { peer, seen, releaseHeld: () => held.splice(0).forEach((release) => release()) }
}

const ask = (n: PeerNode, tag: string, timeoutMs = 5_000) => n.transport.request(2, 'metadata', { topics: [tag] }, timeoutMs)
const linkTo = (n: PeerNode, node: number) => n.transport.stats().links.find((l) => l.node === node)!

/** The PeerRequestError a promise rejects with (failing the test if it resolves). */
async function failure(t: Test, p: Promise<unknown>): Promise<PeerRequestError> {
  try {
    await p
  } catch (err) {
    if (err instanceof PeerRequestError) return err
    throw err
  }
  t.fail('the request was answered')
  throw new Error('answered')
}

t.test('answers are matched to their requests by correlation id, whatever order they come in; ids start at 2', async (t) => {
  const { peer, seen } = await echoPeer(t)
  const a = await node(t, { nodeId: 1, peers: new Map([[2, peer.url]]) })
  // Longer delays first, so the answers come back in about the reverse order.
  const tags = Array.from({ length: 60 }, (_, i) => `${(60 - i) * 5}/${i}`)
  const answers = await Promise.all(tags.map((tag) => ask(a, tag)))
  t.same(answers.map((r) => r.metadata?.clusterId), tags, 'each request got its own answer')
  t.same(seen.map((s) => s.correlationId), Array.from({ length: 60 }, (_, i) => i + 2), 'correlation ids 2, 3, … (the handshake has 1)')
  t.ok(seen.every((s) => s.peer === 1), 'the peer saw node 1, as its handshake proved')
  t.match(linkTo(a, 2), { connects: 1, requestsSent: 60, requestsAnswered: 60, requestsFailed: 0, requestsWaiting: 0 })
})

t.test('requests and raft frames share the one connection', async (t) => {
  const { peer } = await echoPeer(t)
  const a = await node(t, { nodeId: 1, peers: new Map([[2, peer.url]]) })
  const answers: Promise<Response>[] = []
  for (let i = 0; i < 20; i++) {
    a.transport.send(2, TOPIC, i, fetchMessage(1, 2, i))
    answers.push(ask(a, `1/${i}`))
  }
  t.equal((await Promise.all(answers)).length, 20)
  await waitFor(() => peer.delivered.length === 20, 'the raft frames')
  t.match(linkTo(a, 2), { connects: 1, framesSent: 20, requestsAnswered: 20 })
})

t.test('an answer carrying an error resolves (the caller reads it); an API the peer does not serve is one', async (t) => {
  const peer = await node(t, { nodeId: 2 })
  const a = await node(t, { nodeId: 1, peers: new Map([[2, peer.url]]) })
  // Node 2 runs no membership service, so it serves no BrokerHeartbeat.
  const answer = await a.transport.request(2, 'brokerHeartbeat', {}, 5_000)
  t.equal(errorName(answer.error?.code ?? ErrorCode.NONE), 'INVALID_REQUEST')
  t.match(answer.error?.message, /does not serve the brokerHeartbeat API/)
})

t.test('a request not answered in time fails PEER_REQUEST_TIMED_OUT; its late answer is counted and dropped', async (t) => {
  const { peer, releaseHeld } = await echoPeer(t)
  const a = await node(t, { nodeId: 1, peers: new Map([[2, peer.url]]) })
  await ask(a, '1/warm-up')
  const started = Date.now()
  const err = await failure(t, ask(a, 'hold', 300))
  const tookMs = Date.now() - started
  t.match(err, { code: 'PEER_REQUEST_TIMED_OUT', retriable: true, node: 2 })
  t.ok(tookMs >= 290 && tookMs < 3_000, `after its timeout (${tookMs} ms)`)
  releaseHeld()
  await waitFor(() => linkTo(a, 2).lateAnswers === 1, 'the late answer')
  t.equal((await ask(a, '1/after')).metadata?.clusterId, '1/after', 'the link goes on')
  t.match(linkTo(a, 2), { connects: 1, requestsFailed: 1, requestsWaiting: 0 })
  t.throws(() => ask(a, '1/bad', 0), RangeError, 'a timeout below 1 ms is a caller bug')
})

t.test('at most requestsInFlightMax wait at once; past that a request is refused at once', async (t) => {
  const { peer, releaseHeld } = await echoPeer(t)
  const a = await node(t, { nodeId: 1, peers: new Map([[2, peer.url]]), peerLimits: { requestsInFlightMax: 4 } })
  const held = Array.from({ length: 4 }, () => ask(a, 'hold'))
  const err = await failure(t, ask(a, '1/fifth'))
  t.match(err, { code: 'PEER_REQUESTS_FULL', retriable: true })
  t.match(err.message, /4 requests to node 2 are waiting/)
  await waitFor(() => linkTo(a, 2).requestsSent === 4, 'the four on the wire')
  releaseHeld()
  t.equal((await Promise.all(held)).length, 4)
  t.equal((await ask(a, '1/then')).metadata?.clusterId, '1/then', 'room again once answered')
})

t.test('requests waiting when the connection closes fail PEER_CONNECTION_LOST; the link reconnects for the next', async (t) => {
  const port = await freePort()
  const { peer } = await echoPeer(t, { port })
  const a = await node(t, { nodeId: 1, peers: new Map([[2, peer.url]]), peerLimits: { reconnectBackoffMsMin: 20, reconnectBackoffMsMax: 50 } })
  const waiting = [failure(t, ask(a, 'hold')), failure(t, ask(a, 'hold'))]
  await waitFor(() => linkTo(a, 2).requestsSent === 2, 'both sent')
  await peer.stop()
  for (const p of waiting) {
    const err = await p
    t.match(err, { code: 'PEER_CONNECTION_LOST', retriable: true })
    t.match(err.message, /may or may not have been carried out/)
  }
  const again = await echoPeer(t, { port })
  await waitFor(() => linkTo(a, 2).state !== 'backoff', 'the back-off over')
  t.equal((await ask(a, '1/again')).metadata?.clusterId, '1/again', 'answered by the restarted peer')
  t.equal(again.seen.length, 1)
})

t.test('a peer that is down: the request fails PEER_UNREACHABLE, and at once while the link backs off', async (t) => {
  const port = await freePort()
  const a = await node(t, { nodeId: 1, peers: new Map([[2, `ws://127.0.0.1:${port}/`]]), peerLimits: { reconnectBackoffMsMin: 5_000, reconnectBackoffMsMax: 5_000 } })
  const first = await failure(t, ask(a, '1/x'))
  t.match(first, { code: 'PEER_UNREACHABLE', retriable: true })
  t.match(first.message, /ECONNREFUSED|closed/)
  t.equal(linkTo(a, 2).state, 'backoff')
  const started = Date.now()
  const second = await failure(t, ask(a, '1/y'))
  t.match(second, { code: 'PEER_UNREACHABLE' })
  t.ok(Date.now() - started < 1_000, 'at once, not after the back-off')
  t.match(linkTo(a, 2), { requestsSent: 0, requestsFailed: 2, requestsWaiting: 0 })
})

t.test('a request larger than the peer’s frame limit fails PEER_REQUEST_TOO_LARGE; the link stays up', async (t) => {
  const { peer } = await echoPeer(t, { limits: { frameBytesMax: 64 * 1024 } })
  const a = await node(t, { nodeId: 1, peers: new Map([[2, peer.url]]) })
  await ask(a, '1/open')
  const err = await failure(t, a.transport.request(2, 'metadata', { topics: ['1', 'x'.repeat(70_000)] }, 5_000))
  t.match(err, { code: 'PEER_REQUEST_TOO_LARGE', retriable: false })
  t.equal((await ask(a, '1/still')).metadata?.clusterId, '1/still')
  t.equal(linkTo(a, 2).connects, 1)
})

t.test('closing the transport fails waiting requests PEER_LINK_CLOSED, and later ones at once', async (t) => {
  const { peer } = await echoPeer(t)
  const a = await node(t, { nodeId: 1, peers: new Map([[2, peer.url]]) })
  const waiting = failure(t, ask(a, 'hold'))
  await waitFor(() => linkTo(a, 2).requestsSent === 1, 'sent')
  await a.transport.close()
  t.match(await waiting, { code: 'PEER_LINK_CLOSED', retriable: false })
  t.match(await failure(t, ask(a, '1/late')), { code: 'PEER_LINK_CLOSED' })
})

t.test('a peer that moved: waiting requests fail as lost (retriable), the next goes to its new URL', async (t) => {
  const { peer: old } = await echoPeer(t)
  const a = await node(t, { nodeId: 1, peers: new Map([[2, old.url]]) })
  const waiting = failure(t, ask(a, 'hold'))
  await waitFor(() => linkTo(a, 2).requestsSent === 1, 'sent')
  const moved = await echoPeer(t)
  a.transport.setPeers(new Map([[2, moved.peer.url]]))
  const err = await waiting
  t.match(err, { code: 'PEER_CONNECTION_LOST', retriable: true })
  t.match(err.message, /moved to/)
  t.equal((await ask(a, '1/new')).metadata?.clusterId, '1/new')
  t.equal(moved.seen.length, 1, 'answered at the new URL')
})

t.test('a node with no URL fails PEER_UNKNOWN_NODE; a request to this node itself is a caller bug', async (t) => {
  const a = await node(t, { nodeId: 1 })
  t.match(await failure(t, a.transport.request(7, 'metadata', {}, 1_000)), { code: 'PEER_UNKNOWN_NODE', retriable: true, node: 7 })
  t.throws(() => a.transport.request(1, 'metadata', {}, 1_000), /to this node itself/)
})
