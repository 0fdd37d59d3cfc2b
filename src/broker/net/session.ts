// One client connection: decodes request frames, requires the handshake first, bounds the
// requests in flight, dispatches to handlers, and back-pressures a slow reader by pausing its
// socket while its unsent output is over the limit. A bad frame costs an error response, not
// the connection; a broken peer costs only its own connection. A connection whose handshake
// proves it is another broker of the cluster (peer-admission.ts) may also send raft frames:
// one way, handled in arrival order outside the in-flight bound. Raft frames on any other
// connection, and a refused peer handshake, get an error and close the connection (1008): the
// sender is a misconfigured broker or not a broker at all, and answering each of its frames
// would only multiply its traffic.
import type { WebSocket } from 'ws'
import {
  decodeRequest, encodeResponse, ErrorCode, FrameError, wireError, type Request, type ResponseProps,
} from '../../protocol/index.js'
import { FETCH_BYTES_EXECUTING_MAX, type BrokerLimits } from '../limits.js'
import type { Logger } from '../log.js'
import { AppendOrder } from '../partition/append-order.js'
import { FetchChains } from '../api/fetch-chains.js'
import { ReadLease, type ReadBufferPool } from '../partition/read-buffers.js'
import type { ApiTable, RequestScope } from './api-table.js'
import { admitPeer, type PeerAdmissionOptions } from './peer-admission.js'
import type { RefusalLog } from './refusal-log.js'

export interface SessionOptions {
  readonly apis: ApiTable
  readonly limits: Pick<BrokerLimits, 'frameBytesMax' | 'inFlightRequestsMax' | 'sendBufferBytesMax' | 'fetchResponseBytesMax'>
  /** Buffers fetches read into (api/fetch.ts). */
  readonly readBuffers: ReadBufferPool
  /** This broker's cluster and node id, to admit peer brokers by; unset, peer handshakes are refused. */
  readonly peers?: PeerAdmissionOptions
}

/** What the listener knows of a connection from its WebSocket upgrade. */
export interface Upgrade {
  /** The Origin header, sent by every browser and by nothing else we serve. */
  readonly origin: string | undefined
  readonly remote: string
  readonly refusals: RefusalLog
}

export class Session {
  private handshakeDone = false
  /** When the connection last received a request or finished answering its last one. */
  private lastActiveAt = Date.now()
  /** Requests received and not yet answered (waiting or running): at most inFlightRequestsMax. */
  private inFlight = 0
  /** Decoded requests waiting for the output to drain, in arrival order. */
  private readonly waiting: Request[] = []
  private fetchBytesExecuting = 0
  private readonly appendOrder = new AppendOrder()
  private readonly fetchChains = new FetchChains()
  private readonly closed = new AbortController()
  /** The broker node this connection proved to be, or null (a client). */
  private peer: number | null = null

