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
