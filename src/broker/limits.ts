// The broker's limits. BrokerLimits are settings (config.ts names them, `bitacora broker --help`
// lists them); the fixed bounds below them are not, and each says why it is what it is.
import { FRAME_BYTES_MAX_DEFAULT, IN_FLIGHT_REQUESTS_MAX_DEFAULT } from '../protocol/index.js'

export interface BrokerLimits {
  /** Largest WebSocket message accepted (ws maxPayload); larger closes the connection (1009). */
  frameBytesMax: number
  /** Largest record batch accepted in a produce request (Kafka's message.max.bytes). */
  batchBytesMax: number
  /** Largest decompressed records section of one compressed batch (bomb protection). */
  decompressedBytesMax: number
  /** Requests one connection may have in flight; more get TOO_MANY_IN_FLIGHT. */
  inFlightRequestsMax: number
  /** Open TCP connections; more are refused with HTTP 503 naming this limit. */
  connectionsMax: number
  /** Open connections from one remote address (loopback exempt unless limitLoopbackConnections). */
  connectionsPerIpMax: number
  /** A connection must finish its protocol handshake this soon after it is accepted. */
  handshakeTimeoutMs: number
  /** A connection with no request in flight for this long is closed (Kafka's connections.max.idle.ms). */
  idleTimeoutMs: number
  /** Largest fetch response (Kafka's fetch.max.bytes); a first batch is sent whole. */
  fetchResponseBytesMax: number
  /** Longest a fetch may wait for min_bytes. */
  fetchMaxWaitMsMax: number
  /** A connection whose unsent output passes this stops being read until it drains. */
  sendBufferBytesMax: number
  /** Topics one broker holds, partitions one topic may have. */
  topicsMax: number
  partitionsPerTopicMax: number
}

export const DEFAULT_LIMITS: BrokerLimits = {
  frameBytesMax: FRAME_BYTES_MAX_DEFAULT,
  batchBytesMax: 1024 * 1024 + 12, // Kafka's message.max.bytes default: 1 MiB + log overhead
  decompressedBytesMax: 32 * 1024 * 1024,
  inFlightRequestsMax: IN_FLIGHT_REQUESTS_MAX_DEFAULT,
  connectionsMax: 1024,
  connectionsPerIpMax: 256,
  handshakeTimeoutMs: 10_000,
  idleTimeoutMs: 600_000,
  fetchResponseBytesMax: 16 * 1024 * 1024,
  fetchMaxWaitMsMax: 30_000,
  sendBufferBytesMax: 8 * 1024 * 1024,
  topicsMax: 10_000,
  partitionsPerTopicMax: 1024,
}

// ---- Fixed bounds

/** Response bytes (fetch max_bytes) one connection's running fetches may add up to. */
export const FETCH_BYTES_EXECUTING_MAX = 64 * 1024 * 1024
/**
 * Partitions whose fetch ends one connection remembers for chained fetches (fetch-chains.ts):
 * past it the least recently fetched is forgotten, and a fetch chained after it reads its
 * fetch_offset instead (correct, only a repeat the client skips). ~100 bytes each.
 */
export const FETCH_CHAIN_PARTITIONS_MAX = 4096
/** Produce timeout (acks=all) when the request names none, and the most a request may ask for. */
export const PRODUCE_TIMEOUT_MS_DEFAULT = 30_000
export const PRODUCE_TIMEOUT_MS_MAX = 300_000
/** How long CreateTopics waits for new partitions' leaders when the request names no timeout. */
export const CREATE_READY_TIMEOUT_MS = 10_000
/** The longest an admin request (create, delete, alter) may wait; a longer timeout asked for is cut to this (a forwarded one must fit a peer request's bound). */
export const ADMIN_TIMEOUT_MS_MAX = 300_000
/**
 * A node forwarding an admin request to the active controller gives it the request's timeout
 * less this, so the controller's own answer (done, or not committed in time) comes back before
 * the forwarding node's deadline and the client hears which.
 */
export const FORWARD_TIMEOUT_MARGIN_MS = 500
/**
 * AddVoter: how long the new voter may take to catch up as an observer when the request names
 * no time (KIP-853 adds it only once caught up), and the most a request may ask for. A node
 * that does not catch up in time is refused; the quorum never waits on it.
 */