  constructor(
    private readonly ws: WebSocket,
    private readonly options: SessionOptions,
    private readonly log: Logger,
    private readonly upgrade: Upgrade,
  ) {
    ws.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary))
    ws.on('close', () => this.closed.abort())
    ws.on('error', (err) => this.log.warn('connection error', { error: err.message }))
  }

  get handshaken(): boolean {
    return this.handshakeDone
  }

  /** Since when the connection has had nothing to do; null while requests are in flight. */
  get idleSince(): number | null {
    return this.inFlight > 0 ? null : this.lastActiveAt
  }

  close(code: number, reason: string): void {
    this.ws.close(code, reason)
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    this.lastActiveAt = Date.now()
    if (!isBinary) {
      this.ws.close(1003, 'Bitácora speaks binary protobuf frames only')
      return
    }
    let request: Request
    try {
      request = decodeRequest(data, this.options.limits.frameBytesMax)
    } catch (err) {
      const frameErr = err as FrameError
      const correlationId = peekCorrelationId(data)
      this.send({ correlationId, error: wireError(frameErr.code ?? ErrorCode.MALFORMED_FRAME, frameErr.message) })
      return
    }
    const correlationId = request.correlationId
    if (request.api === 'raft') return this.onRaftFrames(request)
    if (!this.handshakeDone && request.api !== 'handshake') {
      this.send({ correlationId, error: wireError(ErrorCode.HANDSHAKE_REQUIRED) })
      return
    }
    if (this.inFlight >= this.options.limits.inFlightRequestsMax) {
      this.send({
        correlationId,
        error: wireError(ErrorCode.TOO_MANY_IN_FLIGHT, `over ${this.options.limits.inFlightRequestsMax} requests in flight; wait for responses`),
      })
      return
    }
    if (request.api === 'handshake') {
      const peer = request.handshake!.peer
      if (peer != null) {
        const verdict = admitPeer(this.options.peers, peer, this.upgrade.origin)
        if (!verdict.admitted) return this.refusePeer(correlationId, verdict.code, verdict.reason)
        this.peer = verdict.nodeId
      }
      this.handshakeDone = true
    }
    this.inFlight++
    this.waiting.push(request)
    this.startWaiting()
  }

  /**
   * Starts waiting requests while the connection's unsent output is under the limit. Fetches
   * also need room in a per-connection budget of response bytes (their max_bytes), so a client
   * that stops reading holds at most sendBufferBytesMax + FETCH_BYTES_EXECUTING_MAX of broker
   * memory. A fetch waiting for budget does not hold up other requests; produce requests always
   * start in arrival order (partition order depends on it).
   */
  private startWaiting(): void {
    const limits = this.options.limits
    for (let i = 0; i < this.waiting.length && this.ws.bufferedAmount <= limits.sendBufferBytesMax; ) {
      const request = this.waiting[i]
      const fetchBytes = request.api === 'fetch' ? Math.min(request.fetch!.maxBytes || limits.fetchResponseBytesMax, limits.fetchResponseBytesMax) : 0
      if (fetchBytes > 0 && this.fetchBytesExecuting > 0 && this.fetchBytesExecuting + fetchBytes > FETCH_BYTES_EXECUTING_MAX) {
        // This fetch waits for budget; requests of other kinds may pass it.
        const firstOther = this.waiting.findIndex((r, j) => j > i && r.api !== 'fetch')
        if (firstOther < 0) return
        i = firstOther
        continue
      }
      this.waiting.splice(i, 1)
      this.fetchBytesExecuting += fetchBytes
      const lease = new ReadLease(this.options.readBuffers)
      this.dispatch(request, { closed: this.closed.signal, appendOrder: this.appendOrder, fetchChains: this.fetchChains, lease, peer: this.peer, remote: this.upgrade.remote })
        .then((response) => {
          if (response !== null) this.send({ correlationId: request.correlationId, ...response }, lease)
          else lease.release()
        })
        .catch((err: Error) => {
          lease.release()
          this.log.error('request failed', { api: request.api, error: err.stack ?? err.message })
          this.send({ correlationId: request.correlationId, error: wireError(ErrorCode.UNKNOWN_SERVER_ERROR, err.message) })
        })
        .finally(() => {
          this.inFlight--
          this.lastActiveAt = Date.now()
          this.fetchBytesExecuting -= fetchBytes
          this.startWaiting()
        })
    }
  }

  /** Raft frames: only from a proven peer, handed on at once and never answered. */
  private onRaftFrames(request: Request): void {
    if (this.peer === null) {
      return this.refusePeer(0, ErrorCode.POLICY_VIOLATION, 'raft frames are accepted only from a broker of this cluster, after a handshake with `peer`')
    }
    const handler = this.options.apis.get('raft')
    if (handler === undefined) return this.send({ correlationId: 0, error: wireError(ErrorCode.INVALID_REQUEST, 'this broker does not serve the raft API') })
    const lease = new ReadLease(this.options.readBuffers)
    try {
      void handler(request, { closed: this.closed.signal, appendOrder: this.appendOrder, lease, peer: this.peer, remote: this.upgrade.remote })
    } catch (err) {
      this.log.error('raft frames failed', { peer: this.peer, error: (err as Error).stack ?? String(err) })
    } finally {
      lease.release()
    }
  }

  /** Logs the refusal (rate-limited), tells the sender why, and closes the connection. */
  private refusePeer(correlationId: number, code: ErrorCode, reason: string): void {
    this.upgrade.refusals.refused('peer', { reason, remote: this.upgrade.remote, origin: this.upgrade.origin })
    this.send({ correlationId, error: wireError(code, reason) })
    this.ws.close(1008, 'refused as a peer broker; see the error frame')
  }

  /** Runs one request; null means no response (produce with acks=0, raft frames). */
  private async dispatch(r: Request, scope: RequestScope): Promise<ResponseProps | null> {
    const handler = this.options.apis.get(r.api!)
    if (handler === undefined) return { error: wireError(ErrorCode.INVALID_REQUEST, `this broker does not serve the ${String(r.api)} API`) }
    return handler(r, scope)
  }

  /**
   * Sends a response. With `lease`, the response is a fetch's, whose records are in the
   * lease's buffers with room before them (api/fetch.ts): its frame is written in place,
   * and the lease is released once the frame is on the socket.
   */
  private send(response: ResponseProps, lease?: ReadLease): void {
    if (this.ws.readyState !== this.ws.OPEN) {
      lease?.release()
      return
    }
    const max = this.options.limits.sendBufferBytesMax
    let frame: Uint8Array
    try {
      frame = encodeResponse(response, { lastRecordsHaveHeadroom: lease !== undefined && response.fetch != null })
    } catch (err) {
      lease?.release()
      throw err
    }
    this.ws.send(frame, { binary: true }, () => {
      lease?.release()
      if (this.ws.bufferedAmount < max / 2) {
        if (this.ws.isPaused) this.ws.resume()
        this.startWaiting()
      }
    })
    // Stop reading requests from a client that does not read its responses.
    if (this.ws.bufferedAmount > max && !this.ws.isPaused) this.ws.pause()
  }
}

/** The correlation id of a frame that failed to decode, if its first field (varint 1) is intact. */
function peekCorrelationId(data: Uint8Array): number {
  if (data[0] !== 0x08) return 0
  let value = 0
  for (let i = 1, shift = 0; i < Math.min(data.length, 6); i++, shift += 7) {
    value += (data[i] & 0x7f) * 2 ** shift
    if ((data[i] & 0x80) === 0) return value <= 0xffffffff ? value : 0
  }
  return 0
}
