// One outbound connection to one peer broker, carrying Raft frames one way and requests that
// are answered. Opened on first use and proven with a peer handshake (our cluster id and node
// id); the answer must come from the node we meant, in our cluster, or the attempt fails. After
// a failure the link waits a jittered, doubling back-off before it tries again, and only if
// frames are waiting. Frames queued in one event-loop turn leave together on setImmediate,
// packed into as few WebSocket messages as the peer's frame limit (from its handshake answer)
// allows. Frames are dropped and counted, never buffered without bound: over the queue's
// limits, while the peer's socket holds more than sendBufferBytesMax unsent bytes, and when the
// connection fails.
//
// Requests (`request`) leave at once, each in its own message, and their answers are matched
// by correlation id (peer-requests.ts). A request never waits out a back-off: it fails at once
// with PEER_UNREACHABLE, as it does when the connection fails to open, and PEER_CONNECTION_LOST
// when the connection closes after it was sent; the caller decides where to try again.
import WebSocket from 'ws'
import { decodeResponse, encodeRequest, errorName, PROTOCOL_VERSION, type ApiName, type RequestProps, type Response } from '../../protocol/index.js'
import type { NodeId } from '../../raft/types.js'
import { PEER_CLOSE_TIMEOUT_MS, PEER_RESPONSE_BYTES_MAX, type PeerLimits } from '../limits.js'
import type { Logger } from '../log.js'
import { fitsOneMessage, packRaftFrames } from './peer-envelope.js'
import { DROP_REASONS, PeerQueue, type DropReason } from './peer-queue.js'
import { PeerRequestError, PendingRequests, type PeerRequestBody } from './peer-requests.js'
import type { PeerWarnings } from './peer-warnings.js'

export interface PeerLinkOptions {
  readonly self: NodeId
  readonly clusterId: string
  readonly node: NodeId
  readonly url: string
  readonly limits: PeerLimits
  readonly log: Logger
  readonly warnings: PeerWarnings
  /** The link's open connection closed (not called for attempts that never opened, nor on close()). */
  readonly closed: (node: NodeId, reason: string) => void
}

type LinkState =
  | { readonly kind: 'idle' }
  | { readonly kind: 'connecting'; readonly ws: WebSocket; readonly deadline: NodeJS.Timeout }
  | { readonly kind: 'open'; readonly ws: WebSocket; readonly messageBytesMax: number }
  | { readonly kind: 'backoff'; readonly timer: NodeJS.Timeout; readonly reason: string }
  | { readonly kind: 'closed' }

export interface PeerLinkStats {
  readonly node: NodeId
  readonly url: string
  readonly state: LinkState['kind']
  /** Peer handshakes that succeeded. */
  readonly connects: number
  /** Attempts that failed since the last success. */
  readonly failures: number
  readonly framesSent: number
  /** The WebSocket messages those frames left in. */
  readonly messagesSent: number
  readonly bytesSent: number
  readonly queued: number
  /** Bytes sent to the socket and not yet on the wire (a slow peer's backlog). */
  readonly unsentBytes: number
  readonly dropped: Readonly<Record<DropReason, number>>
  readonly requestsSent: number
  readonly requestsAnswered: number
  /** Requests that failed: refused, timed out, or lost with the connection. */
  readonly requestsFailed: number
  /** Requests waiting for answers now. */
  readonly requestsWaiting: number
  /** Answers that came after their request had timed out. */
  readonly lateAnswers: number
}

const HANDSHAKE_CORRELATION_ID = 1

/**
 * Masking keys of all zeros: `ws` then neither copies nor XORs a message to send (nor does the
 * peer's `ws` to read it). Masking protects HTTP proxies from payloads a browser script chose
 * (RFC 6455 §10.3); a broker's frames to a broker are not that, and masking every byte of
 * replicated data cost a leader a copy and ~2 % of its CPU per follower (perf/README.md, RF=3).
 */
function zeroMask(mask: Buffer): void {
  mask.fill(0)
}

export class PeerLink {
  private state: LinkState = { kind: 'idle' }
  private readonly queue: PeerQueue
  private readonly requests: PendingRequests
  private requestsSent = 0
  private requestsAnswered = 0
  private requestsFailed = 0
  private flushScheduled = false
  private connects = 0
  private failures = 0
  private framesSent = 0
  private messagesSent = 0
  private bytesSent = 0
  private readonly dropped = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>

