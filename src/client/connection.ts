// One WebSocket to one broker: the handshake, then many requests in flight matched to their
// responses by correlation id (pipelining). Bounded: at most `inFlightMax` requests on the
// wire (lowered to the broker's handshake limit) and `pendingMax` queued behind them; past
// that a request is refused at once rather than buffered without end.
import {
  bitacora, decodeResponse, encodeRequest, FrameError, PROTOCOL_VERSION, type ApiName, type FrameAllocator, type RequestProps,
} from '../protocol/index.js'
import { ClientError, errorFromWire } from './errors.js'
import { FrameScratch } from './frame-scratch.js'
import { CORRELATION_ID_MAX, PRODUCER_BATCHES_REMEMBERED_DEFAULT } from './limits.js'
import { failureOf, messageBytes, WS_OPEN, type WebSocketFactory, type WebSocketLike } from './transport.js'

export type RequestBody<K extends ApiName> = NonNullable<RequestProps[K]>
/**
 * Writes a whole request frame for the correlation id it is given, into `allocate(size)` when
 * it can (the connection's reused scratch, when the frame goes to the socket at once).
 */
export type FrameEncoder = (correlationId: number, allocate?: FrameAllocator) => Uint8Array
export type ResponseBody<K extends ApiName> = NonNullable<bitacora.Response[K]>

export interface ConnectionOptions {
  url: string
  clientId: string
  clientSoftware: string
  webSocketFactory: WebSocketFactory
  connectTimeoutMs: number
  requestTimeoutMs: number
  inFlightMax: number
  pendingMax: number
  responseBytesMax: number
  requestFrameBytesMax: number
  /**
   * No connection of this client has opened yet: a failure to open that comes with no reason
   * (a browser's) is then CONNECTION_REFUSED, final, rather than a retriable CONNECTION_FAILED.
   */
  firstContact?: boolean
}

export interface HandshakeInfo {
  protocolVersion: number
  brokerId: number
  clusterId: string
  maxFrameBytes: number
  maxInFlightRequests: number
  /** Batches per idempotent producer its partitions remember (how many of a partition's may be in flight). */
  producerBatchesRemembered: number
}

export interface RequestOptions {
  /** Overrides the connection's request timeout (a fetch adds its max wait). */
  timeoutMs?: number
  /** false: send and resolve at once with null (produce with acks=0: the broker stays silent). */
  expectResponse?: boolean
}

interface Waiting {
  correlationId: number
  /** The frame until it is sent (then dropped: it may be the scratch's bytes). */
  frame: Uint8Array
  api: ApiName
  resolve: (response: bitacora.Response | null) => void
  reject: (err: Error) => void
  timer: ReturnType<typeof setTimeout>
  sentAt: number
}

type State = 'new' | 'connecting' | 'ready' | 'closed'

const SENT = new Uint8Array(0)

function ignore(): void {}

export class Connection {
  private socket: WebSocketLike | undefined
  private state: State = 'new'
  private nextCorrelationId = 1
  private readonly inFlight = new Map<number, Waiting>()
  private readonly pending: Waiting[] = []
  private inFlightMax: number
  private frameBytesMax: number
  private lastReceivedAt = 0
  private readonly scratch = new FrameScratch()
  private closeListeners: Array<(err: ClientError) => void> = []
  handshake: HandshakeInfo | undefined

  constructor(private readonly options: ConnectionOptions) {
    this.inFlightMax = options.inFlightMax
    this.frameBytesMax = options.requestFrameBytesMax
  }

  get url(): string {
    return this.options.url
  }

  get isReady(): boolean {
    return this.state === 'ready'
  }

  /** Requests in flight plus queued. */
  get load(): number {
    return this.inFlight.size + this.pending.length
  }

  onClose(listener: (err: ClientError) => void): void {
    this.closeListeners.push(listener)
  }

