// A broker's way to the active controller. Each request goes to the node `controllerId()` names
// (the metadata quorum's leader as this node knows it): over that node's peer link, or to this
// node's own handler when it is the controller. It is sent again — to whichever node is named
// then, after a short doubling back-off — when the answer is NOT_CONTROLLER, when the peer is
// unreachable or the connection is lost, and at once when the quorum names another controller
// while the request waits (a controller stopped without closing its connections never answers)
// or while it backs off (a new controller is worth asking now, not a back-off later).
// All of it within the caller's deadline, past which the answer is REQUEST_TIMED_OUT: the outcome
// is then unknown, as a request lost with a dying controller may still commit under the next.
// While no controller is known, requests go to the `contacts` (the quorum's voters) in turn: a
// broker that is not a voter learns the leader only from voters' answers to its fetches, which
// they can send once they know where it listens — and its registration, answered NOT_CONTROLLER
// by a voter that does not lead, tells that voter.
//
// Generic over the Request oneof: registration and heartbeats (controller/node/lifecycle.ts) and the
// admin requests any node forwards. `send` always resolves with a Response: the controller's
// answer (any error but NOT_CONTROLLER is the caller's to read), or an error saying why none
// came. It never rejects.
import {
  decodeRequest, encodeRequest, ErrorCode, wireError, type ApiName, type Request, type RequestProps, type Response, type ResponseProps,
} from '../../protocol/index.js'
import type { NodeId } from '../../raft/types.js'
import { CONTROLLER_RETRY_BACKOFF_MS_MAX, CONTROLLER_RETRY_BACKOFF_MS_MIN, CONTROLLER_WATCH_INTERVAL_MS, PEER_REQUEST_TIMEOUT_MS_MAX } from '../limits.js'
import type { Logger } from '../log.js'
import { AppendOrder } from '../partition/append-order.js'
import { ReadLease, type ReadBufferPool } from '../partition/read-buffers.js'
import type { ApiTable } from './api-table.js'
import { PeerRequestError, type PeerRequestBody } from './peer-requests.js'
import { PeerWarnings } from './peer-warnings.js'

/** Requests to other nodes: the PeerTransport. */
export interface PeerRequester {
  request<A extends ApiName>(to: NodeId, api: A, body: PeerRequestBody<A>, timeoutMs: number): Promise<Response>
}

/** Runs a request on this node, when it is the controller (localController below). */
export type LocalController = (request: Request) => Promise<ResponseProps | null>

export interface ControllerChannelOptions {
  readonly self: NodeId
  /** The active controller as this node knows it, or null while none is known. */
  readonly controllerId: () => NodeId | null
  /** Nodes to ask in turn while no controller is known (the metadata quorum's voters); default none: wait for one. */
  readonly contacts?: () => readonly NodeId[]
  readonly peers: PeerRequester
  readonly local: LocalController
  readonly log: Logger
}

export interface ControllerChannelStats {
  readonly sends: number
  /** Attempts after the first, over all sends. */
  readonly retries: number
  /** Sends answered REQUEST_TIMED_OUT by the channel (its caller's deadline passed). */
  readonly timedOut: number
}

/** How one attempt at one controller ended. */
type Attempt =
  | { readonly kind: 'answered'; readonly response: ResponseProps }
  /** Worth another try, at whichever controller is named then. */
  | { readonly kind: 'retry'; readonly reason: string }
  | { readonly kind: 'failed'; readonly code: ErrorCode; readonly reason: string }
  /** The quorum named another controller while this attempt waited. */
  | { readonly kind: 'moved'; readonly to: NodeId }
  | { readonly kind: 'deadline' }
  | { readonly kind: 'closed' }

export class ControllerChannel {
  private readonly closing = new AbortController()
  private readonly warnings: PeerWarnings
  private sends = 0
  private retries = 0
  private timedOut = 0
  /** The next of the contacts to ask. */
  private contactCursor = 0

