// The offline view of one partition directory, for `bitacora log dump`: its segments, its
// checkpoints, and every batch as stored, with its CRC checked (stored against computed) and,
// when asked, its records. Read-only by construction (give it a ReadOnlyFileLayer) and never
// "fixing" anything: a torn tail, a bad CRC, a segment that is not ours, a damaged checkpoint
// are findings, reported where they are. Memory stays bounded: segments are walked in chunks of
// SCAN_CHUNK_BYTES (one batch, at most STORED_BATCH_BYTES_MAX, if larger), and each batch is
// handed to `emit` and awaited before the walk reads on, so a slow reader slows the walk.
import type { BatchHeader, Codec, DecodedRecord } from '../codec/index.js'
import { join } from 'node:path'
import { CodecError } from '../codec/index.js'
import { CRC_START } from '../codec/layout.js'
import { loadEpochCheckpoint } from './epoch-checkpoint.js'
import type { EpochStart } from './epoch-cache.js'
import { StorageError } from './errors.js'
import type { FileHandle, FileLayer } from './file-layer.js'
import { loadLogStart, type SavedLogStart } from './log-start-checkpoint.js'
import { walkBatches } from './scan.js'

/** A segment file: `<base offset, 20 digits>.log`. */
const SEGMENT_NAME = /^(\d{20})\.log$/

export type FindingKind =
  /** The active (last) segment ends in a batch cut off or unreadable: what recovery truncates (or a running broker is writing). */
  | 'torn-tail'
  /** A closed segment stops making sense at a byte (not a batch, cut off, offsets going back): the rest of it is unreadable. */
  | 'corrupt-segment'
  /** A batch whose stored CRC32C is not the one its bytes give. */
  | 'crc-mismatch'
  /** With records asked for: a batch whose records section does not decode. */
  | 'bad-records'
  /** leader-epoch-checkpoint or log-start-offset fails its checksum or does not parse. */
  | 'damaged-checkpoint'
  /** A file that could not be read (gone since listed: retention or truncation of a running broker; permissions). */
  | 'unreadable'

export interface Finding {
  readonly kind: FindingKind
  /** The segment file, when the finding is in one. */
  readonly segment?: string
  /** Byte position in the segment. */
  readonly position?: number
  readonly message: string
}

export interface SegmentFile {
  readonly file: string
  readonly baseOffset: number
  /** Its size when listed (the active segment of a running broker may grow). */
  readonly sizeBytes: number
}

/** What a partition directory holds besides its batches. */
export interface PartitionFacts {
  /** In offset order; the last one is the active segment. */
  readonly segments: readonly SegmentFile[]
  /** The log-start-offset checkpoint; null when there is none (the log starts at its first segment) or it is damaged. */
  readonly logStart: SavedLogStart | null
  /** The leader-epoch-checkpoint entries; null when there is none or it is damaged. */
  readonly leaderEpochs: readonly EpochStart[] | null
  /** Damaged or unreadable checkpoints. */
  readonly findings: readonly Finding[]
}

export interface DumpedBatch {
  readonly segment: string
  readonly position: number
  readonly header: BatchHeader
  /** CRC32C of the bytes the stored CRC covers (attributes to the end). */
  readonly computedCrc: number
  /** With records asked for: the records (views valid only during `emit`), or why they do not decode. */
  readonly records?: readonly DecodedRecord[] | { readonly error: string }
}

export type DumpEvent =
  | { readonly type: 'segment'; readonly segment: SegmentFile; readonly active: boolean }
  | { readonly type: 'batch'; readonly batch: DumpedBatch }
  | { readonly type: 'finding'; readonly finding: Finding }

export interface DumpSummary {
  readonly batches: number
  readonly records: number
  readonly crcMismatches: number
  /** Findings while walking the batches (those of PartitionFacts not counted). */
  readonly findings: number
  /** The offset after the last batch dumped; null when none was. */
  readonly nextOffset: number | null
  /** True when the walk stopped at maxOffset rather than at the end of the log. */
  readonly stoppedAtMaxOffset: boolean
}

