// A broker's membership in the cluster, the shell around lifecycle-state.ts: it registers with
// the active controller when started (node id, a fresh incarnation id for this process, URL,
// rack, the data directory's id), then heartbeats with how far the broker has replayed the
// metadata log, through the controller channel (net/controller-channel.ts); it owns the one timer
// and tells listeners when the broker is fenced or unfenced — by the controller, or by itself
// when its own lease ran out. A fenced broker neither leads nor campaigns for data partitions
// (the listener sets the Raft cores' fence switch); the metadata log is never fenced.
import { randomUUID } from 'node:crypto'
import { uuidBytes } from '../../../metadata/uuid.js'
import { ErrorCode, errorName, isRetriable, type bitacora, type ResponseProps } from '../../../protocol/index.js'
import type { Logger } from '../../log.js'
import {
  BROKER_LEASE_MS_DEFAULT, FENCED_HEARTBEAT_INTERVAL_MS, HEARTBEAT_INTERVAL_MS_DEFAULT, MEMBERSHIP_REQUEST_TIMEOUT_MS,
  MEMBERSHIP_RETRY_BACKOFF_MS_MAX, MEMBERSHIP_RETRY_BACKOFF_MS_MIN,
} from '../decisions/limits.js'
import { LifecycleState, type LifecycleAnswer, type LifecycleOutput, type LifecycleStatus } from '../decisions/lifecycle-state.js'

/** Who this broker is, as it registers. */
export interface BrokerIdentity {
  readonly brokerId: number
  /** ws://host:port/ — where clients and brokers reach it. */
  readonly url: string
  /** '' for none. */
  readonly rack: string
  /** The data directory's id (meta.properties), 32 hex digits. */
  readonly directoryId: string
}

/** Requests to the active controller (net/controller-channel.ts): resolve with its answer or an error saying why none came; never reject. */
export interface ControllerRequests {
  send(api: 'brokerRegistration', body: bitacora.IBrokerRegistrationRequest, timeoutMs: number): Promise<ResponseProps>
  send(api: 'brokerHeartbeat', body: bitacora.IBrokerHeartbeatRequest, timeoutMs: number): Promise<ResponseProps>
}

export interface BrokerLifecycleOptions {
  readonly identity: BrokerIdentity
  readonly controller: ControllerRequests
  /** How far this broker has replayed the metadata log (exclusive end): sent in each heartbeat. */
  readonly metadataOffset: () => number
  readonly log: Logger
  /** Default HEARTBEAT_INTERVAL_MS_DEFAULT (2 s). */
  readonly heartbeatIntervalMs?: number
  /** Default BROKER_LEASE_MS_DEFAULT (9 s): the same as the controller's. */
  readonly leaseMs?: number
  /** How long one registration or heartbeat may try (the controller channel's deadline); default MEMBERSHIP_REQUEST_TIMEOUT_MS. */
  readonly requestTimeoutMs?: number
}

export type FencedListener = (fenced: boolean, reason: string) => void

export class BrokerLifecycle {
  /** New for every process start: tells a restarted broker from a second live one. */
  readonly incarnationId = randomUUID().replaceAll('-', '')
  private readonly core: LifecycleState
  private readonly requestTimeoutMs: number
  private readonly listeners = new Set<FencedListener>()
  private timer: NodeJS.Timeout | null = null

  constructor(private readonly o: BrokerLifecycleOptions) {
    const heartbeatIntervalMs = o.heartbeatIntervalMs ?? HEARTBEAT_INTERVAL_MS_DEFAULT
    this.core = new LifecycleState({
      heartbeatIntervalMs,
      fencedHeartbeatIntervalMs: Math.min(FENCED_HEARTBEAT_INTERVAL_MS, heartbeatIntervalMs),
      leaseMs: o.leaseMs ?? BROKER_LEASE_MS_DEFAULT,
      retryBackoffMsMin: MEMBERSHIP_RETRY_BACKOFF_MS_MIN,
      retryBackoffMsMax: MEMBERSHIP_RETRY_BACKOFF_MS_MAX,
    })
    this.requestTimeoutMs = o.requestTimeoutMs ?? MEMBERSHIP_REQUEST_TIMEOUT_MS
  }

  /** Registers with the controller, then heartbeats until stop(). */
  start(): void {
    this.carryOut(this.core.start(Date.now()))
  }

  /** Whether this broker is fenced now (it starts fenced). */
  get fenced(): boolean {
    return this.core.status().fenced
  }

  /** Calls `listener` on each change of the fenced state; returns a function that removes it. */
  onFencedChange(listener: FencedListener): () => void {
    this.listeners.add(listener)
    return () => void this.listeners.delete(listener)
  }

  status(): LifecycleStatus & { readonly incarnationId: string } {
    return { ...this.core.status(), incarnationId: this.incarnationId }
  }

