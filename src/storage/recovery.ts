// Opening a partition directory after a clean stop or a crash. Closed segments were fsynced
// (with their index files) before the next segment was created, so only the last (active)
// segment can have a torn tail, and only past its recovery point (recovery-point.ts: how far an
// fsync covered it). After a crash the headers below that point are walked (framing, offsets,
// epochs: the index and the epoch runs), the bytes past it validated batch by batch (framing,
// CRC, records section) and truncated at the first bad byte. After a clean stop (a clean-shutdown
// marker that the files agree with: clean-shutdown.ts) it is opened like a closed segment, from
// the index files the close wrote, and its batches are CRC-checked later (reads, the scrub). Closed segments load their index files when those are
// well-formed and agree with the log, else the index is rebuilt by a scan that also checks
// CRCs; corruption found there is reported and fenced off, never truncated (it is not a torn
// write but lost data that replication must restore).
import { join } from 'node:path'
import type { Codec } from '../codec/index.js'
import { TEMP_SUFFIX } from './atomic-file.js'
import type { BatchHeader } from '../codec/index.js'
import { checkCrc, checkFraming, checkStored } from './batch-check.js'
import { takeCleanShutdown, type CleanShutdown } from './clean-shutdown.js'
import { EpochCache, type EpochStart } from './epoch-cache.js'
import { loadEpochCheckpoint } from './epoch-checkpoint.js'
import { StorageError } from './errors.js'
import { readWhole, type FileLayer } from './file-layer.js'
import { SEGMENTS_PER_LOG_MAX } from './limits.js'
import { loadLogStart, type SavedLogStart } from './log-start-checkpoint.js'
import { OffsetIndex } from './offset-index.js'
import { loadRecoveryPoint, type RecoveryPoint } from './recovery-point.js'
import { scanFile } from './scan.js'
import {
  INDEX_SUFFIX, LOG_SUFFIX, parseSegmentName, Segment, TIME_INDEX_SUFFIX,
} from './segment.js'
import { TimeIndex } from './time-index.js'

/** Suffix of a compacted segment being written; a leftover one is an unfinished pass. */
export const CLEANED_SUFFIX = '.cleaned'

export interface CorruptRange {
  /** First offset that may be lost (inclusive). */
  startOffset: number
  /** First offset known good again (exclusive end). */
  endOffset: number
  segmentBaseOffset: number
  reason: string
}

export interface RecoveryReport {
  /**
   * The active segment was opened from a clean-shutdown marker and the files it vouches for,
   * without validating its batches (nothing to cut, nothing to fsync).
   */
  cleanShutdown: boolean
  /** Bytes of the active segment validated batch by batch (0 after a trusted clean shutdown). */
  scannedBytes: number
  /** Bytes of the active segment below its recovery point: headers walked, batches not validated (a crash's recovery). */
  trustedBytes: number
  /** Bytes cut from the active segment's tail (torn or corrupt). */
  truncatedBytes: number
  truncatedReason?: string
  /** Closed segments whose index files were missing or damaged and were rebuilt. */
  rebuiltIndexes: number
  /** The epoch checkpoint was missing or damaged and was rebuilt from batch headers. */
  epochCacheRebuilt: boolean
  /** Problems found with small files (damaged checkpoints), as typed errors. */
  problems: StorageError[]
  /** Damage found inside closed segments. */
  corrupt: CorruptRange[]
}

export interface RecoveredLog {
  segments: Segment[]
  logStartOffset: number
  epochCache: EpochCache
  /** The epoch cache differs from the checkpoint (rebuilt, or changed). */
  epochCacheDirty: boolean
  /**
   * ...in a way the next recovery would not redo from the active segment alone: entries past the
   * log end dropped (a later epoch may start below where they said), or rebuilt from closed
   * segments. Save it before appending. Entries only added from the active segment may wait.
   */
  epochCacheMustSave: boolean
  /** The log start file must be rewritten (missing, an older version, or behind the segments). */
  logStartDirty: boolean
  report: RecoveryReport
}