export interface DumpOptions {
  /** Decode each batch's records (decompressing them). */
  readonly records?: boolean
  /** Stop before the first batch holding an offset at or past this (exclusive, as a read's maxOffset: give a high watermark). */
  readonly maxOffset?: number
}

/** The segments and checkpoints of partition directory `dir`; what cannot be read is a finding. */
export function partitionFacts(fs: FileLayer, dir: string, crc32c: (b: Uint8Array) => number): PartitionFacts {
  const findings: Finding[] = []
  const segments: SegmentFile[] = []
  let files: string[]
  try {
    files = fs.list(dir).sort()
  } catch (err) {
    return { segments, logStart: null, leaderEpochs: null, findings: [{ kind: 'unreadable', message: `${dir}: ${reason(err)}` }] }
  }
  for (const file of files) {
    const m = SEGMENT_NAME.exec(file)
    if (m === null) continue
    const size = sizeOf(fs, join(dir, file))
    if (typeof size === 'string') findings.push({ kind: 'unreadable', segment: file, message: `${file}: ${size}` })
    else segments.push({ file, baseOffset: Number(m[1]), sizeBytes: size })
  }
  const checkpoint = <T>(name: string, load: () => T): T | null => {
    try {
      return load()
    } catch (err) {
      findings.push({ kind: err instanceof StorageError ? 'damaged-checkpoint' : 'unreadable', message: `${name}: ${(err as Error).message}` })
      return null
    }
  }
  const logStart = checkpoint('log-start-offset', () => loadLogStart(fs, dir, crc32c))
  const leaderEpochs = checkpoint('leader-epoch-checkpoint', () => loadEpochCheckpoint(fs, dir, crc32c))
  return { segments, logStart, leaderEpochs, findings }
}

/**
 * Walks every batch of the partition's segments, in order, handing each event to `emit`
 * (awaited; false ends the walk: the reader has gone).
 */
export async function dumpPartition(
  fs: FileLayer, dir: string, facts: PartitionFacts, codec: Codec, options: DumpOptions,
  emit: (event: DumpEvent) => Promise<boolean>,
): Promise<DumpSummary> {
  const walk: Walk = { codec, options, counts: { batches: 0, records: 0, crcMismatches: 0, findings: 0 }, nextOffset: null, reading: true, emit }
  for (const [i, segment] of facts.segments.entries()) {
    if (!walk.reading) break
    const active = i === facts.segments.length - 1
    await send(walk, { type: 'segment', segment, active })
    const file = openOrReason(fs, join(dir, segment.file))
    if (typeof file === 'string') {
      await find(walk, { kind: 'unreadable', segment: segment.file, message: `${segment.file}: ${file}` })
      continue
    }
    try {
      if (await dumpSegment(walk, file, segment, active) === 'max-offset') return { ...walk.counts, nextOffset: walk.nextOffset, stoppedAtMaxOffset: true }
    } catch (err) {
      // A read that fails (EIO from a failing disk) ends this segment, not the dump.
      await find(walk, { kind: 'unreadable', segment: segment.file, message: `${segment.file}: ${reason(err)}` })
    } finally {
      file.close()
    }
  }
  return { ...walk.counts, nextOffset: walk.nextOffset, stoppedAtMaxOffset: false }
}

/** One dump's state as it walks the segments. */
interface Walk {
  readonly codec: Codec
  readonly options: DumpOptions
  readonly counts: { batches: number; records: number; crcMismatches: number; findings: number }
  nextOffset: number | null
  /** False once `emit` said the reader has gone. */
  reading: boolean
  readonly emit: (event: DumpEvent) => Promise<boolean>
}

async function send(walk: Walk, event: DumpEvent): Promise<void> {
  if (walk.reading) walk.reading = await walk.emit(event)
}

function find(walk: Walk, finding: Finding): Promise<void> {
  walk.counts.findings++
  return send(walk, { type: 'finding', finding })
}

