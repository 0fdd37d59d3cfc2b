// The peer transport over real WebSockets between in-process brokers (real listeners, sessions
// and API tables): coalescing per turn, splitting at the peer's frame limit, a restarted peer
// reconnected, an unreachable peer costing a bounded queue, and messages to self, to unknown
// partitions and on close.
import { connect as tcpConnect, createServer, type AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import type { Message } from '../../../src/raft/types.js'
import { fetchMessage, freePort, recordsMessage, sameMessages, startPeerNode, TOPIC, waitFor, type PeerNode, type PeerNodeOptions } from './peer-node.js'

const CLUSTER = 'peer-test-cluster'

async function node(t: Test, o: Omit<PeerNodeOptions, 'clusterId'> & { clusterId?: string }): Promise<PeerNode> {
  const n = await startPeerNode({ clusterId: CLUSTER, ...o })
  t.teardown(() => n.stop())
  return n
}

/** Two nodes, 1 knowing 2's URL. */
async function pair(t: Test, b: Partial<PeerNodeOptions> = {}, a: Partial<PeerNodeOptions> = {}): Promise<[PeerNode, PeerNode]> {
  const nodeB = await node(t, { nodeId: 2, ...b })
  const nodeA = await node(t, { nodeId: 1, peers: new Map([[2, nodeB.url]]), ...a })
  return [nodeA, nodeB]
}

const linkTo = (n: PeerNode, node: number) => n.transport.stats().links.find((l) => l.node === node)!

t.test('1,000 messages queued in one turn leave in one WebSocket message, in order, intact', async (t) => {
  const [a, b] = await pair(t)
  const sent: Message[] = []
  const round = (first: number) => {
    for (let p = first; p < first + 1000; p++) {
      const m = fetchMessage(1, 2, p)
      sent.push(m)
      a.transport.send(2, TOPIC, p % 1000, m)
    }
  }
  round(0) // queued while the connection opens, then sent together
  await waitFor(() => b.delivered.length === 1000, 'the first 1,000 messages')
  t.equal(b.raftRequests(), 1, 'the first 1,000 (queued while connecting) arrived in one WebSocket message')
  round(1000)
  await waitFor(() => b.delivered.length === 2000, 'the second 1,000 messages')
  t.equal(b.raftRequests(), 2, 'the next 1,000 (sent in one turn on the open link) in one more')
  t.ok(sameMessages(b.delivered.map((d) => d.message), sent), 'every message arrived as sent, in order')
  t.ok(b.delivered.every((d, i) => d.topicId === TOPIC && d.partition === i % 1000), 'each tagged with its partition')
  t.match(linkTo(a, 2), { connects: 1, framesSent: 2000, messagesSent: 2, queued: 0 })
})

t.test('a turn larger than the peer frame limit is split under it; a frame over it alone is dropped and counted', async (t) => {
  const frameBytesMax = 64 * 1024
  const [a, b] = await pair(t, { limits: { frameBytesMax } })
  a.transport.send(2, TOPIC, 0, recordsMessage(1, 2, 0, 70_000)) // queued before the limit is known
  const sent: Message[] = []
  for (let i = 1; i <= 100; i++) {
    sent.push(recordsMessage(1, 2, i, 10_000))
    a.transport.send(2, TOPIC, i, sent.at(-1)!)
  }
  await waitFor(() => b.delivered.length === 100, '100 fetch responses')
  const first = b.raftRequests()
  // 100 frames of ~10,040 bytes: six to a 64 KiB message, so 17 messages.
  t.equal(first, 17, 'the fewest messages under 64 KiB (a larger one would have closed the link: 1009)')
  a.transport.send(2, TOPIC, 0, recordsMessage(1, 2, 101, 70_000)) // on the open link
  for (let i = 102; i <= 111; i++) {
    sent.push(recordsMessage(1, 2, i, 10_000))
    a.transport.send(2, TOPIC, i, sent.at(-1)!)
  }
  await waitFor(() => b.delivered.length === 110, '10 more')
  t.ok(sameMessages(b.delivered.map((d) => d.message), sent), 'records arrived byte for byte, in order')
  t.match(linkTo(a, 2), { connects: 1, dropped: { tooLarge: 2 } }, 'the two oversized frames were dropped, the link never closed')
  t.ok(a.logs.some((l) => l.msg === 'raft frames to a peer dropped' && l.fields.reason === 'tooLarge'), 'and the drop was logged')
})

t.test('a peer restarted on the same URL is reconnected and delivery resumes; its close is reported', async (t) => {
  const [a, b] = await pair(t, {}, { peerLimits: { reconnectBackoffMsMin: 50, reconnectBackoffMsMax: 400 } })
  let fetchId = 0
  const sender = setInterval(() => a.transport.send(2, TOPIC, 0, fetchMessage(1, 2, fetchId++)), 20)
  t.teardown(() => clearInterval(sender))
  await waitFor(() => b.delivered.length > 0, 'delivery to the first incarnation')
  await b.stop()
  await waitFor(() => a.peerClosed.length === 1, 'the close reported')
  t.equal(a.peerClosed[0].node, 2)
  t.match(a.peerClosed[0].reason, /closed|ECONNRESET|socket hang up/, `with a reason (${a.peerClosed[0].reason})`)
  await waitFor(() => linkTo(a, 2).failures >= 2, 'failed attempts while the peer is down')
  const again = await node(t, { nodeId: 2, port: b.port })
  await waitFor(() => again.delivered.length > 5, 'delivery to the restarted peer')
  t.match(linkTo(a, 2), { connects: 2, failures: 0, state: 'open' })
  t.equal(a.peerClosed.length, 1, 'failed attempts are not reported as closes, only the open connection that closed')
  t.ok(a.logs.some((l) => l.msg === 'peer connection closed') && a.logs.some((l) => l.msg === 'peer unreachable'), 'both were logged')
})

t.test('a peer down for a while loses frames but the queue stays within its limits; it is reached once up', async (t) => {
  const port = await freePort()
  const peerLimits = { queuedFramesMax: 500, queuedBytesMax: 40_000, reconnectBackoffMsMin: 50, reconnectBackoffMsMax: 200 }
  const a = await node(t, { nodeId: 1, peers: new Map([[2, `ws://127.0.0.1:${port}/`]]), peerLimits })
  let most = 0
  let fetchId = 0
  for (const started = Date.now(); Date.now() - started < 1500; ) {
    for (let i = 0; i < 200; i++) a.transport.send(2, TOPIC, i, fetchMessage(1, 2, fetchId++))
    most = Math.max(most, linkTo(a, 2).queued)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  const down = linkTo(a, 2)
  t.ok(most <= 500, `at most 500 frames queued (${most})`)
  t.ok(down.failures >= 3, `it kept trying, backing off (${down.failures} failed attempts)`)
  t.ok(down.dropped.queueFull > 0 && down.dropped.unreachable > 0, `frames were dropped: ${JSON.stringify(down.dropped)}`)
  t.equal(down.framesSent, 0)
  t.same(a.peerClosed, [], 'no open connection closed')
  const b = await node(t, { nodeId: 2, port })
  const sender = setInterval(() => a.transport.send(2, TOPIC, 0, fetchMessage(1, 2, fetchId++)), 20)
  t.teardown(() => clearInterval(sender))
  await waitFor(() => b.delivered.length > 0, 'delivery once the peer is up')
  t.equal(linkTo(a, 2).connects, 1)
})

t.test('a peer that is not the node meant, or not of this cluster, is never sent frames', async (t) => {
  const other = await node(t, { nodeId: 3 })
  const foreign = await node(t, { nodeId: 4, clusterId: 'another-cluster' })
  const peerLimits = { reconnectBackoffMsMin: 20, reconnectBackoffMsMax: 50 }
  const a = await node(t, { nodeId: 1, peers: new Map([[2, other.url], [4, foreign.url]]), peerLimits })
  for (let i = 0; i < 30; i++) {
    a.transport.send(2, TOPIC, 0, fetchMessage(1, 2, i))
    a.transport.send(4, TOPIC, 0, fetchMessage(1, 4, i))
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  await waitFor(() => linkTo(a, 2).failures >= 2 && linkTo(a, 4).failures >= 2, 'attempts refused')
  t.same([other.delivered.length, foreign.delivered.length], [0, 0], 'nothing delivered')
  const reasons = a.logs.filter((l) => l.msg === 'peer unreachable').map((l) => `${l.fields.node}: ${l.fields.reason}`)
  t.ok(reasons.some((r) => /^2: is broker 3, not node 2: check the peer URLs$/.test(r)), `the wrong node is named (${reasons})`)
  t.ok(reasons.some((r) => /^4: refused the peer handshake: INVALID_REQUEST: peer handshake refused: cluster id "peer-test-cluster" is not this broker's cluster "another-cluster"$/.test(r)), 'the wrong cluster is named')
  t.ok(foreign.logs.some((l) => l.msg === 'connection refused' && l.fields.kind === 'peer'), 'the foreign broker logged its refusal')
})

t.test('frames for a partition the receiver does not host are counted and dropped; the rest are delivered', async (t) => {
  const hosted = 'b2'.repeat(16)
  const [a, b] = await pair(t, { topics: new Set([hosted]) })
  a.transport.send(2, TOPIC, 0, fetchMessage(1, 2, 1))
  a.transport.send(2, hosted, 7, fetchMessage(1, 2, 2))
  await waitFor(() => b.transport.stats().received.unknownPartition === 1 && b.delivered.length === 1, 'both frames handled')
  t.match(b.delivered[0], { topicId: hosted, partition: 7 })
})

t.test('messages to self are delivered locally, a turn later; a node with no URL is counted', async (t) => {
  const a = await node(t, { nodeId: 1 })
  a.transport.send(1, TOPIC, 3, fetchMessage(1, 1, 9))
  t.equal(a.delivered.length, 0, 'never inside the sender’s call')
  await waitFor(() => a.delivered.length === 1, 'local delivery')
  t.match(a.delivered[0], { topicId: TOPIC, partition: 3, message: { fetchId: 9 } })
  a.transport.send(5, TOPIC, 3, fetchMessage(1, 5, 10))
  t.match(a.transport.stats(), { unknownNode: 1, deliveredLocally: 1 })
  t.throws(() => a.transport.send(2, TOPIC, 3, fetchMessage(1, 5, 10)), /from 1 to 5 sent as from 1 to 2/, 'a mismatched destination is a caller bug')
})

t.test('close sends what is queued first (a resigning leader’s EndQuorumEpoch), then drops', async (t) => {
  const [a, b] = await pair(t)
  a.transport.send(2, TOPIC, 0, fetchMessage(1, 2, 1))
  await waitFor(() => b.delivered.length === 1, 'the link open')
  a.transport.send(2, TOPIC, 0, { type: 'endQuorumEpoch', from: 1, to: 2, epoch: 3, preferredSuccessors: [2] })
  await a.transport.close()
  a.transport.send(2, TOPIC, 0, fetchMessage(1, 2, 2))
  await waitFor(() => b.delivered.length === 2, 'the EndQuorumEpoch')
  t.equal(b.delivered[1].message.type, 'endQuorumEpoch')
  t.same(a.peerClosed, [], 'closing is not reported as a lost peer')
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal(b.delivered.length, 2, 'nothing after close')
})

/** A loopback TCP relay to `port` that keeps every byte the connecting side sent. */
async function recordingRelay(t: Test, port: number): Promise<{ url: string; sent: () => Buffer }> {
  const chunks: Buffer[] = []
  const server = createServer((client) => {
    const upstream = tcpConnect(port, '127.0.0.1')
    client.on('data', (d) => chunks.push(d))
    client.pipe(upstream).pipe(client)
    client.on('error', () => upstream.destroy())
    upstream.on('error', () => client.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => server.close(resolve)))
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`, sent: () => Buffer.concat(chunks) }
}

/** The masking keys of the WebSocket frames in a client's byte stream (after its HTTP upgrade request). */
function maskKeys(stream: Buffer): Buffer[] {
  let at = stream.indexOf('\r\n\r\n') + 4
  const keys: Buffer[] = []
  while (at + 2 <= stream.length) {
    const masked = (stream[at + 1] & 0x80) !== 0
    let len = stream[at + 1] & 0x7f
    let header = 2
    if (len === 126) [len, header] = [stream.readUInt16BE(at + 2), 4]
    else if (len === 127) [len, header] = [Number(stream.readBigUInt64BE(at + 2)), 10]
    if (masked) keys.push(stream.subarray(at + header, at + header + 4))
    at += header + (masked ? 4 : 0) + len
  }
  return keys
}

t.test('peer messages go with an all-zero masking key (no copy, no XOR of replicated bytes) and arrive intact', async (t) => {
  const b = await node(t, { nodeId: 2 })
  const relay = await recordingRelay(t, b.port)
  const a = await node(t, { nodeId: 1, peers: new Map([[2, relay.url]]) })
  const sent = [recordsMessage(1, 2, 1, 100_000), fetchMessage(1, 2, 2)]
  for (const m of sent) a.transport.send(2, TOPIC, 0, m)
  await waitFor(() => b.delivered.length === 2, 'both messages')
  t.ok(sameMessages(b.delivered.map((d) => d.message), sent), 'records and fetch arrived as sent')
  const keys = maskKeys(relay.sent())
  t.ok(keys.length >= 2, `the handshake and the raft message were seen on the wire (${keys.length} frames)`)
  t.same(keys.map((k) => k.toString('hex')), keys.map(() => '00000000'), 'every frame is masked with the zero key')
})
