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
/**
 * Room a leader leaves before the records it reads for a follower's fetch: the raft frame's head
 * (under 100 bytes) and then the peer envelope's (under 30) are written there, so the records
 * are never copied behind them (raft-wire.ts, peer-envelope.ts).
 */
export const PEER_RECORDS_HEADROOM_BYTES = 128
/**
 * A state-machine log snapshots its state after this many offsets applied since the latest
 * snapshot (or SNAPSHOT_EVERY_BYTES_DEFAULT, whichever comes first). Many records, never a
 * timer: a leader serves only its latest snapshot, so snapshotting faster than a far-behind
 * follower downloads would starve it.
 */
export const SNAPSHOT_EVERY_RECORDS_DEFAULT = 100_000
/** ... or after this many batch bytes applied (Kafka's metadata.log.max.record.bytes.between.snapshots). */
export const SNAPSHOT_EVERY_BYTES_DEFAULT = 20 * 1024 * 1024
/** Bytes of committed batches read at once to apply them to a state machine. */
export const APPLY_READ_BYTES = 1024 * 1024
/**
 * A new partition's preferred replica campaigns when it opens, and again this often while no
 * leader is known (its first pre-vote is lost if the other replicas have not opened yet: each
 * broker opens the partition when it replays the record), for at most PREFERRED_CAMPAIGN_MS;
 * after that the ordinary election timers decide.
 */
export const PREFERRED_CAMPAIGN_EVERY_MS = 100
export const PREFERRED_CAMPAIGN_MS = 5_000
/**
 * Partitions a reconciliation opens at once. Opening waits on a few fsyncs (its directory, its
 * voter set): one at a time, 1,000 new partitions took over 20 s; many at once share the disk's
 * queue and the thread pool (4 threads) without holding more than this many half-open logs.
 */
export const PARTITION_OPENS_IN_PARALLEL_MAX = 32
/**
 * Descriptors a broker needs besides one per partition it holds (sockets, the metadata log, a
 * segment being rolled, snapshots): below partitions + this, the manager warns about ulimit -n.
 */
export const OPEN_FILES_HEADROOM = 256
/**
 * Background scrub (log-damage.ts): batch bytes a broker CRC-checks per second, across all its
 * partitions, in closed segments opened without a check (after a clean stop). Low enough that a
 * restart's scrub costs little of the disk and a core; the check before a campaign is not limited.
 */
export const SCRUB_BYTES_PER_SECOND = 32 * 1024 * 1024
/** Most bytes one scrub step checks (one queued input of one replica; the read is synchronous). */
export const SCRUB_STEP_BYTES = 1024 * 1024
/** Bytes the check before a campaign reads between two turns of the event loop. */
export const VERIFY_STEP_BYTES = 4 * 1024 * 1024
/**
 * Batches of each idempotent producer a partition remembers: a retry of any of them is recognised,
 * so a producer may have this many of a partition's batches in flight (the handshake says so).
 * Kafka's 5 held our 64 KiB-batch producer to one request in flight. A single partition's acks=all
 * producer (perf/rf3.ts, 3 runs each) reached 0.69 of the rate it had before idempotence with 16
 * (1 broker; 0.71 on 3 brokers), 0.90 with 32 (0.80). Each costs ~56 bytes per producer and
 * partition in a snapshot.
 */
export const PRODUCER_BATCHES_KEPT = 32
/**
 * Idempotent producers a partition keeps state for; past it the least recently used is forgotten
 * (it then gets UNKNOWN_PRODUCER_ID and re-initialises), so producers that come and go cannot grow it.
 * With PRODUCER_BATCHES_KEPT batches each, the largest snapshot (~1.8 KiB a producer) stays under
 * the small-file limit (SMALL_FILE_BYTES_MAX, 16 MiB; a test checks it).
 */
export const PRODUCERS_PER_PARTITION_MAX = 8_000
/** Bytes of log read at once when producer state is rebuilt from the log. */
export const PRODUCER_STATE_READ_BYTES = 1024 * 1024
/**
 * Producer state snapshots kept per partition (producer-state-snapshot.ts): the newest, and one
 * older for a truncation below it (a follower's divergent tail is short); older ones only cost disk.
 */
export const PRODUCER_SNAPSHOTS_KEPT = 2