  constructor(private readonly o: PeerLinkOptions) {
    this.queue = new PeerQueue(o.limits)
    this.requests = new PendingRequests(o.node, o.limits.requestsInFlightMax)
  }

  get url(): string {
    return this.o.url
  }

  /** Queues one encoded frame of partition `pair` (any string naming it) for the next flush. */
  send(pair: string, frame: Uint8Array): void {
    const s = this.state
    if (s.kind === 'closed') return this.drop('closed')
    if (s.kind === 'open') {
      if (s.ws.bufferedAmount > this.o.limits.sendBufferBytesMax) return this.drop('slowPeer')
      if (!fitsOneMessage(frame.length, this.o.self, this.o.node, s.messageBytesMax)) return this.drop('tooLarge')
    }
    const refused = this.queue.offer(pair, frame)
    if (refused !== null) return this.drop(refused)
    if (s.kind === 'open') this.scheduleFlush()
    else if (s.kind === 'idle') this.connect()
  }

  /**
   * Sends a request of `api` and resolves with the peer's answer (which may carry an error), or
   * rejects with a PeerRequestError: at once when the link cannot take it, else when
   * `timeoutMs` passes or the connection closes first. Never both, never neither.
   */
  request<A extends ApiName>(api: A, body: PeerRequestBody<A>, timeoutMs: number): Promise<Response> {
    const s = this.state
    if (s.kind === 'closed') return this.refuse(new PeerRequestError('PEER_LINK_CLOSED', this.o.node, `the link to node ${this.o.node} is closed (this broker is stopping)`))
    if (s.kind === 'backoff') return this.refuse(new PeerRequestError('PEER_UNREACHABLE', this.o.node, `node ${this.o.node} at ${this.o.url} is unreachable: ${s.reason}`))
    const encode = (correlationId: number) => encodeRequest({ correlationId, [api]: body } as RequestProps)
    const answer = this.requests.add(api, encode, timeoutMs).then(
      (response) => {
        this.requestsAnswered++
        return response
      },
      (err: unknown) => {
        this.requestsFailed++
        throw err
      },
    )
    if (s.kind === 'open') this.sendRequests(s.ws, s.messageBytesMax)
    else if (s.kind === 'idle') this.connect()
    return answer
  }

  stats(): PeerLinkStats {
    return {
      node: this.o.node, url: this.o.url, state: this.state.kind, connects: this.connects, failures: this.failures,
      framesSent: this.framesSent, messagesSent: this.messagesSent, bytesSent: this.bytesSent, queued: this.queue.length,
      unsentBytes: this.state.kind === 'open' ? this.state.ws.bufferedAmount : 0, dropped: { ...this.dropped },
      requestsSent: this.requestsSent, requestsAnswered: this.requestsAnswered, requestsFailed: this.requestsFailed,
      requestsWaiting: this.requests.size, lateAnswers: this.requests.lateAnswers,
    }
  }

  /**
   * Sends what is queued (a resigning leader's EndQuorumEpoch), then closes; frames sent later
   * are dropped, and requests made later fail with PEER_LINK_CLOSED. Requests waiting fail
   * with PEER_LINK_CLOSED too, or, when the link closes because the peer left the peer list or
   * moved (`peerGone`), as if the connection were lost (retriable).
   */
  async close(peerGone?: string): Promise<void> {
    const s = this.state
    this.state = { kind: 'closed' }
    if (peerGone === undefined) this.requests.failAll(() => new PeerRequestError('PEER_LINK_CLOSED', this.o.node, `the link to node ${this.o.node} closed (this broker is stopping)`))
    else this.failRequests(peerGone)
    if (s.kind === 'backoff') clearTimeout(s.timer)
    if (s.kind === 'connecting') {
      clearTimeout(s.deadline)
      s.ws.terminate()
    }
    if (s.kind === 'open') {
      this.sendQueued(s.ws, s.messageBytesMax)
      await closeWithin(s.ws, PEER_CLOSE_TIMEOUT_MS)
    }
    this.drop('closed', this.queue.takeAll().length)
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return
    this.flushScheduled = true
    setImmediate(() => {
      this.flushScheduled = false
      const s = this.state
      if (s.kind === 'open') this.sendQueued(s.ws, s.messageBytesMax)
    })
  }

