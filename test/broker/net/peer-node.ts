// A broker's network side, in-process and real: the listener, the API table and sessions built
// as broker.ts builds them, plus a PeerTransport wired as a clustered broker will wire it (its
// receiver behind the `raft` API, peers admitted by cluster id). The router records what
// arrives instead of driving replicas, and the `raft` handler counts the requests it gets: one
// per WebSocket message, so a test can see how frames were coalesced. A test may add or replace
// API handlers (`handlers`) to answer peer requests as it needs.
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import { loadCodec } from '../../../src/codec/index.js'
import { ActiveController } from '../../../src/broker/controller/active/active-controller.js'
import { ClusterView } from '../../../src/broker/controller/node/cluster-view.js'
import { MetadataNode } from '../../../src/broker/controller/node/metadata-node.js'
import { MetadataQuorum } from '../../../src/broker/controller/node/metadata-quorum.js'
import { NodeDirectory } from '../../../src/broker/controller/node/node-directory.js'
import { TopicAdmin } from '../../../src/broker/controller/active/topic-admin.js'
import { DEFAULT_LIMITS, type BrokerLimits, type PeerLimits } from '../../../src/broker/limits.js'
import type { Logger } from '../../../src/broker/log.js'
import type { Membership } from '../../../src/broker/api/broker-registration.js'
import { apiTable, type ApiHandler, type ApiTable } from '../../../src/broker/net/api-table.js'
import { listen } from '../../../src/broker/net/listener.js'
import { PeerTransport } from '../../../src/broker/net/peer-transport.js'
import type { PartitionMessage } from '../../../src/broker/net/raft-wire.js'
import { ReadBufferPool } from '../../../src/broker/partition/read-buffers.js'
import { InSyncReplicas } from '../../../src/broker/partition/isr.js'
import { ReplicaManager } from '../../../src/broker/partition/replica-manager.js'
import type { RequestApiName } from '../../../src/protocol/index.js'
import type { Message, NodeId } from '../../../src/raft/types.js'
import { NodeFileLayer } from '../../../src/storage/index.js'

export interface PeerNodeOptions {
  readonly nodeId: NodeId
  readonly clusterId: string
  /** 0 (default) picks a free port. */
  readonly port?: number
  readonly peers?: ReadonlyMap<NodeId, string>
  /** The listener's limits (frameBytesMax is the frame limit peers learn from the handshake). */
  readonly limits?: Partial<BrokerLimits>
  readonly peerLimits?: Partial<PeerLimits>
  /** Topic ids the router has replicas of; default: any. */
  readonly topics?: ReadonlySet<string>
  /** API handlers added to (or replacing those of) the broker's table. */
  readonly handlers?: ReadonlyMap<RequestApiName, ApiHandler>
  /** Serves BrokerRegistration and BrokerHeartbeat with this (controller/active/membership-service.ts). */
  readonly membership?: Membership
}

export interface LogLine {
  readonly level: 'info' | 'warn' | 'error'
  readonly msg: string
  readonly fields: Record<string, unknown>
}

export interface PeerNode {
  readonly nodeId: NodeId
  readonly url: string
  readonly port: number
  readonly transport: PeerTransport
  /** What the router was given, in order. */
  readonly delivered: PartitionMessage[]
  /** `raft` requests (WebSocket messages) the node received from peers. */
  readonly raftRequests: () => number
  /** onPeerClosed calls. */
  readonly peerClosed: { node: NodeId; reason: string }[]
  readonly logs: LogLine[]
  /** The logger writing `logs`. */
  readonly log: Logger
  /** The API table the node serves. */
  readonly apis: ApiTable
  stop(): Promise<void>
}

