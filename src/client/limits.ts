// Limits and defaults of the client. Every queue and buffer the client keeps is bounded by
// one of these (or by an option that defaults to one). Timeouts are generous because browser
// tabs in the background throttle timers (to once a second, or once a minute after a while):
// a timer that fires late must not turn a healthy connection into a failure storm.

import { ClientError } from './errors.js'

export const CLIENT_VERSION = '0.1.0'

// ---- Connection ----

/** Time to open the WebSocket and complete the handshake, both together (a stalled broker fails here). */
export const CONNECT_TIMEOUT_MS_DEFAULT = 15_000
/** Time a request may wait for its response (fetches add their max_wait_ms to it). */
export const REQUEST_TIMEOUT_MS_DEFAULT = 30_000
/** Requests in flight per connection; the broker's handshake limit lowers it further. */
export const IN_FLIGHT_REQUESTS_MAX_DEFAULT = 64
/** Requests queued behind the in-flight ones; past it a request is refused at once. */
export const PENDING_REQUESTS_MAX_DEFAULT = 1024
/** Largest response frame the client accepts (a fetch response plus protobuf overhead). */
export const RESPONSE_BYTES_MAX_DEFAULT = 64 * 1024 * 1024
/** Largest request frame the client sends before the broker announces its own limit. */
export const REQUEST_FRAME_BYTES_MAX_DEFAULT = 16 * 1024 * 1024
/**
 * How much of a refused WebSocket upgrade's HTTP body (the broker's reason: origin not allowed,
 * connection limit) the client reads and quotes in its error; the rest is not read.
 */
export const REFUSAL_BODY_BYTES_MAX = 1024
/**
 * Bound of every admin call and of the consumer's offset lookups (seek, reset), retries
 * included; also how long a consumer's fetches of a partition may keep failing before its
 * iterator throws. Kafka's default.api.timeout.ms.
 */
export const API_TIMEOUT_MS_DEFAULT = 60_000
/**
 * addVoter: how long the new voter may take to catch up as an observer, unless the call says
 * (sent to the controller, which refuses the node past it); the call itself may take this plus
 * requestTimeoutMs.
 */
export const ADD_VOTER_TIMEOUT_MS_DEFAULT = 60_000
/** Correlation ids wrap below 2^31 so they stay positive in every language. */
export const CORRELATION_ID_MAX = 0x7fffffff

/** Largest delay a timer honours (setTimeout fires at once past it): the ceiling of every count and time option. */
export const OPTION_INT_MAX = 0x7fffffff

/**
 * An integer option within [min, max], or `fallback` when left out; anything else (a string, a
 * fraction, NaN, out of range) throws INVALID_ARGUMENT naming the option.
 */
export function intOption(name: string, value: unknown, fallback: number, min: number, max = OPTION_INT_MAX): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ClientError('INVALID_ARGUMENT', `option ${name} must be an integer from ${min} to ${max}, not ${shown(value)}`)
  }
  return value
}

function shown(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value)
}

/** A number option within [min, max] (fractions allowed), or `fallback` when left out; else INVALID_ARGUMENT. */
export function numberOption(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !(value >= min && value <= max)) {
    throw new ClientError('INVALID_ARGUMENT', `option ${name} must be a number from ${min} to ${max}, not ${shown(value)}`)
  }
  return value
}

// ---- Reconnect and retry back-off (exponential, jittered like Kafka's ExponentialBackoff) ----

export const RECONNECT_BACKOFF_INITIAL_MS = 250
export const RECONNECT_BACKOFF_MAX_MS = 30_000
export const RETRY_BACKOFF_INITIAL_MS = 100
export const RETRY_BACKOFF_MAX_MS = 10_000
export const BACKOFF_MULTIPLIER = 2
/** ±20 %: spreads reconnecting clients (and throttled tabs waking together) apart. */
export const BACKOFF_JITTER = 0.2
export const RETRIES_DEFAULT = 10

// ---- Metadata ----

/** Metadata older than this is refreshed before use, even without an error. */
export const METADATA_MAX_AGE_MS_DEFAULT = 5 * 60_000
/** Topics whose metadata the client tracks at once. */
export const METADATA_TOPICS_MAX = 10_000

// ---- Producer ----

/** A partition's batch closes at this estimated size (frames of 64-256 KiB move data fastest). */
export const BATCH_BYTES_DEFAULT = 64 * 1024
/** A batch waits at most this long for more records (Kafka 4's default). */
export const LINGER_MS_DEFAULT = 5
/** Records buffered in the producer (estimated bytes); send() waits for room past it. */
export const BUFFER_BYTES_MAX_DEFAULT = 32 * 1024 * 1024
/** send() calls waiting for buffer room; past it send() rejects at once. */
export const BUFFER_WAITERS_MAX_DEFAULT = 10_000
/** How long send() waits for buffer room or topic metadata before rejecting. */
export const MAX_BLOCK_MS_DEFAULT = 60_000
/** Time from send() to acknowledgement, retries included, before the record fails. */
export const DELIVERY_TIMEOUT_MS_DEFAULT = 120_000
/** One produce request carries batches for many partitions, up to this many bytes. */
export const PRODUCE_REQUEST_BYTES_MAX_DEFAULT = 1024 * 1024
/** Produce requests in flight per broker (Kafka's max.in.flight.requests.per.connection). */
export const PRODUCE_IN_FLIGHT_MAX_DEFAULT = 5
/** How long the leader may wait for acks=all before answering REQUEST_TIMED_OUT. */
export const PRODUCE_ACK_TIMEOUT_MS_DEFAULT = 30_000
/** The broker caps its acks wait here (a larger ackTimeoutMs would be cut short silently). */
export const PRODUCE_ACK_TIMEOUT_MS_MAX = 300_000

