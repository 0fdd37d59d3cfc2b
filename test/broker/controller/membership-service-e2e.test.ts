// Broker membership end to end, over real WebSockets between in-process brokers (real listeners,
// sessions, API tables and peer transports): each node runs a membership service over a shared
// in-memory metadata quorum (membership-service-log.ts, standing in for __cluster_metadata), a
// controller channel to whichever node the quorum names, and a broker lifecycle. Leases are
// shortened, never below what 2 shared cores hold: heartbeats every 500 ms, leases of 3 s.
import t, { type Test } from 'tap'
import WebSocket from 'ws'
import { BrokerLifecycle } from '../../../src/broker/controller/node/lifecycle.js'
import { MembershipService } from '../../../src/broker/controller/active/membership-service.js'
import { ControllerChannel, localController } from '../../../src/broker/net/controller-channel.js'
import { ReadBufferPool } from '../../../src/broker/partition/read-buffers.js'
import { uuidBytes } from '../../../src/metadata/uuid.js'
import { decodeResponse, encodeRequest, errorName, PROTOCOL_VERSION, type RequestProps, type Response } from '../../../src/protocol/index.js'
import { startPeerNode, waitFor, type PeerNode } from '../net/peer-node.js'
import { MEMBERSHIP_TEST_CONFIG, MemoryMetadataQuorum } from './membership-service-log.js'

const CLUSTER = 'membership-cluster'
const LEASE_MS = MEMBERSHIP_TEST_CONFIG.leaseMs
const HEARTBEAT_MS = 500

interface ClusterNode {
  readonly id: number
  readonly node: PeerNode
  readonly lifecycle: BrokerLifecycle
  readonly channel: ControllerChannel
  /** What onFencedChange told, with when. */
  readonly fencedChanges: Array<{ fenced: boolean; reason: string; atMs: number }>
  /** Set by a test: this node's channel knows no controller, so its requests time out (the quorum's leader otherwise). */
  cutOff: boolean
  stop(): Promise<void>
}

async function clusterNode(t: Test, quorum: MemoryMetadataQuorum, id: number): Promise<ClusterNode> {
  const service = new MembershipService({ controller: quorum.view(id), log: { info() {}, warn() {}, error() {} } })
  const node = await startPeerNode({ nodeId: id, clusterId: CLUSTER, membership: service })
  const c = { cutOff: false }
  const channel = new ControllerChannel({
    self: id, controllerId: () => (c.cutOff ? null : quorum.leader), peers: node.transport, local: localController(node.apis, id, new ReadBufferPool()), log: node.log,
  })
  const lifecycle = new BrokerLifecycle({
    identity: { brokerId: id, url: node.url, rack: '', directoryId: (0xd00 + id).toString(16).padStart(32, '0') },
    controller: channel, metadataOffset: () => quorum.highWatermark, log: node.log,
    heartbeatIntervalMs: HEARTBEAT_MS, leaseMs: LEASE_MS, requestTimeoutMs: 1_500,
  })
  const fencedChanges: ClusterNode['fencedChanges'] = []
  lifecycle.onFencedChange((fenced, reason) => fencedChanges.push({ fenced, reason, atMs: Date.now() }))
  let stopped = false
  const stop = async () => {
    if (stopped) return
    stopped = true
    lifecycle.stop()
    channel.close()
    service.close()
    await node.stop()
  }
  t.teardown(stop)
  return Object.assign(c, { id, node, lifecycle, channel, fencedChanges, stop })
}

/** Nodes 1..n, each knowing the others' URLs; node 1 the active controller. Their lifecycles start. */
async function cluster(t: Test, n = 3): Promise<{ quorum: MemoryMetadataQuorum; nodes: ClusterNode[] }> {
  const quorum = new MemoryMetadataQuorum()
  quorum.elect(1)
  const nodes: ClusterNode[] = []
  for (let id = 1; id <= n; id++) nodes.push(await clusterNode(t, quorum, id))
  const urls = new Map(nodes.map((c) => [c.id, c.node.url]))
  for (const c of nodes) c.node.transport.setPeers(urls)
  for (const c of nodes) c.lifecycle.start()
  return { quorum, nodes }
}

