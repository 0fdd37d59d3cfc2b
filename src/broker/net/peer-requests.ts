// The requests one peer link has sent (or will send once connected) and waits answers for.
// Correlation ids run from 2 up (the peer handshake uses 1; raft frames go with 0 and are never
// answered), at most `inFlightMax` requests wait at once, and each is settled exactly once: by
// its answer, its timeout, the loss of the connection, or the link's close. Every failure is a
// PeerRequestError with a stable code that says whether trying again may succeed. Timers only:
// the link owns the socket.
import type { ApiName, RequestProps, Response } from '../../protocol/index.js'
import type { NodeId } from '../../raft/types.js'
import { PEER_REQUEST_TIMEOUT_MS_MAX } from '../limits.js'

/** The body of a request of `api` (a field of the Request oneof). */
export type PeerRequestBody<A extends ApiName> = NonNullable<RequestProps[A]>

/** Why a request to a peer got no answer, and whether trying again (here or elsewhere) may help. */
const RETRIABLE = {
  /** The peer could not be reached (the connection failed to open, or the link is backing off after a failure): the request was never sent. */
  PEER_UNREACHABLE: true,
  /** The connection closed after the request was sent: the peer may or may not have acted on it. */
  PEER_CONNECTION_LOST: true,
  /** No answer within the request's timeout: the peer may or may not have acted on it. */
  PEER_REQUEST_TIMED_OUT: true,
  /** The link has its maximum of requests waiting for answers (PeerLimits.requestsInFlightMax). */
  PEER_REQUESTS_FULL: true,
  /** The peer's socket holds more than PeerLimits.sendBufferBytesMax unsent bytes: it is not reading. */
  PEER_SLOW: true,
  /** No URL is known for the node (the peer list may learn it). */
  PEER_UNKNOWN_NODE: true,
  /** The request alone is larger than the peer's frame limit. */
  PEER_REQUEST_TOO_LARGE: false,
  /** The answer carried another API than the request's (a bug at the peer). */
  PEER_BAD_ANSWER: false,
  /** The link was closed: this broker is stopping. */
  PEER_LINK_CLOSED: false,
} as const

export type PeerRequestErrorCode = keyof typeof RETRIABLE

export class PeerRequestError extends Error {
  override readonly name = 'PeerRequestError'
  readonly retriable: boolean
  constructor(
    readonly code: PeerRequestErrorCode,
    /** The peer the request was for. */
    readonly node: NodeId,
    message: string,
  ) {
    super(`${code}: ${message}`)
    this.retriable = RETRIABLE[code]
  }
}

/** The first correlation id of a request (1 is the peer handshake's). */
export const FIRST_REQUEST_CORRELATION_ID = 2
const CORRELATION_ID_MAX = 0xffffffff // uint32 on the wire

interface Pending {
  readonly api: ApiName
  /** The encoded request until it is on the wire, then null. */
  frame: Uint8Array | null
  readonly resolve: (answer: Response) => void
  readonly reject: (err: PeerRequestError) => void
  readonly timer: NodeJS.Timeout
}

export class PendingRequests {
  private readonly pending = new Map<number, Pending>()
  private nextId = FIRST_REQUEST_CORRELATION_ID
  /** Answers that came after their request had timed out. */
  lateAnswers = 0

  constructor(
    private readonly node: NodeId,
    private readonly inFlightMax: number,
  ) {
    if (!(Number.isInteger(inFlightMax) && inFlightMax >= 1)) throw new RangeError(`requests in flight max must be a positive integer, got ${inFlightMax}`)
  }

  /** Requests waiting for an answer, sent or not. */
  get size(): number {
    return this.pending.size
  }

  /**
   * Takes a correlation id for a request of `api`, encoded by `encode` with it, that fails with
   * PEER_REQUEST_TIMED_OUT after `timeoutMs`; or refuses it (PEER_REQUESTS_FULL) at once.
   */
  add(api: ApiName, encode: (correlationId: number) => Uint8Array, timeoutMs: number): Promise<Response> {
    if (!(Number.isInteger(timeoutMs) && timeoutMs >= 1 && timeoutMs <= PEER_REQUEST_TIMEOUT_MS_MAX)) {
      throw new RangeError(`a peer request's timeout must be an integer in [1, ${PEER_REQUEST_TIMEOUT_MS_MAX}] ms, got ${timeoutMs}`)
    }
    if (this.pending.size >= this.inFlightMax) {
      return Promise.reject(new PeerRequestError('PEER_REQUESTS_FULL', this.node, `${this.inFlightMax} requests to node ${this.node} are waiting for answers; retry once some are answered`))
    }
    const id = this.takeId()
    const frame = encode(id)
    return new Promise<Response>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.settle(id)?.reject(new PeerRequestError('PEER_REQUEST_TIMED_OUT', this.node, `node ${this.node} did not answer a ${api} request within ${timeoutMs} ms`))
      }, timeoutMs)
      this.pending.set(id, { api, frame, resolve, reject, timer })
    })
  }

  /** Requests not yet on the wire, oldest first, as (correlation id, frame). */
  unsent(): Array<[number, Uint8Array]> {
    const out: Array<[number, Uint8Array]> = []
    for (const [id, p] of this.pending) if (p.frame !== null) out.push([id, p.frame])
    return out
  }

  sent(id: number): void {
    const p = this.pending.get(id)
    if (p !== undefined) p.frame = null
  }

  /** Settles the request `answer` is for; false if none waits (it timed out, or the id is not ours). */
  answered(answer: Response): boolean {
    const p = this.settle(answer.correlationId)
    if (p === undefined) {
      this.lateAnswers++
      return false
    }
    if (answer.error == null && answer.api !== p.api) {
      p.reject(new PeerRequestError('PEER_BAD_ANSWER', this.node, `node ${this.node} answered a ${p.api} request with ${answer.api ?? 'nothing'}`))
    } else {
      p.resolve(answer)
    }
    return true
  }

  fail(id: number, err: PeerRequestError): void {
    this.settle(id)?.reject(err)
  }

  /** Fails every waiting request: `error(sent)` says how, by whether it reached the wire. */
  failAll(error: (sent: boolean) => PeerRequestError): number {
    const ids = [...this.pending.keys()]
    for (const id of ids) {
      const p = this.settle(id)!
      p.reject(error(p.frame === null))
    }
    return ids.length
  }

  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id)
    if (p === undefined) return undefined
    clearTimeout(p.timer)
    this.pending.delete(id)
    return p
  }

  /** The next id not waiting for an answer (at most inFlightMax are), wrapping below 2^32. */
  private takeId(): number {
    for (;;) {
      const id = this.nextId
      this.nextId = id >= CORRELATION_ID_MAX ? FIRST_REQUEST_CORRELATION_ID : id + 1
      if (!this.pending.has(id)) return id
    }
  }
}