export const ADD_VOTER_TIMEOUT_MS_DEFAULT = 60_000
export const ADD_VOTER_TIMEOUT_MS_MAX = 600_000
/** Topic creations, deletions and config changes waiting their turn. */
export const ADMIN_QUEUED_MAX = 1024
/** The connection deadline sweep runs this often at most (and at least every quarter of the shortest timeout). */
export const SWEEP_INTERVAL_MS_MAX = 1000
/** At most one log line per kind of refused connection per this interval (the rest are counted). */
export const REFUSAL_LOG_INTERVAL_MS = 10_000

// ---- Between brokers: the peer links carrying Raft frames and requests (net/peer-*.ts)

export interface PeerLimits {
  /** Frames queued for one peer (while its connection opens, or within one event-loop turn); more are dropped. */
  queuedFramesMax: number
  /** Bytes of frames queued for one peer; more are dropped (Raft re-sends what it still needs). */
  queuedBytesMax: number
  /** Bytes one (topic, partition) may have queued for one peer, so one busy partition cannot crowd out the rest. */
  pairQueuedBytesMax: number
  /** Unsent bytes on a peer's socket past which new frames to it are dropped (a slow or stalled peer). */
  sendBufferBytesMax: number
  /** TCP connect, WebSocket upgrade and peer handshake must finish within this. */
  connectTimeoutMs: number
  /** Back-off between attempts to reach a peer: doubles per failure from min to max, jittered (half to all of it). */
  reconnectBackoffMsMin: number
  reconnectBackoffMsMax: number
  /** Requests to one peer waiting for answers (sent, or queued while connecting); more are refused at once (PEER_REQUESTS_FULL). */
  requestsInFlightMax: number
}

export const DEFAULT_PEER_LIMITS: PeerLimits = {
  queuedFramesMax: 100_000, // 1,000 partitions x a few messages each, with room
  queuedBytesMax: 64 * 1024 * 1024, // 64 fetch responses of the core's 1 MiB default
  pairQueuedBytesMax: 4 * 1024 * 1024,
  sendBufferBytesMax: 16 * 1024 * 1024,
  connectTimeoutMs: 10_000,
  reconnectBackoffMsMin: 100,
  reconnectBackoffMsMax: 5_000, // well under an election timeout: a restarted peer is back in time to vote
  requestsInFlightMax: 128, // half a broker's default per-connection limit (256): a peer never hits TOO_MANY_IN_FLIGHT
}

/**
 * Largest answer a peer link reads (raft frames are never answered): handshakes, errors and
 * answers to requests forwarded to the controller, of which the largest is a CreateTopics
 * result for 1,000 topics (names of up to 249 characters, an error message each): under 1 MiB.
 */
export const PEER_RESPONSE_BYTES_MAX = 4 * 1024 * 1024
/** The longest timeout a request to a peer may have (a caller's bug past it). */
export const PEER_REQUEST_TIMEOUT_MS_MAX = 300_000
/**
 * A broker stopping (SIGTERM) hands the metadata leadership over and has the controller fence it
 * (controlled shutdown) within this, then closes whatever happened: a few commits' time on a
 * healthy cluster, and a bound on a broken one (a SIGKILL skips it all).
 */
export const CONTROLLED_SHUTDOWN_TIMEOUT_MS = 5_000
/** Closing the peer links waits this long for queued frames (a resigning leader's EndQuorumEpoch) to leave. */
export const PEER_CLOSE_TIMEOUT_MS = 2_000
/** Repeating peer warnings (drops, unreachable peers, malformed frames): at most one line per kind per interval. */
export const PEER_WARNING_INTERVAL_MS = 10_000

// ---- Requests to the active controller (net/controller-channel.ts)

/**
 * While a request waits for the controller's answer, the channel checks this often whether the
 * metadata quorum now names another controller, and if so sends the request there (a controller
 * that stopped without closing its connections, SIGSTOP, never answers).
 */
export const CONTROLLER_WATCH_INTERVAL_MS = 100
/** Back-off between attempts (NOT_CONTROLLER, unreachable, connection lost, none known): doubling from min to max. */
export const CONTROLLER_RETRY_BACKOFF_MS_MIN = 50
export const CONTROLLER_RETRY_BACKOFF_MS_MAX = 1_000

// ---- Raft timing: the one table every Raft group of the broker takes its timing from

/**
 * How long a Raft group waits, in milliseconds; partition/raft-timing.ts turns it into ticks of
 * the broker's tick loop (`tick-ms`) and refuses a timing the core could not keep. Peers share
 * one WebSocket per pair of brokers and one event loop drives every replica, so a busy turn, a
 * GC pause or a long queue of frames must not look like a dead peer: timeouts are seconds, not
 * hundreds of milliseconds. A leader whose process died is noticed sooner than by its silence: its
 * peer links close, and a follower pre-votes within `leaderLinkDropMs`.
 */