const unfenced = (quorum: MemoryMetadataQuorum, ids: readonly number[]) => ids.every((id) => quorum.committed.broker(id)?.fenced === false)

t.test('brokers register, are unfenced once caught up, and stay so while they heartbeat', async (t) => {
  const { quorum, nodes } = await cluster(t)
  await waitFor(() => unfenced(quorum, [1, 2, 3]) && nodes.every((c) => !c.lifecycle.fenced), 'every broker unfenced, in the image and in its own view')
  for (const c of nodes) {
    t.match(quorum.committed.broker(c.id), { url: c.node.url, incarnationId: c.lifecycle.incarnationId, fenced: false })
    t.match(c.fencedChanges, [{ fenced: false, reason: 'the controller says unfenced' }], `broker ${c.id} was told once`)
  }
  const heartbeats = () => nodes.reduce((n, c) => n + (c.node.transport.stats().links.find((l) => l.node === 1)?.requestsAnswered ?? 0), 0)
  const before = heartbeats()
  await new Promise((resolve) => setTimeout(resolve, 2 * LEASE_MS))
  t.ok(unfenced(quorum, [1, 2, 3]), 'no one fenced over two leases')
  t.same(quorum.committedOf('fenceBroker'), [])
  t.ok(heartbeats() - before >= 12, `brokers 2 and 3 heartbeat node 1 over its peer links (${heartbeats() - before} answered)`)
  t.ok(nodes.every((c) => c.fencedChanges.length === 1), 'and no one fenced itself')
})

t.test('a broker cut off from the controller fences itself when its lease runs out, and is fenced by the controller; back, it is unfenced', async (t) => {
  const { quorum, nodes } = await cluster(t)
  const three = nodes[2]
  await waitFor(() => unfenced(quorum, [1, 2, 3]), 'every broker unfenced')
  three.cutOff = true // its heartbeats find no controller and time out
  const cutAt = Date.now()
  await waitFor(() => three.lifecycle.fenced && quorum.committed.broker(3)?.fenced === true, 'broker 3 fenced, by itself and by the controller', LEASE_MS + 5_000)
  const own = three.fencedChanges.at(-1)!
  t.match(own.reason, /no answer from the controller for 3000 ms \(its own lease ran out\)/)
  t.ok(own.atMs - cutAt <= LEASE_MS + 200, `it fenced itself within a lease of the cut (${own.atMs - cutAt} ms), no later than the controller`)
  t.ok(unfenced(quorum, [1, 2]), 'the others stay unfenced')
  three.cutOff = false
  await waitFor(() => !three.lifecycle.fenced && quorum.committed.broker(3)?.fenced === false, 'broker 3 unfenced again')
  t.equal(quorum.committed.broker(3)?.incarnationId, three.lifecycle.incarnationId, 'the same process, never re-registered')
})

t.test('the controller dies: the next one takes the heartbeats, fences no live broker, and fences the dead one a lease later', async (t) => {
  const { quorum, nodes } = await cluster(t)
  await waitFor(() => unfenced(quorum, [1, 2, 3]), 'every broker unfenced')
  await nodes[0].stop()
  await new Promise((resolve) => setTimeout(resolve, 1_000)) // an election takes a while
  quorum.elect(2)
  const electedAt = Date.now()
  await waitFor(() => quorum.committed.broker(1)?.fenced === true, 'broker 1 fenced', LEASE_MS + 5_000)
  t.ok(Date.now() - electedAt >= LEASE_MS - 50, `a full lease after the election (${Date.now() - electedAt} ms)`)
  t.ok(unfenced(quorum, [2, 3]), 'brokers 2 and 3 stayed unfenced: their heartbeats reached node 2 (node 2 its own, locally)')
  t.ok(nodes.slice(1).every((c) => c.fencedChanges.length === 1 && !c.lifecycle.fenced), 'neither fenced itself')
})