  private sendQueued(ws: WebSocket, messageBytesMax: number): void {
    const queued = this.queue.takeAll()
    // Frames queued before the peer's frame limit was known may not fit it.
    const frames = queued.filter((f) => fitsOneMessage(f.length, this.o.self, this.o.node, messageBytesMax))
    this.drop('tooLarge', queued.length - frames.length)
    for (const message of packRaftFrames(this.o.self, this.o.node, frames, messageBytesMax)) {
      ws.send(message, { binary: true })
      this.messagesSent++
      this.bytesSent += message.length
    }
    this.framesSent += frames.length
  }

  /** Puts requests not yet sent on the wire, or fails those that cannot go. */
  private sendRequests(ws: WebSocket, messageBytesMax: number): void {
    for (const [id, frame] of this.requests.unsent()) {
      if (frame.length > messageBytesMax) {
        this.requests.fail(id, new PeerRequestError('PEER_REQUEST_TOO_LARGE', this.o.node, `a ${frame.length}-byte request is over node ${this.o.node}'s ${messageBytesMax}-byte frame limit`))
      } else if (ws.bufferedAmount > this.o.limits.sendBufferBytesMax) {
        this.requests.fail(id, new PeerRequestError('PEER_SLOW', this.o.node, `node ${this.o.node} has ${ws.bufferedAmount} bytes unsent on its socket (not reading)`))
      } else {
        ws.send(frame, { binary: true })
        this.requests.sent(id)
        this.requestsSent++
        this.messagesSent++
        this.bytesSent += frame.length
      }
    }
  }

  /** A request refused before it was taken: counted as failed. */
  private refuse(err: PeerRequestError): Promise<never> {
    this.requestsFailed++
    return Promise.reject(err)
  }

