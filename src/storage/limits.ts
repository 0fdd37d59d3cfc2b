// Limits and defaults of the storage engine. Every buffer, loop and file the engine handles is
// bounded by one of these; units are the last word of each name.
import { BATCH_BYTES_MAX } from '../codec/limits.js'

/** Largest batch the log stores: the codec's limit, so every stored batch can be validated. */
export const STORED_BATCH_BYTES_MAX = BATCH_BYTES_MAX

/** Largest segment file. Index positions are uint32, so a segment must stay below 4 GiB. */
export const SEGMENT_BYTES_MAX = 2 ** 31 - 1
/** Smallest segment size a config may ask for (tests use small segments to force rolls). */
export const SEGMENT_BYTES_MIN = 1024
/** A segment's offsets are stored relative to its base as uint32: roll before they overflow. */
export const SEGMENT_RELATIVE_OFFSET_MAX = 2 ** 31 - 1

/** Offset-index entry: relative offset (u32) + file position (u32). */
export const OFFSET_INDEX_ENTRY_BYTES = 8
/** Time-index entry: timestamp (i64) + relative offset (u32). */
export const TIME_INDEX_ENTRY_BYTES = 12

/** Bytes read at once while scanning a segment (recovery, index rebuild, compaction). */
export const SCAN_CHUNK_BYTES = 1024 * 1024

/**
 * The recovery point (recovery-point.ts) is rewritten once the active segment has grown by this
 * much since the last one: a crash's recovery then validates at most about this many bytes plus
 * what the last fsyncs did not cover, and walks only the batch headers below it.
 */
export const RECOVERY_POINT_INTERVAL_BYTES = 16 * 1024 * 1024

/** Most segments one partition directory may hold (a bound on every per-segment loop). */
export const SEGMENTS_PER_LOG_MAX = 100_000

/** Most epochs the leader-epoch cache keeps; older ones are folded away by retention. */
export const EPOCH_CACHE_ENTRIES_MAX = 100_000

/** Largest small file (checkpoint, quorum state) the atomic writer and reader handle. */
export const SMALL_FILE_BYTES_MAX = 16 * 1024 * 1024

/**
 * Largest state-machine snapshot file (the metadata log's): it is read whole to load and to
 * check a download, so it must fit in memory several times over.
 */
export const SNAPSHOT_BYTES_MAX = 256 * 1024 * 1024

/** Most distinct keys one compaction pass maps; beyond it the pass stops at a segment edge. */
export const COMPACTION_KEYS_MAX = 4_000_000

/** Largest read (maxBytes) one call may ask for. */
export const READ_BYTES_MAX = 256 * 1024 * 1024
/** Most free bytes a read may be asked to leave before its batches (room for a frame header). */
export const READ_HEADROOM_BYTES_MAX = 64 * 1024

/** Most unreadable (corrupt) ranges remembered per log before the log refuses to serve. */
export const UNREADABLE_RANGES_MAX = 10_000

export const DEFAULTS = {
  segmentBytes: 1024 * 1024 * 1024,
  segmentMs: 7 * 24 * 3600 * 1000,
  indexIntervalBytes: 4096,
  flush: 'always' as const,
  flushIntervalMs: 1000,
  retentionMs: 7 * 24 * 3600 * 1000,
  retentionBytes: -1,
  cleanupPolicy: 'delete' as const,
  deleteRetentionMs: 24 * 3600 * 1000,
  verifyReads: true,
}