t.test('a second live process under a broker id is refused and stays fenced; the first is undisturbed', async (t) => {
  const { quorum, nodes } = await cluster(t, 2)
  await waitFor(() => unfenced(quorum, [1, 2]), 'both unfenced')
  const lines: string[] = []
  const impostor = new BrokerLifecycle({
    identity: { brokerId: 2, url: 'ws://127.0.0.1:1/', rack: '', directoryId: 'ee'.repeat(16) },
    controller: nodes[1].channel, metadataOffset: () => quorum.highWatermark,
    log: { info() {}, warn() {}, error: (msg, fields) => void lines.push(`${msg}: ${String(fields?.code)}: ${String(fields?.error)}`) },
    heartbeatIntervalMs: HEARTBEAT_MS, leaseMs: LEASE_MS,
  })
  t.teardown(() => impostor.stop())
  impostor.start()
  await waitFor(() => lines.length > 0, 'the refusal logged')
  t.match(lines[0], /^the controller refused this broker; trying again: DUPLICATE_BROKER_REGISTRATION: broker 2 is registered by a live process/)
  t.ok(impostor.fenced, 'the second process stays fenced')
  t.match(quorum.committed.broker(2), { incarnationId: nodes[1].lifecycle.incarnationId, fenced: false }, 'the first keeps its registration')
})

/** A raw connection's answer to one request after `handshake` (a peer handshake when `peer` is set). */
async function askRaw(url: string, request: RequestProps, peer?: { clusterId: string; nodeId: number }): Promise<Response> {
  const ws = new WebSocket(url)
  const answers: Response[] = []
  ws.on('message', (data) => answers.push(decodeResponse(data as Buffer, 1 << 20)))
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
  ws.send(encodeRequest({ correlationId: 1, handshake: { protocolVersion: PROTOCOL_VERSION, clientId: 'test', peer } }))
  ws.send(encodeRequest({ correlationId: 2, ...request }))
  await waitFor(() => answers.some((a) => a.correlationId === 2), 'the answer')
  ws.close()
  return answers.find((a) => a.correlationId === 2)!
}

t.test('registrations and heartbeats are refused from clients, for another node, and with malformed ids', async (t) => {
  const { quorum, nodes } = await cluster(t, 1)
  await waitFor(() => unfenced(quorum, [1]), 'node 1 unfenced')
  const registration = { brokerId: 7, incarnationId: uuidBytes('ab'.repeat(16)), url: 'ws://127.0.0.1:9/', directoryId: uuidBytes('cd'.repeat(16)) }
  const refusal = (r: Response) => `${errorName(r.error?.code ?? 0)}: ${r.error?.message}`
  t.match(refusal(await askRaw(nodes[0].node.url, { brokerRegistration: registration })), /^POLICY_VIOLATION: only a broker of this cluster may register/)
  t.match(refusal(await askRaw(nodes[0].node.url, { brokerHeartbeat: { brokerId: 7 } })), /^POLICY_VIOLATION: only a broker of this cluster may heartbeat/)
  const peer = { clusterId: CLUSTER, nodeId: 8 }
  t.match(refusal(await askRaw(nodes[0].node.url, { brokerRegistration: registration }, peer)), /^INVALID_REQUEST: node 8 may register only itself, not broker 7$/)
  const short = { ...registration, brokerId: 8, incarnationId: new Uint8Array(3) }
  t.match(refusal(await askRaw(nodes[0].node.url, { brokerRegistration: short }, peer)), /^INVALID_REQUEST: incarnation_id must be a 16-byte UUID, got 3 bytes$/)
  t.match(refusal(await askRaw(nodes[0].node.url, { brokerHeartbeat: { brokerId: 8, incarnationId: uuidBytes('ab'.repeat(16)) } }, peer)), /^BROKER_ID_NOT_REGISTERED: broker 8/)
  t.equal(quorum.committed.broker(7), undefined, 'nothing registered')
})
