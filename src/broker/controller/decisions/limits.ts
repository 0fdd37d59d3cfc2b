// Named limits and defaults of the active controller's decisions (state.ts and its siblings).
import { UNCOMMITTED_OFFSETS_MAX } from '../../../raft/limits.js'

/** A broker heartbeats this often by default (Kafka's broker.heartbeat.interval.ms). */
export const HEARTBEAT_INTERVAL_MS_DEFAULT = 2_000
/** A broker not heard from for this long is fenced (Kafka's broker.session.timeout.ms). */
export const BROKER_LEASE_MS_DEFAULT = 9_000
/**
 * The shortest heartbeat interval and lease a broker may be configured with: what 2 shared cores
 * hold (a busy event loop, a GC pause, a parked fetch), so a live broker is never fenced for
 * being slow. The lease must also hold two heartbeats (config.ts checks lease > 2 x interval).
 */
export const HEARTBEAT_INTERVAL_MS_MIN = 500
export const BROKER_LEASE_MS_MIN = 3_000
/** Producer ids handed to a broker at a time (Kafka's block size). */
export const PRODUCER_ID_BLOCK_SIZE = 1_000
/** Leader reports in one request: a broker restarting with this many partitions sends several. */
export const LEADER_REPORTS_PER_REQUEST_MAX = 10_000
/** A broker's leader reports give up on the controller after this (the controller channel's deadline); what was not recorded is sent again. */
export const LEADER_REPORT_TIMEOUT_MS = 10_000
/** After a failed leader report a broker sends again after this (the channel retried within the deadline already). */
export const LEADER_REPORT_RETRY_MS = 1_000
/**
 * Leadership balance: by default the active controller hands a partition's leadership back to its
 * preferred replica once another replica has led it for 30 s (long enough that a broker
 * restarting is back and caught up, short enough that a returning broker soon carries its share).
 */
export const LEADER_REBALANCE_AFTER_MS_DEFAULT = 30_000
/** The balancer looks this often at most (and at least every half of the rebalance delay). */
export const LEADER_BALANCE_CHECK_MS_MAX = 5_000
export const LEADER_BALANCE_CHECK_MS_MIN = 500
/** How long one preferred election may take (a transfer waits for its target to catch up), by default and at most. */
export const ELECT_LEADERS_TIMEOUT_MS_DEFAULT = 30_000
/** A TransferLeaders answer gets this long on top of the transfers' own bound to arrive. */
export const TRANSFER_ANSWER_MARGIN_MS = 1_000
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
/** A membership decision (the ControllerLog's decide) gives up waiting for its commit after this: no longer than the service waits to answer. */
export const CONTROLLER_DECISION_TIMEOUT_MS = MEMBERSHIP_ANSWER_TIMEOUT_MS
/** After a lease-expiry decision failed, the next one waits this long (never a busy loop). */
export const LEASE_EXPIRY_RETRY_MS = 500
/** A broker's registration or heartbeat gives up on the controller after this (the controller channel's deadline): two fit in a default lease. */
export const MEMBERSHIP_REQUEST_TIMEOUT_MS = 4_000
/** While the controller says it is fenced (catching up with the metadata log), a broker heartbeats this often, to be unfenced soon after it caught up (Kafka heartbeats every 10 ms then). */
export const FENCED_HEARTBEAT_INTERVAL_MS = 200
/** After a failed registration or heartbeat a broker tries again after a back-off doubling from min to max (at most a heartbeat interval for heartbeats). */
export const MEMBERSHIP_RETRY_BACKOFF_MS_MIN = 100
export const MEMBERSHIP_RETRY_BACKOFF_MS_MAX = 5_000

// ---- The metadata quorum (__cluster_metadata on every node: metadata-node.ts)

/** The metadata log's topic id (Kafka's too: the UUID 00…01) and its one partition. */
export const METADATA_TOPIC_ID = '00000000000000000000000000000001'
export const METADATA_PARTITION = 0
/** Its directory under the data directory. */
export const METADATA_DIR_NAME = '__cluster_metadata-0'
/** The metadata quorum's Raft timing is an entry of the broker's one table: RAFT_TIMING.metadata in src/broker/limits.ts. */
/** Voters in --controller-voters (the Raft core's own limit). */
export { VOTERS_MAX as CONTROLLER_VOTERS_MAX } from '../../../raft/limits.js'
/** Largest batch of records one decision appends: it must fit a follower's fetch (the core's 1 MiB default). */
export const METADATA_BATCH_BYTES_MAX = 1024 * 1024
/** How long a standalone node waits at start to lead its metadata log and replay it (it needs no peer: a disk-bound wait). */
export const METADATA_STARTUP_TIMEOUT_MS = 60_000
/** Admin requests (create, delete, alter) waiting for the active controller's turn; more are refused as busy. */
export const CONTROLLER_QUEUED_MAX = 1_024
/** A voter change's wait for its record to commit, and for a removal's turn, when the caller names no timeout. */
export const VOTER_CHANGE_TIMEOUT_MS_DEFAULT = 30_000
/** How often a voter change waiting for a new voter to catch up (or for the previous change to commit) asks the core again. */
export const VOTER_CHANGE_RETRY_MS = 100
/** How long DeleteTopics and AlterConfigs wait for their records to commit when the request names no timeout. */
export const ADMIN_COMMIT_TIMEOUT_MS_DEFAULT = 10_000
/**
 * How often a broker compares each partition it leads's ISR (partition/isr.ts) with the recorded
 * one, reporting changes: a shrink shows in Metadata within replica.lag.time.max.ms plus this.
 */
export const ISR_CHECK_INTERVAL_MS = 500
/**
 * A partition's ISR changes are reported at most this often (a replica at the edge of the lag
 * time could otherwise flap in and out, a metadata record each time); a change held back is
 * reported at the first check after.
 */
export const ISR_REPORT_MIN_INTERVAL_MS = 1_000

// ---- Partition reassignment (decisions/reassignment.ts, node/partition-mover.ts)

/** A leader looks at the partitions it is moving this often (and at each new image): one voter step each, at most. */
export const REASSIGN_STEP_INTERVAL_MS = 250
/** A voter change waits this long for its record to commit; then the step is tried again (from the voters then in force). */
export const REASSIGN_COMMIT_TIMEOUT_MS = 10_000
/** A leader's completion request gives up on the controller after this (the controller channel's deadline); it is sent again next round. */
export const REASSIGN_COMPLETE_TIMEOUT_MS = 10_000
/** A move that waits (a new replica down or behind) says why in the log at most this often. */
export const REASSIGN_WAIT_LOG_MS = 10_000