export interface RecoveryContext {
  fs: FileLayer
  codec: Codec
  dir: string
  indexIntervalBytes: number
  nowMs: number
}

export async function recoverLog(ctx: RecoveryContext): Promise<RecoveredLog> {
  const { fs, dir } = ctx
  const crc = (b: Uint8Array) => ctx.codec.crc32c(b)
  await fs.mkdirp(dir)
  const report: RecoveryReport = {
    cleanShutdown: false, scannedBytes: 0, trustedBytes: 0, truncatedBytes: 0, rebuiltIndexes: 0, epochCacheRebuilt: false, problems: [], corrupt: [],
  }
  const clean = takeCleanShutdown(fs, dir, crc, report.problems)
  const bases = listSegments(fs, dir)
  const checkpoint = loadCheckpoint(ctx, report)
  const point = loadRecoveryPoint(fs, dir, crc, report.problems)
  const segments: Segment[] = []
  let activeRuns: EpochRun[] = []
  for (let i = 0; i < bases.length; i++) {
    const last = i === bases.length - 1
    let seg = new Segment(dir, bases[i], fs.open(join(dir, segmentFileName(bases[i])), { create: false }), ctx.indexIntervalBytes, ctx.nowMs)
    if (last) {
      // The checkpoint must hold the active segment's epochs too (a clean close saved them):
      // without it they would have to come from the scan this skips.
      report.cleanShutdown = clean !== null && !checkpoint.damaged && (checkpoint.loaded !== null || clean.activeSizeBytes === 0) &&
        openActiveTrusted(ctx, seg, clean)
      if (clean !== null && !report.cleanShutdown) {
        report.problems.push(new StorageError('CORRUPT_FILE', `the clean-shutdown marker does not match ${segmentFileName(bases[i])} and its index files; recovered it in full`))
      }
      if (!report.cleanShutdown) ({ segment: seg, runs: activeRuns } = await recoverActive(ctx, seg, epochBefore(checkpoint.loaded, bases[i]), point, report))
    } else openClosed(ctx, seg, bases[i + 1], report)
    segments.push(seg)
  }
  let saved: SavedLogStart | null = null
  try {
    saved = loadLogStart(fs, dir, crc)
  } catch (err) {
    if (!(err instanceof StorageError)) throw err
    report.problems.push(err) // the segment base is a safe (earlier) start: nothing is lost
  }
  const logStartOffset = Math.max(segments.length > 0 ? segments[0].baseOffset : 0, saved?.offset ?? 0)
  const { cache, dirty, mustSave } = recoverEpochCache(segments, checkpoint, activeRuns, logStartOffset, saved, report)
  const logStartDirty = logStartOffset > 0 && (saved?.offset !== logStartOffset || saved.epoch !== cache.logStartEpoch)
  return { segments, logStartOffset, epochCache: cache, epochCacheDirty: dirty, epochCacheMustSave: mustSave, logStartDirty, report }
}

function segmentFileName(base: number): string {
  return String(base).padStart(20, '0') + LOG_SUFFIX
}

/** Sorted base offsets of the `.log` files; removes leftovers of interrupted writes. */
function listSegments(fs: FileLayer, dir: string): number[] {
  const bases: number[] = []
  for (const name of fs.list(dir)) {
    if (name.endsWith(TEMP_SUFFIX) || name.endsWith(CLEANED_SUFFIX)) {
      fs.remove(join(dir, name)) // an unfinished atomic write or compaction: the original stands
      continue
    }
    const base = parseSegmentName(name, LOG_SUFFIX)
    if (base !== null) bases.push(base)
  }
  if (bases.length > SEGMENTS_PER_LOG_MAX) {
    throw new StorageError('LIMIT_EXCEEDED', `${dir} holds ${bases.length} segments, over SEGMENTS_PER_LOG_MAX ${SEGMENTS_PER_LOG_MAX}`)
  }
  return bases.sort((a, b) => a - b)
}