  private connect(): void {
    const { url, limits } = this.o
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: PEER_RESPONSE_BYTES_MAX, handshakeTimeout: limits.connectTimeoutMs, generateMask: zeroMask })
    const deadline = setTimeout(() => this.lost(ws, `no peer handshake within ${limits.connectTimeoutMs} ms`), limits.connectTimeoutMs).unref()
    this.state = { kind: 'connecting', ws, deadline }
    let error = ''
    ws.on('open', () => {
      const peer = { clusterId: this.o.clusterId, nodeId: this.o.self }
      ws.send(encodeRequest({ correlationId: HANDSHAKE_CORRELATION_ID, handshake: { protocolVersion: PROTOCOL_VERSION, clientId: `broker-${this.o.self}`, clientSoftware: 'bitacora-broker', peer } }))
    })
    ws.on('message', (data, isBinary) => this.onAnswer(ws, data as Buffer, isBinary))
    ws.on('error', (err) => (error = err.message))
    ws.on('close', (code, reason) => this.lost(ws, reason.length > 0 ? `closed (${code}): ${reason.toString()}` : error || `closed (${code})`))
  }

  /** The peer's answers: its handshake, answers to requests, or an error about frames it refused (raft frames are never answered). */
  private onAnswer(ws: WebSocket, data: Buffer, isBinary: boolean): void {
    const s = this.state
    if ((s.kind !== 'connecting' && s.kind !== 'open') || s.ws !== ws) return
    let answer: Response
    try {
      if (!isBinary) throw new Error('a text message')
      answer = decodeResponse(data, PEER_RESPONSE_BYTES_MAX)
    } catch (err) {
      return this.lost(ws, `answered with an undecodable frame (${(err as Error).message})`)
    }
    if (s.kind === 'open') {
      if (answer.correlationId !== 0) return void this.requests.answered(answer)
      const error = answer.error
      this.o.warnings.warn(`answer:${this.o.node}`, 'peer answered with an error', { node: this.o.node, code: error ? errorName(error.code ?? 0) : null, error: error?.message })
      return
    }
    const refusal = handshakeRefusal(answer, this.o.clusterId, this.o.node)
    if (refusal !== null) return this.lost(ws, refusal)
    clearTimeout(s.deadline)
    this.state = { kind: 'open', ws, messageBytesMax: answer.handshake!.maxFrameBytes ?? 0 }
    this.o.log.info('peer connected', { node: this.o.node, url: this.o.url, failedAttempts: this.failures })
    this.failures = 0
    this.connects++
    this.sendRequests(ws, this.state.messageBytesMax)
    this.scheduleFlush()
  }

  /** The connection failed, or closed: drop what it would have carried and back off. */
  private lost(ws: WebSocket, reason: string): void {
    const s = this.state
    if ((s.kind !== 'connecting' && s.kind !== 'open') || s.ws !== ws) return // an old socket's last events
    if (s.kind === 'connecting') clearTimeout(s.deadline)
    ws.terminate()
    this.drop('unreachable', this.queue.takeAll().length)
    this.failRequests(reason)
    this.failures++
    const delayMs = backoffMs(this.failures, this.o.limits)
    this.state = { kind: 'backoff', timer: setTimeout(() => this.retry(), delayMs).unref(), reason }
    const fields = { node: this.o.node, url: this.o.url, reason, retryInMs: Math.round(delayMs) }
    if (s.kind === 'open') {
      this.o.log.warn('peer connection closed', fields)
      this.o.closed(this.o.node, reason)
    } else {
      this.o.warnings.warn(`unreachable:${this.o.node}`, 'peer unreachable', { ...fields, failedAttempts: this.failures })
    }
  }

  /** Fails every waiting request, as lost with the connection (sent) or never sent. */
  private failRequests(reason: string): void {
    const node = this.o.node
    this.requests.failAll((sent) =>
      sent ? new PeerRequestError('PEER_CONNECTION_LOST', node, `the connection to node ${node} was lost after the request was sent (${reason}); it may or may not have been carried out`)
      : new PeerRequestError('PEER_UNREACHABLE', node, `node ${node} at ${this.o.url} is unreachable: ${reason}`))
  }

  /** Back-off over: try again if frames wait, else connect on the next one. */
  private retry(): void {
    if (this.state.kind !== 'backoff') return
    if (this.queue.length > 0) this.connect()
    else this.state = { kind: 'idle' }
  }

  private drop(reason: DropReason, frames = 1): void {
    if (frames === 0) return
    this.dropped[reason] += frames
    // Drops on a failed connection or a closed transport follow an event logged already.
    if (reason === 'unreachable' || reason === 'closed') return
    this.o.warnings.warn(`drop:${this.o.node}:${reason}`, 'raft frames to a peer dropped', { node: this.o.node, reason, frames, droppedSoFar: this.dropped[reason] })
  }
}

/** Why a peer handshake answer does not admit us to the node we meant, or null. */
function handshakeRefusal(answer: Response, clusterId: string, node: NodeId): string | null {
  if (answer.error != null) return `refused the peer handshake: ${errorName(answer.error.code ?? 0)}: ${answer.error.message}`
  const h = answer.handshake
  if (h == null) return 'answered the peer handshake with something else'
  if (h.clusterId !== clusterId) return `is a broker of cluster ${h.clusterId}, not of this one (${clusterId})`
  if (h.brokerId !== node) return `is broker ${h.brokerId}, not node ${node}: check the peer URLs`
  if (!((h.maxFrameBytes ?? 0) > 0)) return 'announced no frame limit'
  return null
}

/** Doubling from min per failure up to max, jittered to half to all of it so peers do not retry in step. */
function backoffMs(failures: number, limits: Pick<PeerLimits, 'reconnectBackoffMsMin' | 'reconnectBackoffMsMax'>): number {
  const base = Math.min(limits.reconnectBackoffMsMax, limits.reconnectBackoffMsMin * 2 ** Math.min(failures - 1, 30))
  return base / 2 + (Math.random() * base) / 2
}

/** Closes with a close frame after the queued data; a peer that does not answer it in time is cut off. */
function closeWithin(ws: WebSocket, timeoutMs: number): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(() => ws.terminate(), timeoutMs).unref()
    ws.once('close', () => {
      clearTimeout(timer)
      resolve()
    })
    ws.close(1001, 'broker stopping')
  })
}
