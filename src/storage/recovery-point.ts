// The recovery point (Kafka's recovery-point-offset-checkpoint, per partition): how far the
// active segment was fsynced, so that recovery after a crash validates only the bytes past it
// (at most about RECOVERY_POINT_INTERVAL_BYTES plus what the last fsyncs did not cover) and
// walks the headers below it. Bytes an fsync covered cannot be torn by a crash or a power cut.
//
// Rewritten in place after a group-commit fsync, once the active segment has grown by
// RECOVERY_POINT_INTERVAL_BYTES since the last one, and never fsynced itself: it is written only
// after the fsync that covers what it names, so whatever version a power cut leaves (the last,
// an older one, or a torn one that fails its checksum and is ignored) names durable bytes. What
// could make it lie is the log shrinking below it: a truncation or a reset removes it, durably,
// before changing the segment. It names its segment by base offset: after a roll it no longer
// matches the active segment and is ignored until rewritten. Format (checked text):
//   bitacora-recovery-point 1
//   <segment base offset> <position> <offset at position>
//   crc32c <8 hex digits>
import { join } from 'node:path'
import { decodeCountsLine, encodeCheckedText, readSmallFile, writeUnsynced } from './atomic-file.js'
import { StorageError } from './errors.js'
import type { FileLayer } from './file-layer.js'

export const RECOVERY_POINT_FILE = 'recovery-point'
const MAGIC = 'bitacora-recovery-point'

type Crc = (bytes: Uint8Array) => number

export interface RecoveryPoint {
  readonly segmentBaseOffset: number
  /** Bytes from the segment's start that an fsync covered (a batch boundary). */
  readonly position: number
  /** The offset of the batch at `position` (the log end when the fsync started). */
  readonly offset: number
}

export function encodeRecoveryPoint(point: RecoveryPoint, crc32c: Crc): Uint8Array {
  return encodeCheckedText(MAGIC, [`${point.segmentBaseOffset} ${point.position} ${point.offset}`], crc32c)
}

/** Throws CORRUPT_FILE when the bytes are not a whole recovery point. */
export function decodeRecoveryPoint(bytes: Uint8Array, crc32c: Crc): RecoveryPoint {
  const [base, position, offset] = decodeCountsLine(MAGIC, bytes, crc32c, RECOVERY_POINT_FILE, 3)
  if (offset < base) throw new StorageError('CORRUPT_FILE', `${RECOVERY_POINT_FILE} is damaged: offset ${offset} below the segment base ${base}`)
  return { segmentBaseOffset: base, position, offset }
}

/** Rewrites the file in place, without an fsync (see above). */
export function writeRecoveryPoint(fs: FileLayer, dir: string, point: RecoveryPoint, crc32c: Crc): void {
  writeUnsynced(fs, join(dir, RECOVERY_POINT_FILE), encodeRecoveryPoint(point, crc32c))
}

/** The saved point, or null (none, or damaged: reported in `problems`, and recovery validates all). */
export function loadRecoveryPoint(fs: FileLayer, dir: string, crc32c: Crc, problems: StorageError[]): RecoveryPoint | null {
  try {
    const bytes = readSmallFile(fs, join(dir, RECOVERY_POINT_FILE))
    return bytes === null ? null : decodeRecoveryPoint(bytes, crc32c)
  } catch (err) {
    if (!(err instanceof StorageError)) throw err
    problems.push(err)
    return null
  }
}