/** Consecutive batches of one epoch: what the epoch cache needs from a scan. */
interface EpochRun {
  epoch: number
  baseOffset: number
  nextOffset: number
}

/**
 * Recovers the active segment after a crash: walks the headers below its recovery point (an
 * fsync covered those bytes: framing, offsets and epochs going on, no CRC), validates every batch
 * past it and cuts a torn or corrupt tail (durably). Returns the segment (a fresh one if the
 * point did not fall on its batches) and its epoch runs, so that the epoch cache needs no second
 * pass over it.
 */
async function recoverActive(
  ctx: RecoveryContext, seg: Segment, epochFloor: number, point: RecoveryPoint | null, report: RecoveryReport,
): Promise<{ segment: Segment; runs: EpochRun[] }> {
  const fileSize = seg.file.size()
  let runs: EpochRun[] = []
  let lastEpoch = epochFloor
  // The leader epoch lies outside the CRC: a torn tail whose zeroed bytes hit it passes the
  // check, so a batch whose epoch goes back (below the one before it, or below what the
  // checkpoint says the earlier segments reached) is torn too.
  const epochGoesOn = (h: BatchHeader | string): BatchHeader | string => {
    if (typeof h === 'string') return h
    if (h.partitionLeaderEpoch < lastEpoch) return `leader epoch ${h.partitionLeaderEpoch} below the previous ${lastEpoch} (a torn header)`
    lastEpoch = h.partitionLeaderEpoch
    return h
  }
  const onBatch = ({ header: h, position }: { header: BatchHeader; position: number }) => {
    seg.track(h, position)
    addToRuns(runs, h.partitionLeaderEpoch, h.baseOffset, h.nextOffset)
  }
  let from = 0
  let fromOffset = seg.baseOffset
  if (point !== null && point.segmentBaseOffset === seg.baseOffset && point.position > 0 && point.position <= fileSize) {
    const walk = scanFile(seg.file, 0, point.position, seg.baseOffset, (b) => epochGoesOn(checkFraming(b)), onBatch)
    if (walk.error === undefined && walk.endPosition === point.position && walk.nextOffset === point.offset) {
      from = point.position
      fromOffset = point.offset
      report.trustedBytes = from
    } else {
      // Bytes an fsync covered are not torn: damage there is lost data. Validate the whole
      // segment as without a point (it is cut at the first bad batch, as before points existed).
      report.problems.push(new StorageError('CORRUPT_FILE', `the recovery point (byte ${point.position}) of ${segmentFileName(seg.baseOffset)} does not fall on its batches (${walk.error ?? `the walk ended at byte ${walk.endPosition}`}); validated the whole segment`))
      seg = new Segment(seg.dir, seg.baseOffset, seg.file, seg.indexIntervalBytes, seg.createdMs)
      runs = []
      lastEpoch = epochFloor
    }
  }
  const scan = scanFile(seg.file, from, fileSize, fromOffset, (b) => epochGoesOn(checkStored(ctx.codec, b)), onBatch)
  // verifiedTo is a prefix: with a trusted part below the point nothing is verified from byte 0.
  seg.verifiedTo = from === 0 ? scan.endPosition : 0
  report.scannedBytes = scan.endPosition - from
  if (scan.endPosition < fileSize) {
    report.truncatedBytes = fileSize - scan.endPosition
    report.truncatedReason = scan.error
    seg.file.truncate(scan.endPosition)
    await seg.file.sync()
  }
  return { segment: seg, runs }
}

function addToRuns(runs: EpochRun[], epoch: number, baseOffset: number, nextOffset: number): void {
  const last = runs[runs.length - 1]
  if (last !== undefined && last.epoch === epoch) last.nextOffset = nextOffset
  else runs.push({ epoch, baseOffset, nextOffset })
}

