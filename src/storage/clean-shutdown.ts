// The clean-shutdown marker (Kafka's `.kafka_cleanshutdown`), one per partition directory. A
// close that flushed the log, wrote the active segment's index files and saved the epoch
// checkpoint (each fsynced, their names too) writes it last; it names the active segment, its
// size and the log end it then had. The next open that finds it, and finds the files agreeing
// with it, trusts them instead of validating the active segment batch by batch, and skips the
// fsyncs a crash recovery needs (nothing was cut). That open removes it at once, and the log makes
// the removal durable before its first write (PartitionLog): a crash after that start is a crash.
//
// Why it cannot vouch for a log it does not describe:
// - written only by a close in which every step succeeded, after them (a failed or abandoned log
//   writes none), and per directory, so a partition that was not open at a clean stop keeps the
//   state (and the recovery) its last open left;
// - checksummed: a torn marker is ignored (a full recovery follows);
// - the active segment's base and size, the index files and the log end must all agree with it;
// - a second process cannot write the same directory (the broker's data-dir lock), and the
//   read-only dump never removes or writes it.
// No fsync of its own: lost in a power cut, the next open recovers in full, which is always safe.
import { join } from 'node:path'
import { decodeCountsLine, encodeCheckedText, readSmallFile, writeUnsynced } from './atomic-file.js'
import { StorageError } from './errors.js'
import type { FileLayer } from './file-layer.js'

export const CLEAN_SHUTDOWN_FILE = 'clean-shutdown'
const MAGIC = 'bitacora-clean-shutdown'

type Crc = (bytes: Uint8Array) => number

/** What a clean close left: the active segment as it was, byte for byte. */
export interface CleanShutdown {
  readonly activeBaseOffset: number
  readonly activeSizeBytes: number
  /** The log end (exclusive) at the close: the active segment's next offset. */
  readonly logEndOffset: number
}

export function encodeCleanShutdown(state: CleanShutdown, crc32c: Crc): Uint8Array {
  return encodeCheckedText(MAGIC, [`${state.activeBaseOffset} ${state.activeSizeBytes} ${state.logEndOffset}`], crc32c)
}

/** Throws CORRUPT_FILE when the bytes are not a whole marker. */
export function decodeCleanShutdown(bytes: Uint8Array, crc32c: Crc): CleanShutdown {
  const [base, size, end] = decodeCountsLine(MAGIC, bytes, crc32c, CLEAN_SHUTDOWN_FILE, 3)
  if (end < base) throw new StorageError('CORRUPT_FILE', `${CLEAN_SHUTDOWN_FILE} is damaged: log end ${end} below the segment base ${base}`)
  return { activeBaseOffset: base, activeSizeBytes: size, logEndOffset: end }
}

/** Writes the marker (last step of a clean close). Not fsynced: see the file comment. */
export function writeCleanShutdown(fs: FileLayer, dir: string, state: CleanShutdown, crc32c: Crc): void {
  writeUnsynced(fs, join(dir, CLEAN_SHUTDOWN_FILE), encodeCleanShutdown(state, crc32c))
}

/**
 * Reads and removes the marker (the removal is not durable yet: the caller syncs the directory
 * before the log's first write). Null when there is none; a damaged one is reported and ignored.
 */
export function takeCleanShutdown(fs: FileLayer, dir: string, crc32c: Crc, problems: StorageError[]): CleanShutdown | null {
  const path = join(dir, CLEAN_SHUTDOWN_FILE)
  let bytes: Uint8Array | null
  try {
    bytes = readSmallFile(fs, path)
  } catch (err) {
    if (!(err instanceof StorageError)) throw err
    problems.push(err)
    bytes = null
  }
  if (bytes === null && !fs.exists(path)) return null
  fs.remove(path)
  if (bytes === null) return null
  try {
    return decodeCleanShutdown(bytes, crc32c)
  } catch (err) {
    if (!(err instanceof StorageError)) throw err
    problems.push(err)
    return null
  }
}
