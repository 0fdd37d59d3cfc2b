// Named limits and defaults of the active controller's decisions (state.ts and its siblings).
import { UNCOMMITTED_OFFSETS_MAX } from '../../raft/limits.js'

/** A broker heartbeats this often by default (Kafka's broker.heartbeat.interval.ms). */
export const HEARTBEAT_INTERVAL_MS_DEFAULT = 2_000
/** A broker not heard from for this long is fenced (Kafka's broker.session.timeout.ms). */
export const BROKER_LEASE_MS_DEFAULT = 9_000
/** Producer ids handed to a broker at a time (Kafka's block size). */
export const PRODUCER_ID_BLOCK_SIZE = 1_000
/** Leader reports in one request: a broker restarting with this many partitions sends several. */
export const LEADER_REPORTS_PER_REQUEST_MAX = 10_000
/** Topics (create, delete) or config resources in one admin request. */
export const ADMIN_ITEMS_PER_REQUEST_MAX = 1_000
/** Batches appended and not yet committed: the Raft core refuses proposals past this many offsets, and a batch takes one at least. */
export const PENDING_BATCHES_MAX = UNCOMMITTED_OFFSETS_MAX

// ---- Broker membership: the active controller's shell (membership-service.ts) and each broker's lifecycle (lifecycle.ts)

/**
 * A registration or heartbeat whose records do not commit within this is answered
 * REQUEST_TIMED_OUT (the broker tries again): far longer than a healthy commit, and shorter than
 * the broker's own wait (MEMBERSHIP_REQUEST_TIMEOUT_MS), so the broker hears why.
 */
export const MEMBERSHIP_ANSWER_TIMEOUT_MS = 3_000
/** After a lease-expiry decision failed, the next one waits this long (never a busy loop). */
export const LEASE_EXPIRY_RETRY_MS = 500
/** A broker's registration or heartbeat gives up on the controller after this (the controller channel's deadline): two fit in a default lease. */
export const MEMBERSHIP_REQUEST_TIMEOUT_MS = 4_000
/** While the controller says it is fenced (catching up with the metadata log), a broker heartbeats this often, to be unfenced soon after it caught up (Kafka heartbeats every 10 ms then). */
export const FENCED_HEARTBEAT_INTERVAL_MS = 200
/** After a failed registration or heartbeat a broker tries again after a back-off doubling from min to max (at most a heartbeat interval for heartbeats). */
export const MEMBERSHIP_RETRY_BACKOFF_MS_MIN = 100
export const MEMBERSHIP_RETRY_BACKOFF_MS_MAX = 5_000