/**
 * Opens the active segment from what a clean close left, if the files agree with the marker: the
 * same segment and size, well-formed index files whose last entries point at batches, and a
 * header walk from the last index entry (at most about indexIntervalBytes) that ends exactly at
 * the file's end and at the marker's log end. Otherwise false, and the segment is untouched.
 */
function openActiveTrusted(ctx: RecoveryContext, seg: Segment, clean: CleanShutdown): boolean {
  const size = seg.file.size()
  if (clean.activeBaseOffset !== seg.baseOffset || clean.activeSizeBytes !== size) return false
  if (size === 0) return clean.logEndOffset === seg.baseOffset
  const index = loadIndex(ctx.fs, seg, size)
  const timeIndex = loadTimeIndex(ctx.fs, seg)
  if (index === null || timeIndex === null || timeIndex.lastOffset() >= clean.logEndOffset) return false
  const from = index.length === 0 ? 0 : index.lastPosition()
  const tail = scanFile(seg.file, from, size, index.length === 0 ? seg.baseOffset : index.lastOffset(), (b) => checkFraming(b), () => undefined)
  if (tail.error !== undefined || tail.endPosition !== size || tail.nextOffset !== clean.logEndOffset) return false
  seg.adoptIndexes(index, timeIndex, size, clean.logEndOffset)
  return true
}

/** Loads a closed segment's indexes, or rebuilds them by a CRC-checking scan. */
function openClosed(ctx: RecoveryContext, seg: Segment, nextBase: number, report: RecoveryReport): void {
  const size = seg.file.size()
  const index = loadIndex(ctx.fs, seg, size)
  const timeIndex = loadTimeIndex(ctx.fs, seg)
  if (index !== null && timeIndex !== null && size > 0) {
    seg.adoptIndexes(index, timeIndex, size, nextBase)
    return
  }
  report.rebuiltIndexes++
  const scan = scanFile(seg.file, 0, size, seg.baseOffset, (b) => checkCrc(ctx.codec, b), (b) => seg.track(b.header, b.position))
  seg.verifiedTo = scan.endPosition
  if (scan.endPosition < size) {
    seg.unreadableFrom = scan.endPosition
    report.corrupt.push({ startOffset: scan.nextOffset, endOffset: nextBase, segmentBaseOffset: seg.baseOffset, reason: scan.error ?? 'unknown' })
    seg.size = size
  }
  seg.nextOffset = nextBase
}

function loadIndex(fs: FileLayer, seg: Segment, size: number): OffsetIndex | null {
  const path = seg.path(INDEX_SUFFIX)
  if (!fs.exists(path)) return null
  const index = OffsetIndex.decode(seg.baseOffset, readWhole(fs, path, Number.MAX_SAFE_INTEGER), size)
  if (index === null || index.length === 0) return index
  // The last entry must point at a batch that starts with its offset (a stale index would not).
  const header = seg.headerAt(index.lastPosition())
  return typeof header !== 'string' && header.baseOffset === index.lastOffset() ? index : null
}

function loadTimeIndex(fs: FileLayer, seg: Segment): TimeIndex | null {
  const path = seg.path(TIME_INDEX_SUFFIX)
  if (!fs.exists(path)) return null
  const index = TimeIndex.decode(seg.baseOffset, readWhole(fs, path, Number.MAX_SAFE_INTEGER))
  // A closed segment's time index always ends with its max timestamp, so it is never empty.
  return index !== null && index.length > 0 ? index : null
}

/**
 * Loads the epoch cache and makes it agree with the recovered log: entries past the log end
 * go, epochs seen in the active segment's tail are added, the log start's epoch is the saved one
 * (or, for a start moved by retention since, the epoch of the record below it). A missing or
 * damaged checkpoint is rebuilt from every segment's batch headers.
 */
/** The epoch checkpoint (null: missing or damaged; a damage is reported). */
function loadCheckpoint(ctx: RecoveryContext, report: RecoveryReport): { loaded: EpochStart[] | null; damaged: boolean } {
  try {
    return { loaded: loadEpochCheckpoint(ctx.fs, ctx.dir, (b) => ctx.codec.crc32c(b)), damaged: false }
  } catch (err) {
    if (!(err instanceof StorageError)) throw err
    report.problems.push(err)
    return { loaded: null, damaged: true }
  }
}