  /**
   * Opens the socket and performs the handshake, both within connectTimeoutMs; rejects with a
   * ClientError (or the broker's BitacoraError refusing the handshake).
   */
  async connect(): Promise<HandshakeInfo> {
    if (this.state !== 'new') throw new ClientError('CONNECTION_FAILED', `connection to ${this.url} was already used`)
    this.state = 'connecting'
    const deadline = Date.now() + this.options.connectTimeoutMs
    await this.open()
    const handshake = { protocolVersion: PROTOCOL_VERSION, clientId: this.options.clientId, clientSoftware: this.options.clientSoftware }
    const timeoutMs = Math.max(1, deadline - Date.now())
    const response = await this.send('handshake', (id) => encodeRequest({ correlationId: id, handshake }), { timeoutMs }).catch((err: Error) => {
      const failure = new ClientError('CONNECTION_FAILED', `handshake with ${this.url} failed: ${err.message}`, { cause: err })
      this.close(failure)
      throw err instanceof ClientError ? failure : err // the broker's own refusal (a BitacoraError) as it is
    })
    const h = response as ResponseBody<'handshake'>
    this.handshake = {
      protocolVersion: h.protocolVersion ?? 0,
      brokerId: h.brokerId ?? -1,
      clusterId: h.clusterId ?? '',
      maxFrameBytes: h.maxFrameBytes || this.options.requestFrameBytesMax,
      maxInFlightRequests: h.maxInFlightRequests || this.options.inFlightMax,
      producerBatchesRemembered: h.producerBatchesRemembered || PRODUCER_BATCHES_REMEMBERED_DEFAULT,
    }
    // The broker's limits win: we split work before it has to refuse it.
    this.frameBytesMax = Math.min(this.frameBytesMax, this.handshake.maxFrameBytes)
    this.inFlightMax = Math.max(1, Math.min(this.inFlightMax, this.handshake.maxInFlightRequests))
    this.state = 'ready'
    return this.handshake
  }

  /** The largest request frame this connection may send. */
  get maxFrameBytes(): number {
    return this.frameBytesMax
  }

  /** Sends one request and resolves with its response body (a top-level error rejects). */
  async request<K extends ApiName>(api: K, body: RequestBody<K>, options: RequestOptions = {}): Promise<ResponseBody<K>> {
    if (this.state !== 'ready') throw this.notReadyError()
    return (await this.send(api, (id) => encodeRequest({ correlationId: id, [api]: body } as RequestProps), options)) as ResponseBody<K>
  }

  /**
   * request(), with the frame encoded by the caller for the correlation id it is given (the
   * produce path writes record batches straight into the frame: src/protocol/frame-writer.ts).
   */
  async requestFrame<K extends ApiName>(api: K, encode: FrameEncoder, options: RequestOptions = {}): Promise<ResponseBody<K>> {
    if (this.state !== 'ready') throw this.notReadyError()
    return (await this.send(api, encode, options)) as ResponseBody<K>
  }

  /** Sends a request that gets no response (acks=0 produce); resolves once handed to the socket. */
  sendOnly<K extends ApiName>(api: K, body: RequestBody<K>): void {
    this.sendOnlyFrame(api, (id) => encodeRequest({ correlationId: id, [api]: body } as RequestProps))
  }

  /** sendOnly(), with the frame encoded by the caller. */
  sendOnlyFrame(api: ApiName, encode: FrameEncoder): void {
    if (this.state !== 'ready') throw this.notReadyError()
    this.socket!.send(this.encode(api, encode, this.takeCorrelationId(), this.scratch.take))
  }

