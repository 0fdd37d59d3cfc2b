// Per-log configuration (Kafka's topic configs, camel-cased) and its validation.
import { StorageError } from './errors.js'
import { DEFAULTS, SEGMENT_BYTES_MAX, SEGMENT_BYTES_MIN } from './limits.js'

export type FlushPolicy =
  /** Group commit: fsync after appends, one fsync shared by all appends made before it. */
  | 'always'
  /**
   * fsync every flushIntervalMs (and at roll and close). Faster; a power cut loses up to an
   * interval of acknowledged-but-unflushed data on this replica. Replication still counts only
   * flushed data (flushedOffset), so acks=all stays safe; acks=1 does not.
   */
  | 'interval'

export type CleanupPolicy = 'delete' | 'compact' | 'compact,delete'

export interface LogConfig {
  /** segment.bytes: roll when the active segment would grow past this. */
  segmentBytes: number
  /** segment.ms: roll when the active segment's first append is older than this. */
  segmentMs: number
  /** index.interval.bytes: log bytes between offset-index entries. */
  indexIntervalBytes: number
  flush: FlushPolicy
  /** flush.ms for flush='interval'. */
  flushIntervalMs: number
  /** retention.ms (-1: keep forever): delete closed segments whose newest record is older. */
  retentionMs: number
  /** retention.bytes (-1: no limit): delete oldest closed segments while the log is larger. */
  retentionBytes: number
  cleanupPolicy: CleanupPolicy
  /** delete.retention.ms: how long compaction keeps tombstones. */
  deleteRetentionMs: number
  /** Check served batches' CRCs (never serve corrupt bytes): once per batch per process (Segment.verifiedTo). */
  verifyReads: boolean
}

export function resolveConfig(partial: Partial<LogConfig> = {}): LogConfig {
  const c: LogConfig = { ...DEFAULTS, ...partial }
  const bad = (name: string, why: string) => new StorageError('INVALID_CONFIG', `${name}: ${why}`)
  if (!Number.isInteger(c.segmentBytes) || c.segmentBytes < SEGMENT_BYTES_MIN || c.segmentBytes > SEGMENT_BYTES_MAX) {
    throw bad('segmentBytes', `${c.segmentBytes} is outside [${SEGMENT_BYTES_MIN}, ${SEGMENT_BYTES_MAX}]`)
  }
  if (!(c.segmentMs > 0)) throw bad('segmentMs', `${c.segmentMs} must be > 0`)
  if (!Number.isInteger(c.indexIntervalBytes) || c.indexIntervalBytes < 0) throw bad('indexIntervalBytes', 'must be an integer >= 0')
  if (c.flush !== 'always' && c.flush !== 'interval') throw bad('flush', `"${c.flush}" is not "always" or "interval"`)
  if (!(c.flushIntervalMs > 0)) throw bad('flushIntervalMs', 'must be > 0')
  if (c.retentionMs < -1 || c.retentionBytes < -1) throw bad('retention', 'retentionMs and retentionBytes are >= 0, or -1 for no limit')
  if (!['delete', 'compact', 'compact,delete'].includes(c.cleanupPolicy)) throw bad('cleanupPolicy', `"${c.cleanupPolicy}" is unknown`)
  if (!(c.deleteRetentionMs >= 0)) throw bad('deleteRetentionMs', 'must be >= 0')
  return c
}
