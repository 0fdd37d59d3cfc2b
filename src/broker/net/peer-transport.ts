// The inter-broker transport of the Raft cores' messages: one outbound PeerLink per peer node,
// opened on first use; messages to this node itself delivered locally; frames received from
// peers (through the `raft` API handler) checked and routed to the caller's replicas. The
// caller wires it twice: `send` from each replica's Ready, and `receive` as the broker's
// RaftReceiver (api-table.ts). Messages may be lost, never buffered without bound: Raft
// re-sends what it still needs. The same links carry requests that are answered (`request`:
// registration and heartbeats to the controller, and requests forwarded to it).
import type { ApiName, bitacora, Response } from '../../protocol/index.js'
import type { Message, NodeId } from '../../raft/types.js'
import { DEFAULT_PEER_LIMITS, type PeerLimits } from '../limits.js'
import type { Logger } from '../log.js'
import { PeerLink, type PeerLinkStats } from './peer-link.js'
import { PeerRequestError, type PeerRequestBody } from './peer-requests.js'
import { RaftFrameReceiver, type RaftReceiver, type RaftRouter, type ReceiverStats } from './peer-receiver.js'
import { PeerWarnings } from './peer-warnings.js'
import { encodeRaftFrame } from './raft-wire.js'

export interface PeerTransportOptions {
  /** This broker's node id and cluster id: what its peer handshakes claim. */
  readonly nodeId: NodeId
  readonly clusterId: string
  /** Each peer node's WebSocket URL (ws://host:port/); may include this node (ignored). */
  readonly peers: ReadonlyMap<NodeId, string>
  readonly limits?: Partial<PeerLimits>
  readonly router: RaftRouter
  readonly log: Logger
  /**
   * A peer's open connection closed: messages to it are lost until it is back. A follower of
   * that peer may start a pre-vote at once instead of waiting out its fetch timeout.
   */
  readonly onPeerClosed?: (node: NodeId, reason: string) => void
}

export interface PeerTransportStats {
  readonly links: readonly PeerLinkStats[]
  readonly received: ReceiverStats
  /** Messages to a node with no URL. */
  readonly unknownNode: number
  readonly deliveredLocally: number
  /** Messages to this node over queuedFramesMax in one turn. */
  readonly droppedLocally: number
}

export class PeerTransport implements RaftReceiver {
  private readonly limits: PeerLimits
  private readonly warnings: PeerWarnings
  private readonly receiver: RaftFrameReceiver
  private readonly links = new Map<NodeId, PeerLink>()
  private urls: ReadonlyMap<NodeId, string>
  private toSelf: { topicId: string; partition: number; message: Message }[] = []
  private unknownNode = 0
  private deliveredLocally = 0
  private droppedLocally = 0
  private closed = false

  constructor(private readonly o: PeerTransportOptions) {
    this.limits = { ...DEFAULT_PEER_LIMITS, ...o.limits }
    this.warnings = new PeerWarnings(o.log)
    this.receiver = new RaftFrameReceiver(o.nodeId, o.router, this.warnings)
    this.urls = o.peers
  }

  /**
   * Sends `message` (from this node, to `to`) for the Raft group of (topicId, partition). It
   * leaves with everything else queued for `to` in this event-loop turn, or is dropped and
   * counted. Throws only on a caller's bug: from or to not matching, or a message no peer could
   * read (RaftWireError RAFT_MESSAGE_UNENCODABLE).
   */
  send(to: NodeId, topicId: string, partition: number, message: Message): void {
    if (message.from !== this.o.nodeId || message.to !== to) {
      throw new Error(`a message from ${message.from} to ${message.to} sent as from ${this.o.nodeId} to ${to}`)
    }
    if (this.closed) return
    if (to === this.o.nodeId) return this.deliverLocally(topicId, partition, message)
    const frame = encodeRaftFrame(topicId, partition, message)
    const link = this.link(to)
    if (link === null) {
      this.unknownNode++
      this.warnings.warn(`unknown:${to}`, 'raft message to a node with no URL dropped', { node: to, known: [...this.urls.keys()] })
      return
    }
    link.send(`${topicId}/${partition}`, frame)
  }

  /**
   * Sends a request of `api` to peer `to` over its link (PeerLink.request): resolves with the
   * answer, or rejects with a PeerRequestError (PEER_UNKNOWN_NODE for a node with no URL).
   * Requests to this node itself are the caller's to run (there is no link to itself).
   */
  request<A extends ApiName>(to: NodeId, api: A, body: PeerRequestBody<A>, timeoutMs: number): Promise<Response> {
    if (to === this.o.nodeId) throw new Error(`a ${api} request to this node itself (${to}) sent to the peer transport`)
    if (this.closed) return Promise.reject(new PeerRequestError('PEER_LINK_CLOSED', to, 'the peer transport is closed (this broker is stopping)'))
    const link = this.link(to)
    if (link === null) return Promise.reject(new PeerRequestError('PEER_UNKNOWN_NODE', to, `no URL is known for node ${to} (known: ${[...this.urls.keys()].join(', ') || 'none'})`))
    return link.request(api, body, timeoutMs)
  }

  /** The `raft` API handler's entry: frames from peer `from`, as its session proved it. */
  receive(from: NodeId, frames: bitacora.RaftFrames.$Properties): void {
    if (!this.closed) this.receiver.receive(from, frames)
  }

  /** Replaces the peer list: links to nodes removed or moved are closed (a moved one reopens at its new URL). */
  setPeers(peers: ReadonlyMap<NodeId, string>): void {
    this.urls = peers
    for (const [node, link] of this.links) {
      if (peers.get(node) === link.url) continue
      this.links.delete(node)
      const now = peers.get(node)
      void link.close(now === undefined ? `node ${node} left the peer list` : `node ${node} moved to ${now}`)
    }
  }

  stats(): PeerTransportStats {
    return {
      links: [...this.links.values()].map((l) => l.stats()), received: this.receiver.stats(),
      unknownNode: this.unknownNode, deliveredLocally: this.deliveredLocally, droppedLocally: this.droppedLocally,
    }
  }

  /** Sends what is queued, closes every link (within PEER_CLOSE_TIMEOUT_MS) and ignores later sends and frames. */
  async close(): Promise<void> {
    this.closed = true
    this.toSelf = []
    await Promise.all([...this.links.values()].map((l) => l.close()))
  }

  private link(node: NodeId): PeerLink | null {
    let link = this.links.get(node)
    if (link !== undefined) return link
    const url = this.urls.get(node)
    if (url === undefined) return null
    link = new PeerLink({
      self: this.o.nodeId, clusterId: this.o.clusterId, node, url, limits: this.limits, log: this.o.log, warnings: this.warnings,
      closed: (n, reason) => this.o.onPeerClosed?.(n, reason),
    })
    this.links.set(node, link)
    return link
  }

  /** A message to this node goes to its router a turn later, as a peer's would (never inside the sender's Ready). */
  private deliverLocally(topicId: string, partition: number, message: Message): void {
    if (this.toSelf.length >= this.limits.queuedFramesMax) return void this.droppedLocally++
    if (this.toSelf.length === 0) setImmediate(() => this.flushToSelf())
    this.toSelf.push({ topicId, partition, message })
  }

  private flushToSelf(): void {
    const batch = this.toSelf
    this.toSelf = []
    for (const m of batch) {
      if (this.o.router.deliver(m.topicId, m.partition, m.message)) this.deliveredLocally++
    }
  }
}