  constructor(private readonly o: ControllerChannelOptions) {
    this.warnings = new PeerWarnings(o.log)
  }

  /** Sends a request of `api` to the active controller and resolves with its answer, within `timeoutMs`. */
  async send<A extends ApiName>(api: A, body: PeerRequestBody<A>, timeoutMs: number): Promise<ResponseProps> {
    if (!(Number.isInteger(timeoutMs) && timeoutMs >= 1 && timeoutMs <= PEER_REQUEST_TIMEOUT_MS_MAX)) {
      throw new RangeError(`a request to the controller needs a timeout in [1, ${PEER_REQUEST_TIMEOUT_MS_MAX}] ms, got ${timeoutMs}`)
    }
    this.sends++
    const deadline = Date.now() + timeoutMs
    let attempts = 0
    let failures = 0
    let last = 'no active controller is known (an election may be under way)'
    for (;;) {
      if (this.closing.signal.aborted) return stopping()
      const remainingMs = deadline - Date.now()
      if (remainingMs <= 0) break
      const target = this.o.controllerId() ?? this.nextContact()
      if (target !== null) {
        if (attempts++ > 0) this.retries++
        const attempt = await this.attempt(target, api, body, remainingMs)
        if (attempt.kind === 'answered') return attempt.response
        if (attempt.kind === 'failed') return { error: wireError(attempt.code, attempt.reason) }
        if (attempt.kind === 'closed') return stopping()
        if (attempt.kind === 'deadline') break
        if (attempt.kind === 'moved') {
          last = `node ${target} did not answer before node ${attempt.to} became the controller`
          continue
        }
        last = attempt.reason
      } else {
        last = 'no active controller is known (an election may be under way)'
      }
      failures++
      await this.pause(Math.min(backoffMs(failures), deadline - Date.now()), target)
    }
    this.timedOut++
    const message = `no answer from the active controller within ${timeoutMs} ms (${attempts} attempt${attempts === 1 ? '' : 's'}; last: ${last}); the ${api} request may or may not have been carried out`
    this.warnings.warn(`controller-timeout:${api}`, 'request to the controller timed out', { api, timeoutMs, attempts, last })
    return { error: wireError(ErrorCode.REQUEST_TIMED_OUT, message) }
  }

  /** The next contact other than this node, or null: none. */
  private nextContact(): NodeId | null {
    const others = (this.o.contacts?.() ?? []).filter((id) => id !== this.o.self)
    if (others.length === 0) return null
    return others[this.contactCursor++ % others.length]
  }

  stats(): ControllerChannelStats {
    return { sends: this.sends, retries: this.retries, timedOut: this.timedOut }
  }

  /** Sends waiting now, and later ones, answer NETWORK_EXCEPTION (this broker is stopping). */
  close(): void {
    this.closing.abort()
  }

  /** One attempt at `target`, ended by its outcome, a change of controller, the deadline, or close. */
  private attempt<A extends ApiName>(target: NodeId, api: A, body: PeerRequestBody<A>, remainingMs: number): Promise<Attempt> {
    const outcome = target === this.o.self ? this.runLocally(api, body) : this.askPeer(target, api, body, remainingMs)
    return new Promise<Attempt>((resolve) => {
      const done = (a: Attempt) => {
        clearTimeout(deadline)
        clearInterval(watch)
        this.closing.signal.removeEventListener('abort', closed)
        resolve(a)
      }
      const deadline = setTimeout(() => done({ kind: 'deadline' }), remainingMs)
      const watch = setInterval(() => {
        const now = this.o.controllerId()
        if (now !== null && now !== target) done({ kind: 'moved', to: now })
      }, CONTROLLER_WATCH_INTERVAL_MS)
      const closed = () => done({ kind: 'closed' })
      this.closing.signal.addEventListener('abort', closed)
      void outcome.then(done)
    })
  }

