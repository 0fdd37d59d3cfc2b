// The compaction cleaner (cleanup.policy=compact): keeps the latest record per key among the
// closed segments that end at or below the allowed offset (the high watermark), keeps
// tombstones (null value) until their segment is older than delete.retention.ms, and keeps
// every record's original offset (gaps are expected). The active segment is never touched.
//
// Crash safety: a segment is rewritten beside the old one as `<base>.log.cleaned`, fsynced,
// then its index files are removed and the new file is renamed over the old (atomic), each
// step made durable. After a crash at any point the directory holds the old or the new log
// (a leftover `.cleaned` is deleted on open; missing indexes are rebuilt).
//
// Batches the cleaner cannot decode (compressed, until the codec decompresses; control) are
// kept whole and their keys are not counted: that only ever keeps more, never loses data.
import { join } from 'node:path'
import {
  CodecError, readBatchHeader, type BatchHeader, type Codec, type DecodedRecord,
} from '../codec/index.js'
import { checkCrc } from './batch-check.js'
import { StorageError } from './errors.js'
import type { FileLayer } from './file-layer.js'
import { COMPACTION_KEYS_MAX } from './limits.js'
import { CLEANED_SUFFIX } from './recovery.js'
import { scanFile } from './scan.js'
import { INDEX_SUFFIX, LOG_SUFFIX, Segment, TIME_INDEX_SUFFIX } from './segment.js'

export interface CompactionResult {
  segmentsRewritten: number
  recordsRemoved: number
  tombstonesRemoved: number
  bytesBefore: number
  bytesAfter: number
}

/** What the cleaner needs from the log (PartitionLog provides it). */
export interface CleanerHost {
  readonly dir: string
  readonly fs: FileLayer
  readonly codec: Codec
  readonly segments: Segment[]
  readonly indexIntervalBytes: number
  readonly deleteRetentionMs: number
  nowMs(): number
  writeDurably(path: string, bytes: Uint8Array): Promise<void>
}

const latin1 = new TextDecoder('latin1')
const keyOf = (key: Uint8Array) => latin1.decode(key)

/** Runs one compaction pass over the closed segments that end at or below `allowedOffset`. */
export async function compact(host: CleanerHost, allowedOffset: number): Promise<CompactionResult> {
  const result: CompactionResult = { segmentsRewritten: 0, recordsRemoved: 0, tombstonesRemoved: 0, bytesBefore: 0, bytesAfter: 0 }
  const candidates = cleanable(host.segments, allowedOffset)
  const latest = new Map<string, number>()
  let mapped = 0
  for (; mapped < candidates.length; mapped++) {
    const before = new Map(latest)
    forEachRecord(host.codec, candidates[mapped], (r) => {
      if (r.key !== null) latest.set(keyOf(r.key), r.offset)
    })
    if (latest.size > COMPACTION_KEYS_MAX) {
      // Too many keys for one pass: clean what was mapped so far (a later pass continues).
      latest.clear()
      for (const [k, v] of before) latest.set(k, v)
      break
    }
  }
  const horizon = host.nowMs() - host.deleteRetentionMs
  for (const seg of candidates.slice(0, mapped)) {
    const dropTombstones = seg.maxTimestamp < horizon
    await cleanSegment(host, seg, latest, dropTombstones, result)
  }
  return result
}

/** Closed segments (never the active one) that end at or below `allowedOffset`. */
function cleanable(segments: readonly Segment[], allowedOffset: number): Segment[] {
  const out: Segment[] = []
  for (let i = 0; i < segments.length - 1; i++) {
    if (segments[i + 1].baseOffset > allowedOffset) break
    out.push(segments[i])
  }
  return out
}

/** Calls `fn` for each record of each decodable batch of `seg` (views valid during the call). */
function forEachRecord(codec: Codec, seg: Segment, fn: (r: DecodedRecord, h: BatchHeader) => void): void {
  const end = Math.min(seg.size, seg.unreadableFrom)
  scanFile(seg.file, 0, end, seg.baseOffset, (b) => checkCrc(codec, b), ({ header, bytes }) => {
    const records = decodable(codec, header, bytes)
    if (records !== null) for (const r of records) fn(r, header)
  })
}

function decodable(codec: Codec, header: BatchHeader, bytes: Uint8Array): DecodedRecord[] | null {
  if (header.control || header.compression !== 'none') return null
  try {
    return codec.decodeBatch(bytes, { contiguous: false }).records
  } catch (err) {
    if (err instanceof CodecError) return null // kept whole; recovery and reads police corruption
    throw err
  }
}