export async function startPeerNode(o: PeerNodeOptions): Promise<PeerNode> {
  const logs: LogLine[] = []
  const line = (level: LogLine['level']) => (msg: string, fields: Record<string, unknown> = {}) => void logs.push({ level, msg, fields })
  const log: Logger = { info: line('info'), warn: line('warn'), error: line('error') }
  const limits = { ...DEFAULT_LIMITS, ...o.limits }
  const dataDir = mkdtempSync(join(tmpdir(), 'bitacora-peer-'))
  const fs = new NodeFileLayer()
  const listener = await listen(
    { host: '127.0.0.1', port: o.port ?? 0, allowedOrigins: [], allowLocalhostOrigins: true, limitLoopbackConnections: false, limits, health: () => ({}) },
    log,
  )
  const replicas = new ReplicaManager(dataDir, o.nodeId, 50, 60_000, log, fs)
  // A one-node metadata quorum of its own (the node's admin and Metadata answers need one).
  const metadata = await MetadataNode.open({ dataDir, nodeId: o.nodeId, voters: undefined, tickMs: 50, send: () => undefined, log, fs })
  const codec = await loadCodec()
  const controller = new ActiveController({
    node: metadata, codec, log, urlOf: () => undefined,
    config: { leaseMs: 9000, defaultPartitions: 1, defaultReplicationFactor: 1, partitionsPerTopicMax: 1024, topicsMax: 1000, producerIdBlockSize: 1000 },
  })
  metadata.subscribe((u) => void replicas.reconcile(u))
  const admin = new TopicAdmin(metadata, controller, replicas)
  const delivered: PartitionMessage[] = []
  const peerClosed: { node: NodeId; reason: string }[] = []
  const transport = new PeerTransport({
    nodeId: o.nodeId, clusterId: o.clusterId, peers: o.peers ?? new Map(), limits: o.peerLimits, log,
    router: {
      deliver: (topicId: string, partition: number, message: Message) => {
        if (o.topics !== undefined && !o.topics.has(topicId)) return false
        delivered.push({ topicId, partition, message })
        return true
      },
    },
    onPeerClosed: (node, reason) => void peerClosed.push({ node, reason }),
  })
  let raftRequests = 0
  const directory = new NodeDirectory(o.nodeId, listener.url, undefined)
  const apis = apiTable({
    brokerId: o.nodeId, clusterId: o.clusterId, url: listener.url, limits, admin, partitions: replicas, isr: new InSyncReplicas(replicas, () => metadata.image, 50),
    cluster: new ClusterView(metadata), quorum: new MetadataQuorum(metadata, directory), codec, membership: o.membership,
    raft: {
      receive: (from, frames) => {
        raftRequests++
        transport.receive(from, frames)
      },
    },
  })
  const served = new Map([...apis, ...(o.handlers ?? [])])
  listener.serve({ apis: served, limits, readBuffers: new ReadBufferPool(), peers: { clusterId: o.clusterId, nodeId: o.nodeId } })
  return {
    nodeId: o.nodeId, url: listener.url, port: listener.port, transport, delivered, raftRequests: () => raftRequests, peerClosed, logs, log, apis: served,
    stop: async () => {
      await transport.close()
      await listener.close()
      await replicas.closeAll()
      await metadata.close()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

/** Waits for `condition`, checking every 10 ms; fails naming `what` after `timeoutMs`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** A loopback port nothing listens on (for a while). */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise((resolve) => server.close(resolve))
  return port
}

export const TOPIC = 'a1'.repeat(16)

/** An idle follower's fetch, as the core sends it. */
export function fetchMessage(from: NodeId, to: NodeId, fetchId: number): Message {
  return { type: 'fetch', from, to, epoch: 3, fetchId, fetchOffset: 1000 + fetchId, lastFetchedEpoch: 3, flushedOffset: 1000 + fetchId, maxBytes: 1 << 20 }
}

/** A leader's answer carrying `bytes` of records. */
export function recordsMessage(from: NodeId, to: NodeId, fetchId: number, bytes: number): Message {
  const records = new Uint8Array(bytes).map((_, i) => (i * 31 + fetchId) & 0xff)
  return { type: 'fetchResponse', from, to, epoch: 3, fetchId, fetchOffset: 5, kind: 'records', highWatermark: 4, records }
}

/** Whether two lists of messages are equal, bytes compared by content (received ones are Buffer views). */
export function sameMessages(a: readonly Message[], b: readonly Message[]): boolean {
  const plain = (v: unknown): unknown =>
    v instanceof Uint8Array ? Uint8Array.from(v)
    : Array.isArray(v) ? v.map(plain)
    : v !== null && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]))
    : v
  return isDeepStrictEqual(plain(a), plain(b))
}
