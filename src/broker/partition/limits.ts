// Named limits of the partition replicas (the shell around each Raft core and its log). Every
// queue, buffer and timeout in src/broker/partition is bounded by one of these.
import { FETCH_FRAME_HEADROOM_BYTES } from '../../protocol/index.js'

/** Core inputs (messages, appends, admin calls) waiting per replica; beyond it they are refused. */
export const CORE_INPUTS_QUEUED_MAX = 10_000
/** acks=all waiters per replica, bounded by the broker's in-flight limits in practice. */
export const HW_WAITERS_MAX = 100_000
/** Readies one input may produce before the shell calls it a bug (the core settles in a few). */
export const READY_ROUNDS_MAX = 1_000
/** Ticks between attempts to reopen a replica that failed and could not reopen at once. */
export const REOPEN_RETRY_TICKS = 50
/** A partition read up to Kafka's default max.partition.fetch.bytes, with room for its frame. */
export const READ_BUFFER_BYTES = 1024 * 1024 + FETCH_FRAME_HEADROOM_BYTES
/** Read buffers one broker keeps: this many fetches read without allocating at once. */
export const READ_BUFFERS_MAX = 16
