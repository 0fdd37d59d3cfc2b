// The log start on disk: `log-start-offset` beside the segments, holding the log start offset and
// the leader epoch of the record just below it. The offset is needed because deleteRecordsBefore
// may move the start into the middle of a segment, where no file name records it; the epoch
// because the records below the start are gone, yet an empty log still has to say how up to
// date it is (Raft's election restriction) after a reset. Both in one file, written atomically
// before anything is deleted, so they never disagree. Checksummed. Format (docs/storage.md):
//   bitacora-log-start 2
//   <offset> <epoch>
//   crc32c <8 hex digits>
// Version 1 (no epoch) is still read: the epoch is then derived from the epoch cache.
import { join } from 'node:path'
import {
  decodeVersionedText, encodeCheckedText, parseCount, readSmallFile, writeFileAtomic,
} from './atomic-file.js'
import { StorageError } from './errors.js'
import type { FileLayer } from './file-layer.js'

export const LOG_START_FILE = 'log-start-offset'
const MAGIC = 'bitacora-log-start'

type Crc = (bytes: Uint8Array) => number

export interface SavedLogStart {
  readonly offset: number
  /** Epoch of the record below the start; null in a version-1 file. */
  readonly epoch: number | null
}

/** The saved log start, or null if there is no file. Throws CORRUPT_FILE if it is damaged. */
export function loadLogStart(fs: FileLayer, dir: string, crc32c: Crc): SavedLogStart | null {
  const bytes = readSmallFile(fs, join(dir, LOG_START_FILE))
  if (bytes === null) return null
  const { version, lines } = decodeVersionedText(MAGIC, [1, 2], bytes, crc32c, LOG_START_FILE)
  if (version === 1) return { offset: parseCount(lines[0], LOG_START_FILE), epoch: null }
  const [offset, epoch, extra] = (lines[0] ?? '').split(' ')
  if (lines.length !== 1 || extra !== undefined) throw new StorageError('CORRUPT_FILE', `${LOG_START_FILE} is damaged: "${lines.join(' / ')}"`)
  return { offset: parseCount(offset, `${LOG_START_FILE} offset`), epoch: parseCount(epoch, `${LOG_START_FILE} epoch`) }
}

export function saveLogStart(fs: FileLayer, dir: string, start: { offset: number; epoch: number }, crc32c: Crc): Promise<void> {
  return writeFileAtomic(fs, join(dir, LOG_START_FILE), encodeCheckedText(MAGIC, [`${start.offset} ${start.epoch}`], crc32c, 2))
}