async function cleanSegment(
  host: CleanerHost, seg: Segment, latest: Map<string, number>, dropTombstones: boolean, result: CompactionResult,
): Promise<void> {
  const path = join(host.dir, String(seg.baseOffset).padStart(20, '0') + LOG_SUFFIX + CLEANED_SUFFIX)
  const out = host.fs.open(path, { create: true })
  out.truncate(0)
  const cleaned = new Segment(host.dir, seg.baseOffset, out, host.indexIntervalBytes, seg.createdMs)
  let changed = false
  const end = Math.min(seg.size, seg.unreadableFrom)
  const write = (bytes: Uint8Array) => {
    const h = readBatchHeader(bytes)
    cleaned.append(bytes, [h], [[0, bytes.length]])
  }
  const scan = scanFile(seg.file, 0, end, seg.baseOffset, (b) => checkCrc(host.codec, b), ({ header, bytes }) => {
    const records = decodable(host.codec, header, bytes)
    if (records === null) return write(bytes)
    const kept = records.filter((r) => {
      if (r.key === null) return true
      if (latest.get(keyOf(r.key)) !== r.offset) return false
      return !(r.value === null && dropTombstones)
    })
    const keptSet = new Set(kept)
    for (const r of records) {
      if (!keptSet.has(r)) {
        result.recordsRemoved++
        if (r.value === null && r.key !== null && latest.get(keyOf(r.key)) === r.offset) result.tombstonesRemoved++
      }
    }
    if (kept.length === records.length) return write(bytes)
    changed = true
    for (const run of contiguousRuns(kept)) write(encodeRun(host.codec, header, run))
  })
  if (!changed || end < seg.size || scan.endPosition < end) {
    // Nothing to remove, or a damaged segment (fenced off already, or a bad batch this scan just
    // met: the cleaned copy would end there), left whole for reads to fence and re-replication to repair.
    out.close()
    host.fs.remove(path)
    return
  }
  await swap(host, seg, cleaned, path)
  result.segmentsRewritten++
  result.bytesBefore += seg.size
  result.bytesAfter += cleaned.size
}

/** Splits kept records into runs of consecutive offsets: each becomes one batch (deltas 0..n-1). */
function contiguousRuns(records: readonly DecodedRecord[]): DecodedRecord[][] {
  const runs: DecodedRecord[][] = []
  for (const r of records) {
    const run = runs[runs.length - 1]
    if (run !== undefined && run[run.length - 1].offset + 1 === r.offset) run.push(r)
    else runs.push([r])
  }
  return runs
}

/** Re-encodes a run of records with the original batch's offsets, epoch and producer fields. */
function encodeRun(codec: Codec, h: BatchHeader, run: readonly DecodedRecord[]): Uint8Array {
  const first = run[0].offset
  return codec.encodeBatch(
    run.map((r) => ({ key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp })),
    {
      baseOffset: first,
      partitionLeaderEpoch: h.partitionLeaderEpoch,
      producerId: h.producerId,
      producerEpoch: h.producerEpoch,
      baseSequence: h.baseSequence < 0 ? -1 : h.baseSequence + (first - h.baseOffset),
      transactional: h.transactional,
      timestampType: h.timestampType,
      baseTimestamp: h.timestampType === 'LogAppendTime' ? h.baseTimestamp : run[0].timestamp,
      maxTimestamp: h.timestampType === 'LogAppendTime' ? h.maxTimestamp : undefined,
    },
  )
}

/** Replaces `old` by `cleaned` on disk and in the segment list, durably at each step. */
async function swap(host: CleanerHost, old: Segment, cleaned: Segment, cleanedPath: string): Promise<void> {
  await cleaned.file.sync()
  // Stale index files must never be paired with the new log: remove them first.
  host.fs.remove(old.path(INDEX_SUFFIX))
  host.fs.remove(old.path(TIME_INDEX_SUFFIX))
  await host.fs.syncDir(host.dir)
  const at = host.segments.indexOf(old)
  if (at < 0 || at === host.segments.length - 1) {
    // Retention or truncation removed it meanwhile (they wait for us, so this is a bug guard).
    cleaned.file.close()
    host.fs.remove(cleanedPath)
    throw new StorageError('IO_FAILED', `segment ${old.baseOffset} changed during compaction`)
  }
  host.fs.rename(cleanedPath, old.path(LOG_SUFFIX))
  host.segments[at] = cleaned
  old.file.close()
  await host.fs.syncDir(host.dir)
  const { index, timeIndex } = cleaned.encodeIndexes()
  await host.writeDurably(cleaned.path(INDEX_SUFFIX), index)
  await host.writeDurably(cleaned.path(TIME_INDEX_SUFFIX), timeIndex)
  await host.fs.syncDir(host.dir)
}