/** The latest epoch the checkpoint says starts below `offset` (0: none known). */
function epochBefore(entries: readonly EpochStart[] | null, offset: number): number {
  let epoch = 0
  for (const e of entries ?? []) if (e.startOffset < offset) epoch = e.epoch
  return epoch
}

function recoverEpochCache(
  segments: Segment[], checkpoint: { loaded: EpochStart[] | null; damaged: boolean }, activeRuns: readonly EpochRun[], logStartOffset: number,
  saved: SavedLogStart | null, report: RecoveryReport,
): { cache: EpochCache; dirty: boolean; mustSave: boolean } {
  const { loaded, damaged } = checkpoint
  const dataful = segments.some((s) => s.size > 0)
  let dirty = loaded === null && dataful
  report.epochCacheRebuilt = dirty
  const cache = new EpochCache(loaded ?? [])
  const scanFrom = loaded === null ? 0 : segments.length - 1
  const logEnd = segments.length === 0 ? 0 : segments[segments.length - 1].nextOffset
  const cut = cache.truncateFrom(logEnd)
  dirty = cut || dirty
  const mustSave = cut || damaged || (loaded === null && segments.slice(0, -1).some((s) => s.size > 0))
  const runs: EpochRun[] = []
  for (let i = Math.max(0, scanFrom); i < segments.length - 1; i++) {
    const seg = segments[i]
    const end = Math.min(seg.size, seg.unreadableFrom)
    scanFile(seg.file, 0, end, seg.baseOffset, (b) => checkFraming(b), ({ header: h }) => addToRuns(runs, h.partitionLeaderEpoch, h.baseOffset, h.nextOffset))
  }
  for (const run of [...runs, ...activeRuns]) {
    // Runs wholly below the log start are deleted records: their epochs are gone too.
    const last = cache.entries[cache.entries.length - 1]
    if (run.nextOffset <= logStartOffset || (last !== undefined && run.epoch <= last.epoch)) continue
    dirty = cache.assign(run.epoch, Math.max(run.baseOffset, logStartOffset)) || dirty
  }
  return { cache: withLogStartEpoch(cache, logStartOffset, logEnd, saved, report), dirty, mustSave }
}

/**
 * The cache from `logStart` on, with the epoch of the record below it: the saved one when the
 * log start file names this start; else what the cache's entries say (retention moved the start
 * since the file was written); else, when nothing says, the epoch of the first record (an upper
 * bound: a log that believes itself more up to date than it is refuses votes, never grants a
 * wrong one), reported as a problem.
 */
function withLogStartEpoch(cache: EpochCache, logStart: number, logEnd: number, saved: SavedLogStart | null, report: RecoveryReport): EpochCache {
  const known = logStart === 0 || (cache.entries.length > 0 && cache.entries[0].startOffset < logStart)
  cache.advanceStart(logStart)
  // An entry clamped to the start of an empty log names no record: it is not "the first record's".
  cache.truncateFrom(logEnd)
  let epoch = cache.logStartEpoch
  if (saved !== null && saved.offset === logStart && saved.epoch !== null) epoch = saved.epoch
  else if (!known) {
    epoch = cache.entries[0]?.epoch ?? 0
    report.problems.push(new StorageError('CORRUPT_FILE', `the epoch below log start ${logStart} is not recorded; assuming ${epoch}`))
  }
  const first = cache.entries[0]
  if (first !== undefined && first.epoch < epoch) {
    report.problems.push(new StorageError('CORRUPT_FILE', `the log start's epoch ${epoch} is newer than the first record's ${first.epoch}; using ${first.epoch}`))
    epoch = first.epoch
  }
  return new EpochCache(cache.entries, epoch)
}