  /**
   * Controlled shutdown (Kafka's): stops heartbeating, then tells the controller this broker is
   * going (a heartbeat with wantShutDown), which fences it at once rather than when its lease
   * runs out. Resolves true once the controller committed that, false if this broker was not
   * registered or no answer came within `timeoutMs`. Never rejects.
   */
  async shutDown(timeoutMs: number): Promise<boolean> {
    const registered = this.core.status().phase === 'registered'
    this.stop()
    if (!registered) return false
    const { brokerId } = this.o.identity
    const body = { brokerId, incarnationId: uuidBytes(this.incarnationId), metadataOffset: this.o.metadataOffset(), wantShutDown: true }
    const response = await this.o.controller.send('brokerHeartbeat', body, timeoutMs).catch((err: unknown) => ({
      error: { code: ErrorCode.UNKNOWN_SERVER_ERROR, message: (err as Error).message },
    }))
    const answer = lifecycleAnswer(response, 'brokerHeartbeat')
    if (answer.ok) this.o.log.info('the controller fenced this broker for its shutdown', { brokerId })
    else this.o.log.warn('the controller did not confirm the shutdown; its lease will fence this broker', { brokerId, code: errorName(answer.code), error: answer.message })
    return answer.ok
  }

  /** No more requests; an answer on its way is ignored. The fenced state stays as it was. */
  stop(): void {
    this.core.stop()
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
  }

  private carryOut(outputs: readonly LifecycleOutput[]): void {
    for (const out of outputs) {
      switch (out.kind) {
        case 'register':
        case 'heartbeat':
          void this.send(out.kind)
          break
        case 'fenced':
          this.o.log[out.fenced ? 'warn' : 'info'](out.fenced ? 'broker fenced' : 'broker unfenced', { brokerId: this.o.identity.brokerId, reason: out.reason })
          for (const listener of this.listeners) listener(out.fenced, out.reason)
          break
        case 'failed':
          this.logFailure(out)
          break
        case 'recovered':
          this.o.log.info('the controller answers again', { brokerId: this.o.identity.brokerId, failedRequests: out.failures })
          break
      }
    }
    this.arm()
  }

  private async send(request: 'register' | 'heartbeat'): Promise<void> {
    const { brokerId, url, rack, directoryId } = this.o.identity
    const incarnationId = uuidBytes(this.incarnationId)
    let response: ResponseProps
    try {
      response = request === 'register'
        ? await this.o.controller.send('brokerRegistration', { brokerId, incarnationId, url, rack, directoryId: uuidBytes(directoryId) }, this.requestTimeoutMs)
        : await this.o.controller.send('brokerHeartbeat', { brokerId, incarnationId, metadataOffset: this.o.metadataOffset() }, this.requestTimeoutMs)
    } catch (err) {
      // The channel never rejects; should it, the core must still hear of the request (or it waits forever).
      this.o.log.error('a membership request failed unexpectedly', { request, error: (err as Error).stack ?? String(err) })
      response = { error: { code: ErrorCode.UNKNOWN_SERVER_ERROR, message: (err as Error).message } }
    }
    this.carryOut(this.core.answered(Date.now(), lifecycleAnswer(response, request === 'register' ? 'brokerRegistration' : 'brokerHeartbeat')))
  }

  /** One timer, at the core's next wake-up. */
  private arm(): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    const wakeAt = this.core.nextWakeMs()
    if (wakeAt === null) return
    this.timer = setTimeout(() => {
      this.timer = null
      this.carryOut(this.core.tick(Date.now()))
    }, Math.max(0, wakeAt - Date.now())).unref()
  }

  /** The first failure in a row, and every failure the broker cannot fix by waiting, are logged. */
  private logFailure(out: Extract<LifecycleOutput, { kind: 'failed' }>): void {
    if (out.retriable && out.failures > 1) return
    const fields = { brokerId: this.o.identity.brokerId, request: out.request, code: errorName(out.code), error: out.message, retryInMs: out.retryInMs }
    if (out.retriable || out.code === ErrorCode.BROKER_ID_NOT_REGISTERED) this.o.log.warn('the controller did not answer; trying again', fields)
    else this.o.log.error('the controller refused this broker; trying again', fields)
  }
}

/** The controller's Response to a registration or heartbeat, for the core. */
function lifecycleAnswer(response: ResponseProps, api: 'brokerRegistration' | 'brokerHeartbeat'): LifecycleAnswer {
  const error = response.error
  if (error != null && (error.code ?? ErrorCode.NONE) !== ErrorCode.NONE) {
    const code = error.code ?? ErrorCode.UNKNOWN_SERVER_ERROR
    return { ok: false, code, message: error.message ?? '', retriable: isRetriable(code) }
  }
  const body = response[api]
  if (body == null) return { ok: false, code: ErrorCode.UNKNOWN_SERVER_ERROR, message: `the controller answered a ${api} request with something else`, retriable: true }
  return { ok: true, fenced: body.fenced ?? false }
}