// ---- Consumer ----

export const FETCH_MAX_WAIT_MS_DEFAULT = 500
export const FETCH_MIN_BYTES_DEFAULT = 1
export const FETCH_MAX_BYTES_DEFAULT = 4 * 1024 * 1024
export const FETCH_PARTITION_MAX_BYTES_DEFAULT = 1024 * 1024
/** A batch larger than the partition's fetch size makes the next fetch grow up to this. */
export const FETCH_PARTITION_BYTES_CEILING = 64 * 1024 * 1024
/** Partitions one consumer may be assigned. */
export const ASSIGNED_PARTITIONS_MAX = 10_000

// ---- Buffers kept for reuse (memory outside bufferBytesMax, bounded here)

/** First allocation of a batch's staged records; it doubles up to the batch size as records come. */
export const STAGED_BYTES_INITIAL = 1024
/**
 * Staging buffers of a whole batch size kept for reuse once their batch is encoded, so a busy
 * producer does not allocate (and zero, and collect) one per batch: at most this many, and at
 * most STAGING_SPARES_BYTES_MAX of them together.
 */
export const STAGING_SPARES_MAX = 16
export const STAGING_SPARES_BYTES_MAX = 4 * 1024 * 1024
/** Encoded-batch buffers kept for reuse: at most this many, and this many bytes together. */
export const ENCODED_SPARES_MAX = 128
export const ENCODED_SPARES_BYTES_MAX = 8 * 1024 * 1024
/** A connection's frame scratch: frames larger than this get a buffer of their own instead of growing it. */
export const FRAME_SCRATCH_BYTES_MAX = 2 * 1024 * 1024
/**
 * A consumer's fetches in flight per broker: the second is chained after the first on the
 * broker (it continues where the first's answer ends), so the client never waits a round trip.
 * One for a broker that does not chain fetches.
 */
export const FETCHES_IN_FLIGHT_PER_BROKER_MAX = 2
/** Answers of one broker waiting to be handed out, past which no fetch starts (fetch-chain.ts). */
export const ANSWERS_WAITING_PER_BROKER_MAX = 2
/** Partitions named in one DescribeQuorum (the broker's DESCRIBE_REPLICAS_PARTITIONS_MAX): more go as several requests. */
export const DESCRIBE_REPLICAS_PER_REQUEST_MAX = 1_000
/** Rounds of asking each partition's leader for its replicas (a moved leader is asked again after a metadata refresh). */
export const REPLICA_STATUS_ROUNDS_MAX = 3

// ---- Consumer groups (group-member.ts)

/**
 * A member's session timeout when the application gives none: Kafka's default in Node; in the
 * browser bundle more than 60 s, because a background tab runs its timers about once a minute
 * (the member's heartbeat clock ticks in a Worker, heartbeat-clock.ts, but the page's other
 * timers — reconnect back-offs — do not).
 */
export const SESSION_TIMEOUT_MS_DEFAULT = 45_000
export const BROWSER_SESSION_TIMEOUT_MS_DEFAULT = 90_000
/** How long a member may take to give up partitions the coordinator revoked (Kafka's max.poll.interval.ms). */
export const REBALANCE_TIMEOUT_MS_DEFAULT = 300_000
/** Auto-commit: on by default, every 5 s (Kafka's enable.auto.commit, auto.commit.interval.ms). */
export const AUTO_COMMIT_INTERVAL_MS_DEFAULT = 5_000
/** After a failed heartbeat (coordinator moving, not there yet) the member tries again after a back-off from min to max. */
export const GROUP_RETRY_MS_MIN = 100
export const GROUP_RETRY_MS_MAX = 2_000

// ---- Idempotent producer ----

/**
 * Batches of one partition in flight at once, at most: the leader recognises a retry among the
 * last batches it remembers per producer (its handshake's producer_batches_remembered; fewer if
 * it says fewer). Kafka's 5 held a 64 KiB-batch producer to one request in flight (0.73–0.77 of the
 * plain producer's rate); 32 (2 MiB) keeps a single partition's pipeline to its leader about as full
 * as a plain producer's.
 */
export const IDEMPOTENT_BATCHES_IN_FLIGHT_MAX = 32
/** What a broker that does not say how many batches it remembers remembers (Kafka's 5). */
export const PRODUCER_BATCHES_REMEMBERED_DEFAULT = 5
/** Produce requests in flight per broker an idempotent producer may ask for (Kafka's bound on max.in.flight.requests.per.connection). */
export const IDEMPOTENT_IN_FLIGHT_REQUESTS_MAX = 5
/**
 * A produce request unanswered this long has its partitions' leaders looked up again (then every
 * PRODUCE_LEADER_CHECK_EVERY_MS): when metadata names a newer leader epoch on another broker, the
 * attempt is abandoned and its batches retried there, instead of waiting out the request timeout
 * of a leader that stopped (SIGSTOP) without closing its connection. Well above an acks=all round
 * trip (milliseconds), so a healthy but slow leader is not abandoned for nothing.
 */
export const PRODUCE_LEADER_CHECK_AFTER_MS = 2_000
export const PRODUCE_LEADER_CHECK_EVERY_MS = 1_000