  private async askPeer<A extends ApiName>(target: NodeId, api: A, body: PeerRequestBody<A>, timeoutMs: number): Promise<Attempt> {
    try {
      return answered(await this.o.peers.request(target, api, body, timeoutMs))
    } catch (err) {
      if (err instanceof PeerRequestError) return peerFailure(err)
      this.o.log.error('request to the controller failed', { api, node: target, error: (err as Error).stack ?? String(err) })
      return { kind: 'failed', code: ErrorCode.UNKNOWN_SERVER_ERROR, reason: `the ${api} request to node ${target} failed: ${(err as Error).message}` }
    }
  }

  /** The request through this node's own handler, as decoded from the wire (so it sees what a peer's would). */
  private async runLocally<A extends ApiName>(api: A, body: PeerRequestBody<A>): Promise<Attempt> {
    try {
      const request = decodeRequest(encodeRequest({ correlationId: 0, [api]: body } as RequestProps), Number.MAX_SAFE_INTEGER)
      const response = await this.o.local(request)
      if (response === null) return { kind: 'failed', code: ErrorCode.UNKNOWN_SERVER_ERROR, reason: `this node's ${api} handler gave no answer` }
      return answered(response)
    } catch (err) {
      this.o.log.error('request to the controller failed on this node', { api, error: (err as Error).stack ?? String(err) })
      return { kind: 'failed', code: ErrorCode.UNKNOWN_SERVER_ERROR, reason: `this node failed the ${api} request: ${(err as Error).message}` }
    }
  }

  /** Waits out a back-off, ended early by close or by the quorum naming a controller other than `tried` (a new one is worth asking at once). */
  private pause(ms: number, tried: NodeId | null): Promise<void> {
    if (ms <= 0 || this.closing.signal.aborted) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      const watch = setInterval(() => {
        const now = this.o.controllerId()
        if (now !== null && now !== tried) done()
      }, CONTROLLER_WATCH_INTERVAL_MS)
      const signal = this.closing.signal
      function done() {
        clearTimeout(timer)
        clearInterval(watch)
        signal.removeEventListener('abort', done)
        resolve()
      }
      signal.addEventListener('abort', done)
    })
  }
}

/**
 * A LocalController running requests through this broker's API table, as from a peer session
 * of this node itself (handlers of peer-only APIs check the node the connection proved).
 */
export function localController(apis: ApiTable, self: NodeId, readBuffers: ReadBufferPool): LocalController {
  return async (request) => {
    const handler = apis.get(request.api!)
    if (handler === undefined) return { error: wireError(ErrorCode.INVALID_REQUEST, `this broker does not serve the ${String(request.api)} API`) }
    const lease = new ReadLease(readBuffers)
    try {
      return await handler(request, { closed: new AbortController().signal, appendOrder: new AppendOrder(), lease, peer: self })
    } finally {
      lease.release()
    }
  }
}

function answered(response: ResponseProps): Attempt {
  const error = response.error
  if (error != null && error.code === ErrorCode.NOT_CONTROLLER) return { kind: 'retry', reason: `NOT_CONTROLLER: ${error.message ?? ''}` }
  return { kind: 'answered', response }
}

function peerFailure(err: PeerRequestError): Attempt {
  if (err.retriable) return { kind: 'retry', reason: err.message }
  if (err.code === 'PEER_LINK_CLOSED') return { kind: 'closed' }
  const code = err.code === 'PEER_REQUEST_TOO_LARGE' ? ErrorCode.INVALID_REQUEST : ErrorCode.UNKNOWN_SERVER_ERROR
  return { kind: 'failed', code, reason: err.message }
}

function stopping(): ResponseProps {
  return { error: wireError(ErrorCode.NETWORK_EXCEPTION, 'this broker is stopping; send the request to another node') }
}

/** Doubling from min per failure up to max. */
function backoffMs(failures: number): number {
  return Math.min(CONTROLLER_RETRY_BACKOFF_MS_MAX, CONTROLLER_RETRY_BACKOFF_MS_MIN * 2 ** Math.min(failures - 1, 30))
}
