// Broker membership, decided by the active controller: registration, heartbeats (lease renewal,
// unfencing once caught up) and lease expiry (fencing). Pure (state.ts).
import type { BrokerRegistration, MetadataRecord } from '../../../metadata/image.js'
import { BROKER_URL_CHARS_MAX, INT32_MAX, RACK_CHARS_MAX } from '../../../metadata/limits.js'
import { isUuidHex } from '../../../metadata/uuid.js'
import { ErrorCode } from '../../../protocol/index.js'
import { refused, type BrokerLease, type ControllerState, type DecisionContext, type Decision } from './state.js'

export type RegisterRequest = BrokerRegistration

export interface HeartbeatRequest {
  readonly brokerId: number
  readonly incarnationId: string
  /** How far the broker has replayed the metadata log (exclusive end). */
  readonly metadataOffset: number
  /** Controlled shutdown: the broker is stopping (Kafka's wantShutDown). */
  readonly wantShutDown?: boolean
}

/** Whether the broker is fenced once the decision's records are committed. */
export interface MembershipAnswer {
  readonly fenced: boolean
}

/**
 * Registers a broker, fenced until it catches up. The same incarnation again (a retry) changes
 * nothing. Another incarnation replaces the registration, unless it comes from another data
 * directory while the registered one's lease still runs: two live processes under one id are
 * refused. A new incarnation on the same directory is a restart (a live process holds its
 * directory's lock), so it need not wait out the old lease.
 */
export function register(state: ControllerState, req: RegisterRequest, ctx: DecisionContext): Decision<MembershipAnswer> {
  const problem = registrationProblem(req)
  if (problem) return refused(ErrorCode.INVALID_REQUEST, problem)
  const existing = state.latest.broker(req.brokerId)
  const lease = state.lease(req.brokerId)
  const renewed = new Map(state.leases)
  if (existing && lease && existing.incarnationId === req.incarnationId && sameRegistration(existing, req)) {
    renewed.set(req.brokerId, { ...lease, expiresAtMs: ctx.nowMs + state.config.leaseMs })
    return state.decided({ fenced: existing.fenced }, [], ctx, renewed)
  }
  const live = lease !== undefined && lease.expiresAtMs > ctx.nowMs
  if (existing && live && existing.incarnationId !== req.incarnationId && existing.directoryId !== req.directoryId) {
    return refused(
      ErrorCode.DUPLICATE_BROKER_REGISTRATION,
      `broker ${req.brokerId} is registered by a live process (incarnation ${existing.incarnationId}, at ${existing.url}, directory ${existing.directoryId}, lease running for ${lease.expiresAtMs - ctx.nowMs} ms more); stop it, or give this one another id`,
    )
  }
  renewed.set(req.brokerId, { expiresAtMs: ctx.nowMs + state.config.leaseMs, catchUpOffset: ctx.logEnd + 1 })
  const { brokerId, incarnationId, url, rack, directoryId } = req
  return state.decided({ fenced: true }, [{ type: 'brokerRegistration', brokerId, incarnationId, url, rack, directoryId }], ctx, renewed)
}

/**
 * Renews the broker's lease; unfences it once it has replayed past the record that fenced it. A
 * broker shutting down (wantShutDown) is fenced at once and its lease ended, so clients move
 * away now rather than when the lease would have run out, and another process (another data
 * directory) may take its id at once; it registers afresh when it starts again.
 */
export function heartbeat(state: ControllerState, req: HeartbeatRequest, ctx: DecisionContext): Decision<MembershipAnswer> {
  if (!Number.isSafeInteger(req.metadataOffset) || req.metadataOffset < 0) {
    return refused(ErrorCode.INVALID_REQUEST, `a heartbeat's metadata offset must be a non-negative integer, got ${req.metadataOffset}`)
  }
  const broker = state.latest.broker(req.brokerId)
  const lease = state.lease(req.brokerId)
  if (!broker || !lease || broker.incarnationId !== req.incarnationId) {
    const known = broker ? ` (it is registered with incarnation ${broker.incarnationId})` : ''
    return refused(ErrorCode.BROKER_ID_NOT_REGISTERED, `broker ${req.brokerId} with incarnation ${req.incarnationId} is not registered${known}; register again`)
  }
  if (req.wantShutDown === true) {
    const ended = new Map(state.leases).set(req.brokerId, { expiresAtMs: ctx.nowMs, catchUpOffset: ctx.logEnd + 1 })
    const records: MetadataRecord[] = broker.fenced ? [] : [{ type: 'fenceBroker', brokerId: req.brokerId }]
    return state.decided({ fenced: true }, records, ctx, ended)
  }
  const renewed = new Map(state.leases).set(req.brokerId, { ...lease, expiresAtMs: ctx.nowMs + state.config.leaseMs })
  if (broker.fenced && req.metadataOffset >= lease.catchUpOffset) {
    return state.decided({ fenced: false }, [{ type: 'unfenceBroker', brokerId: req.brokerId }], ctx, renewed)
  }
  return state.decided({ fenced: broker.fenced }, [], ctx, renewed)
}

/** Fences every unfenced broker whose lease ran out by `ctx.nowMs`; answers their ids. */
export function expireLeases(state: ControllerState, ctx: DecisionContext): Decision<readonly number[]> {
  const expired = state.latest.brokers.filter((b) => !b.fenced && (state.lease(b.brokerId)?.expiresAtMs ?? -Infinity) <= ctx.nowMs)
  if (expired.length === 0) return state.decided([], [], ctx)
  const leases = new Map<number, BrokerLease>(state.leases)
  for (const b of expired) leases.set(b.brokerId, { expiresAtMs: state.lease(b.brokerId)?.expiresAtMs ?? ctx.nowMs, catchUpOffset: ctx.logEnd + 1 })
  const records = expired.map((b): MetadataRecord => ({ type: 'fenceBroker', brokerId: b.brokerId }))
  return state.decided(expired.map((b) => b.brokerId), records, ctx, leases)
}

/** Why a registration is malformed (named for the broker to fix), or null. */
export function registrationProblem(r: RegisterRequest): string | null {
  if (!Number.isInteger(r.brokerId) || r.brokerId < 0 || r.brokerId > INT32_MAX) return `a broker id must be an integer in [0, ${INT32_MAX}], got ${r.brokerId}`
  if (!isUuidHex(r.incarnationId)) return `an incarnation id must be 32 lowercase hex digits, got "${r.incarnationId}"`
  if (!isUuidHex(r.directoryId)) return `a directory id must be 32 lowercase hex digits, got "${r.directoryId}"`
  if (r.rack.length > RACK_CHARS_MAX) return `a rack name must be at most ${RACK_CHARS_MAX} characters, got ${r.rack.length}`
  if (r.url.length > BROKER_URL_CHARS_MAX) return `a broker URL must be at most ${BROKER_URL_CHARS_MAX} characters, got ${r.url.length}`
  let url: URL
  try {
    url = new URL(r.url)
  } catch {
    return `broker ${r.brokerId}'s URL "${r.url}" is not a URL (expected ws://host:port/)`
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') return `broker ${r.brokerId}'s URL "${r.url}" must start with ws:// or wss://`
  return null
}

function sameRegistration(a: BrokerRegistration, b: BrokerRegistration): boolean {
  return a.url === b.url && a.rack === b.rack && a.directoryId === b.directoryId
}