export interface RaftTiming {
  /** A follower that heard nothing from its leader this long pre-votes; a leader that heard from no majority resigns (check-quorum). */
  fetchTimeoutMs: number
  /** The random part: a follower campaigns after fetch timeout + [0, this), a campaign retries after [this, 2 x this). */
  electionTimeoutMs: number
  /** How long a leader parks a follower's fetch that has nothing new (answered at once when data or the HW moves). */
  fetchMaxWaitMs: number
  /** A follower re-sends an unanswered fetch after this (> the parked wait plus a round trip). */
  fetchRetryMs: number
  /** A new leader re-sends BeginQuorumEpoch to voters that have not fetched from it, this often. */
  beginQuorumRetryMs: number
  /** After the peer link to its leader closed, a follower pre-votes within (0, this], at random so followers do not collide. */
  leaderLinkDropMs: number
}

/** Every Raft group's timing (data partitions, thousands of groups on one event loop, take it as is). */
const PARTITION_RAFT_TIMING: RaftTiming = {
  // Three parked-fetch round trips lost before a follower gives up on its leader: a fetch retried
  // at 1 s and 2 s (fetchRetryMs) still answers in time, even with 1,000 partitions' frames queued.
  fetchTimeoutMs: 3_000,
  // After the fetch timeout, spreads followers' campaigns over 1.5 s, so the first usually finds the
  // others willing rather than a split vote; wide against a busy turn of the event loop.
  electionTimeoutMs: 1_500,
  // The top of issue 17's 250-500 ms: an idle follower costs one fetch round trip per 500 ms, so
  // 1,000 idle partitions cost a few thousand small frames a second, coalesced per peer. Kafka's
  // replica.fetch.wait.max.ms is 500 ms too.
  fetchMaxWaitMs: 500,
  // Twice the parked wait: a parked fetch comes back first, a lost one is re-sent well before the timeout.
  fetchRetryMs: 1_000,
  // One parked wait: a voter that missed the first notice learns its leader long before it would campaign.
  beginQuorumRetryMs: 500,
  // A closed link is news, not a guess, so no reason to wait long: 300 ms spreads the followers'
  // pre-votes over six 50 ms ticks of unaligned clocks, so two rarely land within one loopback
  // round trip of each other (a split vote), and a failover still takes well under a second.
  // A leader that lives on is not disturbed: its followers refuse the pre-vote (KIP-996).
  leaderLinkDropMs: 300,
}

/**
 * The timing of every Raft group in the broker: `partition` for data partitions, `metadata` for
 * `__cluster_metadata`, which differs only in the entries it names, each with its reason.
 */
export const RAFT_TIMING: { readonly partition: RaftTiming; readonly metadata: RaftTiming } = {
  partition: PARTITION_RAFT_TIMING,
  metadata: {
    ...PARTITION_RAFT_TIMING,
    // Kafka's KRaft defaults (controller.quorum.fetch.timeout.ms 2 s, election 1 s): one group per
    // node, so its timers cost nothing, while every admin request and broker fencing waits on
    // its failover. Still above the 1.5 s floor a busy 2-core machine holds (RAFT_FETCH_TIMEOUT_MS_MIN).
    fetchTimeoutMs: 2_000,
    electionTimeoutMs: 1_000,
  },
}

/** Tests may shorten the timing, but not below what 2 shared cores can hold (issue 17): a fetch timeout of 1.5 s. */
export const RAFT_FETCH_TIMEOUT_MS_MIN = 1_500

/**
 * Data partitions one DescribeQuorum may name (api/describe-replicas.ts): each answer is ~100
 * bytes per replica, so 1,000 RF=3 partitions stay well inside a frame; clients send several.
 */
export const DESCRIBE_REPLICAS_PARTITIONS_MAX = 1_000
/** How long InitProducerId waits for a block of producer ids from the active controller (an election may be under way). */
export const PRODUCER_ID_BLOCK_WAIT_MS = 10_000
/**
 * How long a produce or InitProducerId naming a producer id beyond this broker's metadata image's
 * producer-id blocks waits for the image to show that id's block (the block is committed before
 * any broker hands out its ids, but this broker may apply it a heartbeat later) before refusing
 * it as never handed out.
 */
export const PRODUCER_ID_IMAGE_WAIT_MS = 2_000