  close(reason?: ClientError): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    const err = reason ?? new ClientError('CONNECTION_CLOSED', `connection to ${this.url} was closed`)
    const socket = this.socket
    if (socket) {
      socket.onopen = socket.onmessage = socket.onclose = null
      socket.onerror = ignore // closing a socket still connecting may report an error (ws does)
      try {
        // Dropped at once where the transport can (ws): a closing handshake waits for the
        // broker's answer, and one that is stalled or gone would hold the socket (and keep a
        // Node process from exiting) for ws's 30 s close timeout. Nothing is sent after close.
        if (socket.terminate) socket.terminate()
        else socket.close(1000)
      } catch {
        // Closing a socket that never opened may throw in some runtimes; it is gone either way.
      }
    }
    for (const w of [...this.inFlight.values(), ...this.pending]) {
      clearTimeout(w.timer)
      w.reject(err)
    }
    this.inFlight.clear()
    this.pending.length = 0
    for (const listener of this.closeListeners) listener(err)
    this.closeListeners = []
  }

  private notReadyError(): ClientError {
    return new ClientError(this.state === 'closed' ? 'CONNECTION_CLOSED' : 'CONNECTION_FAILED', `connection to ${this.url} is ${this.state}`)
  }

  private open(): Promise<void> {
    return new Promise((resolve, reject) => {
      let socket: WebSocketLike
      try {
        socket = this.options.webSocketFactory(this.url, { maxPayloadBytes: this.options.responseBytesMax })
      } catch (err) {
        reject(new ClientError('CONNECTION_FAILED', `cannot open ${this.url}: ${(err as Error).message}`, { cause: err }))
        return
      }
      this.socket = socket
      const fail = (err: ClientError) => {
        clearTimeout(timer)
        this.close(err)
        reject(err)
      }
      const { connectTimeoutMs } = this.options
      const timer = setTimeout(() => {
        fail(new ClientError('CONNECTION_FAILED', `connecting to ${this.url} timed out after ${connectTimeoutMs} ms (connectTimeoutMs): no WebSocket handshake answer`))
      }, connectTimeoutMs)
      socket.onopen = () => {
        clearTimeout(timer)
        socket.onerror = () => this.close(new ClientError('CONNECTION_CLOSED', `connection to ${this.url} failed`))
        resolve()
      }
      socket.onerror = (ev) => fail(this.openFailure(failureOf(ev)))
      socket.onclose = (ev) => {
        if (this.state === 'connecting' && socket.readyState !== WS_OPEN) fail(this.openFailure(undefined, ev.code))
        else this.close(new ClientError('CONNECTION_CLOSED', `connection to ${this.url} closed (code ${ev.code}${ev.reason ? `: ${ev.reason}` : ''})`))
      }
      socket.onmessage = (ev) => this.receive(ev.data)
    })
  }

  /** The error for a socket that did not open, from what its events said. */
  private openFailure(cause: (Error & { status?: number }) | undefined, closeCode?: number): ClientError {
    if (cause !== undefined && cause.status !== undefined && cause.status >= 400 && cause.status < 500) {
      return new ClientError('CONNECTION_REFUSED', `${this.url} refused the connection: ${cause.message}`, { cause })
    }
    if (cause !== undefined) return new ClientError('CONNECTION_FAILED', `cannot connect to ${this.url}: ${cause.message}`, { cause })
    // Browsers never say why (by design): a refused origin looks like a broker that is down.
    const origin = (globalThis as { location?: { origin?: string } }).location?.origin
    const page = origin ? `this page's origin ${origin}` : "this page's origin"
    const why = `the browser gives no reason: no broker listens there, or it refused ${page} (allow it with --allow-origin)`
    // Before this client ever reached a broker, the likelier of the two is a refusal: say so at
    // once, rather than retry for as long as the operation may wait.
    if (this.options.firstContact) return new ClientError('CONNECTION_REFUSED', `cannot connect to ${this.url}: ${why}`)
    return new ClientError('CONNECTION_FAILED', `cannot connect to ${this.url}${closeCode ? ` (close code ${closeCode})` : ''}: ${why}`)
  }

  private takeCorrelationId(): number {
    const id = this.nextCorrelationId
    this.nextCorrelationId = id >= CORRELATION_ID_MAX ? 1 : id + 1
    return id
  }

  private encode(api: ApiName, encode: FrameEncoder, correlationId: number, allocate?: FrameAllocator): Uint8Array {
    const frame = encode(correlationId, allocate)
    if (frame.length > this.frameBytesMax) {
      throw new ClientError('REQUEST_TOO_LARGE', `${api} request is ${frame.length} bytes, over the broker's ${this.frameBytesMax}-byte frame limit`)
    }
    return frame
  }

  private send<K extends ApiName>(api: K, encode: FrameEncoder, options: RequestOptions): Promise<bitacora.Response[K] | null> {
    if (options.expectResponse === false) {
      this.sendOnlyFrame(api, encode)
      return Promise.resolve(null)
    }
    const correlationId = this.takeCorrelationId()
    // A frame sent at once may be written into the scratch; one that waits needs its own bytes.
    const now = this.inFlight.size < this.inFlightMax
    const frame = this.encode(api, encode, correlationId, now ? this.scratch.take : undefined)
    if (!now && this.pending.length >= this.options.pendingMax) {
      return Promise.reject(new ClientError('REQUEST_QUEUE_FULL', `${this.pending.length} requests already wait on ${this.url}`))
    }
    return new Promise((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? this.options.requestTimeoutMs
      const w: Waiting = {
        correlationId, frame, api, reject, sentAt: 0,
        resolve: (response) => resolve(response === null ? null : (response[api] ?? null) as bitacora.Response[K]),
        timer: setTimeout(() => this.timeOut(w, timeoutMs), timeoutMs),
      }
      if (now) this.transmit(w)
      else this.pending.push(w)
    })
  }

  private transmit(w: Waiting): void {
    this.inFlight.set(w.correlationId, w)
    w.sentAt = Date.now()
    this.socket!.send(w.frame)
    w.frame = SENT
  }

  private timeOut(w: Waiting, timeoutMs: number): void {
    const wasSent = this.inFlight.delete(w.correlationId)
    if (!wasSent) this.pending.splice(this.pending.indexOf(w), 1)
    w.reject(new ClientError('REQUEST_TIMEOUT', `${w.api} request to ${this.url} got no response within ${timeoutMs} ms`))
    // Nothing at all received since this request went out: the connection is likely dead
    // (half-open TCP, a sleeping laptop). Drop it so the next request reconnects.
    if (wasSent && this.lastReceivedAt < w.sentAt) {
      this.close(new ClientError('CONNECTION_CLOSED', `connection to ${this.url} went silent; closing it`))
    }
  }

  private receive(data: unknown): void {
    this.lastReceivedAt = Date.now()
    const bytes = messageBytes(data)
    if (bytes === null) {
      this.close(new ClientError('PROTOCOL_ERROR', `${this.url} sent a non-binary message (set binaryType to 'arraybuffer')`))
      return
    }
    let response: bitacora.Response
    try {
      response = decodeResponse(bytes, this.options.responseBytesMax)
    } catch (err) {
      const message = err instanceof FrameError ? err.message : String(err)
      this.close(new ClientError('PROTOCOL_ERROR', `bad frame from ${this.url}: ${message}`, { cause: err }))
      return
    }
    const w = this.inFlight.get(response.correlationId)
    if (w === undefined) return // answer to a request that already timed out
    this.inFlight.delete(response.correlationId)
    clearTimeout(w.timer)
    const err = errorFromWire(response.error, `${w.api} request to ${this.url}`)
    if (err) w.reject(err)
    else if (response.api !== w.api) w.reject(new ClientError('PROTOCOL_ERROR', `${this.url} answered a ${w.api} request with ${response.api ?? 'nothing'}`))
    else w.resolve(response)
    this.drainPending()
  }

  private drainPending(): void {
    while (this.pending.length > 0 && this.inFlight.size < this.inFlightMax && this.state !== 'closed') {
      this.transmit(this.pending.shift()!)
    }
  }
}
