// Who may send raft frames: only a connection whose handshake proved a broker of this cluster,
// without an Origin header. Clients, web pages and brokers of other clusters get an error that
// says why and lose the connection (1008); the refusal is logged. A proven peer's frames are
// checked one by one: a malformed or misaddressed one is dropped and counted, never delivered.
import t, { type Test } from 'tap'
import WebSocket from 'ws'
import { bitacora, decodeResponse, encodeRequest, ErrorCode, type RequestProps, type Response } from '../../../src/protocol/index.js'
import { admitPeer } from '../../../src/broker/net/peer-admission.js'
import { toRaftFrame } from '../../../src/broker/net/raft-wire.js'
import { fetchMessage, startPeerNode, TOPIC, waitFor, type PeerNode } from './peer-node.js'

const CLUSTER = 'admission-cluster'
const own = { clusterId: CLUSTER, nodeId: 2 }

t.test('the verdict on a peer handshake', async (t) => {
  t.same(admitPeer(own, { clusterId: CLUSTER, nodeId: 1 }, undefined), { admitted: true, nodeId: 1 })
  t.same(admitPeer(own, { clusterId: CLUSTER }, undefined), { admitted: true, nodeId: 0 }, 'node 0 is a node')
  t.match(admitPeer(own, { clusterId: CLUSTER, nodeId: 1 }, 'http://localhost:3000'), { admitted: false, code: ErrorCode.POLICY_VIOLATION, reason: /Origin header \(http:\/\/localhost:3000\) is a web page/ })
  t.match(admitPeer(own, { clusterId: 'other', nodeId: 1 }, undefined), { admitted: false, code: ErrorCode.INVALID_REQUEST, reason: /cluster id "other" is not this broker's cluster "admission-cluster"/ })
  t.match(admitPeer(own, { nodeId: 1 }, undefined), { admitted: false, reason: /cluster id "" is not/ })
  t.match(admitPeer(own, { clusterId: CLUSTER, nodeId: 2 }, undefined), { admitted: false, reason: /node 2 is this broker itself/ })
  t.match(admitPeer(own, { clusterId: CLUSTER, nodeId: -3 }, undefined), { admitted: false, reason: /node id -3 is not an int32 >= 0/ })
  t.match(admitPeer(undefined, { clusterId: CLUSTER, nodeId: 1 }, undefined), { admitted: false, reason: /not part of a cluster/ })
})

interface Raw {
  send(body: RequestProps): void
  /** Answers received so far. */
  answers: Response[]
  closed: Promise<{ code: number; reason: string }>
}

async function raw(url: string, origin?: string): Promise<Raw> {
  const ws = new WebSocket(url, origin !== undefined ? { origin } : {})
  const answers: Response[] = []
  ws.on('message', (data) => answers.push(decodeResponse(data as Buffer, 1 << 20)))
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })))
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  return { send: (body) => ws.send(encodeRequest(body)), answers, closed }
}

const clientHandshake = { correlationId: 1, handshake: { protocolVersion: 1, clientId: 'test' } }
const peerHandshake = (clusterId: string, nodeId: number) => ({ correlationId: 1, handshake: { protocolVersion: 1, clientId: 'broker', peer: { clusterId, nodeId } } })
const frame = (id: number) => toRaftFrame(TOPIC, 0, fetchMessage(1, 2, id))
const raftFrames = (frames: bitacora.RaftFrame.$Properties[], from = 1, to = 2) => ({ correlationId: 0, raft: { from, to, frames } })

async function receiver(t: Test): Promise<PeerNode> {
  const b = await startPeerNode({ nodeId: 2, clusterId: CLUSTER })
  t.teardown(() => b.stop())
  return b
}

/** The connection got one error of `code` matching `message`, then was closed with 1008. */
async function refused(t: Test, c: Raw, code: ErrorCode, message: RegExp, what: string): Promise<void> {
  const end = await c.closed
  t.equal(end.code, 1008, `${what}: closed as a policy violation`)
  const errors = c.answers.filter((a) => a.error != null)
  t.equal(errors.length, 1, `${what}: one error`)
  t.match(errors[0]?.error, { code, message }, `${what}: the error says why`)
}

t.test('a client connection cannot send raft frames', async (t) => {
  const b = await receiver(t)
  const c = await raw(b.url)
  c.send(clientHandshake)
  await waitFor(() => c.answers.length === 1, 'the handshake answer')
  t.ok(c.answers[0].handshake, 'a client is served as before')
  c.send(raftFrames([frame(1)]))
  await refused(t, c, ErrorCode.POLICY_VIOLATION, /raft frames are accepted only from a broker of this cluster/, 'client')
  const bare = await raw(b.url)
  bare.send(raftFrames([frame(2)]))
  await refused(t, bare, ErrorCode.POLICY_VIOLATION, /only from a broker of this cluster/, 'no handshake at all')
  t.equal(b.delivered.length, 0, 'nothing delivered')
  t.ok(b.logs.some((l) => l.msg === 'connection refused' && l.fields.kind === 'peer'), 'the refusal was logged')
})

t.test('a browser-like connection (Origin set) cannot become a peer, whatever it claims', async (t) => {
  const b = await receiver(t)
  const page = await raw(b.url, 'http://localhost:5173') // an origin the listener admits for pages
  page.send(peerHandshake(CLUSTER, 1))
  await refused(t, page, ErrorCode.POLICY_VIOLATION, /Origin header \(http:\/\/localhost:5173\) is a web page, never a broker/, 'page')
  const client = await raw(b.url, 'http://localhost:5173')
  client.send(clientHandshake)
  client.send(raftFrames([frame(1)]))
  await refused(t, client, ErrorCode.POLICY_VIOLATION, /only from a broker of this cluster/, 'page as a client')
  t.equal(b.delivered.length, 0)
})

t.test('a broker of another cluster is refused', async (t) => {
  const b = await receiver(t)
  const c = await raw(b.url)
  c.send(peerHandshake('another-cluster', 1))
  c.send(raftFrames([frame(1)]))
  await refused(t, c, ErrorCode.INVALID_REQUEST, /cluster id "another-cluster" is not this broker's cluster "admission-cluster"/, 'foreign')
  t.equal(b.delivered.length, 0)
})

t.test('a proven peer is heard frame by frame: malformed and misaddressed frames are dropped and counted', async (t) => {
  const b = await receiver(t)
  const c = await raw(b.url)
  c.send(peerHandshake(CLUSTER, 1))
  const noKind = { topicId: new Uint8Array(16), partition: 0, epoch: 1 }
  c.send(raftFrames([frame(1), noKind, frame(2)]))
  c.send(raftFrames([frame(3)], 5, 2)) // from a node the connection is not
  c.send(raftFrames([frame(4)], 1, 7)) // to a node this broker is not
  c.send(raftFrames([frame(5)]))
  await waitFor(() => b.delivered.length === 3, 'the good frames')
  t.same(b.delivered.map((d) => (d.message as { fetchId: number }).fetchId), [1, 2, 5])
  t.ok(b.delivered.every((d) => d.message.from === 1 && d.message.to === 2))
  t.match(b.transport.stats().received, { framesDelivered: 3, malformed: 1, misaddressed: 2 })
  t.equal(c.answers.filter((a) => a.error != null).length, 0, 'raft frames are never answered')
  t.ok(b.logs.some((l) => l.msg === 'malformed raft frame dropped' && /message is missing/.test(String(l.fields.error))))
})