/** The batches of one segment; 'max-offset' when the walk stopped there. */
async function dumpSegment(walk: Walk, file: FileHandle, segment: SegmentFile, active: boolean): Promise<'end' | 'max-offset'> {
  // The size now: bytes a running broker appends from here on are not read.
  const size = file.size()
  const batches = walkBatches(file, 0, size, segment.baseOffset)
  for (let step = batches.next(); walk.reading; step = batches.next()) {
    if (step.done) {
      if (step.value.error !== undefined) await find(walk, stopFinding(segment, active, step.value.endPosition, size, step.value.error))
      break
    }
    const { header, bytes, position } = step.value
    if (walk.options.maxOffset !== undefined && header.nextOffset > walk.options.maxOffset) return 'max-offset'
    const computedCrc = walk.codec.crc32c(bytes.subarray(CRC_START, header.sizeBytes))
    const crcOk = computedCrc === header.crc
    // Records of a batch whose CRC fails are not believed (the decoder refuses them too).
    const records = !walk.options.records ? undefined : crcOk ? await decodeRecords(walk.codec, bytes) : { error: 'not decoded: the CRC does not match' }
    walk.counts.batches++
    walk.counts.records += header.recordCount
    walk.nextOffset = header.nextOffset
    await send(walk, { type: 'batch', batch: { segment: segment.file, position, header, computedCrc, records } })
    const at = `batch at offset ${header.baseOffset} (byte ${position})`
    if (!crcOk) {
      walk.counts.crcMismatches++
      const why = active ? 'in the active segment: recovery truncates from here' : 'in a closed segment: lost data, never served'
      await find(walk, { kind: 'crc-mismatch', segment: segment.file, position, message: `${at}: stored CRC ${hex(header.crc)}, computed ${hex(computedCrc)} (${why})` })
    } else if (records !== undefined && 'error' in records) {
      await find(walk, { kind: 'bad-records', segment: segment.file, position, message: `${at}: records do not decode: ${records.error}` })
    }
  }
  return 'end'
}

/** A CRC as 8 hex digits. */
export function hex(crc: number): string {
  return (crc >>> 0).toString(16).padStart(8, '0')
}

/**
 * Why the walk of a segment stopped before its end, as a finding. In the active segment a batch
 * cut off, or anything after a good batch, is what a crash mid-write leaves (recovery truncates
 * it); a first batch that is not one at all, or a closed segment that stops making sense, is not.
 */
function stopFinding(segment: SegmentFile, active: boolean, position: number, size: number, error: string): Finding {
  const left = `${size - position} bytes from byte ${position} not read`
  const torn = active && (position > 0 || /cut off|truncated header/.test(error))
  return torn
    ? { kind: 'torn-tail', segment: segment.file, position, message: `${segment.file} ${error}; ${left} (recovery truncates them; a running broker may be mid-write)` }
    : { kind: 'corrupt-segment', segment: segment.file, position, message: `${segment.file} ${error}; ${left} (${active ? 'not a segment of RecordBatch v2 batches' : 'a closed segment: lost data, never served'})` }
}

async function decodeRecords(codec: Codec, bytes: Uint8Array): Promise<readonly DecodedRecord[] | { error: string }> {
  try {
    return (await codec.decodeBatchAsync(bytes, { contiguous: false })).records
  } catch (err) {
    if (err instanceof CodecError) return { error: `${err.code}: ${err.message}` }
    throw err
  }
}

function openOrReason(fs: FileLayer, path: string): FileHandle | string {
  try {
    return fs.open(path, { create: false })
  } catch (err) {
    return reason(err)
  }
}

function sizeOf(fs: FileLayer, path: string): number | string {
  const file = openOrReason(fs, path)
  if (typeof file === 'string') return file
  try {
    return file.size()
  } finally {
    file.close()
  }
}

/** A file-system error as a short reason (ENOENT: gone since listed, e.g. deleted by retention). */
function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException
  if (e.code === 'ENOENT') return 'gone since it was listed (deleted by a running broker?)'
  if (typeof e.code === 'string') return `${e.code}: ${e.message}`
  throw err
}
