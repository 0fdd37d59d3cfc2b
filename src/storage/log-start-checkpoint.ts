// The log start offset on disk: `log-start-offset` beside the segments. Needed because
// deleteRecordsBefore may move the start into the middle of the first segment, where no file
// name records it. Written atomically and checksummed. Format (docs/storage.md):
//   bitacora-log-start 1
//   <offset>
//   crc32c <8 hex digits>
import { join } from 'node:path'
import {
  decodeCheckedText, encodeCheckedText, parseCount, readSmallFile, writeFileAtomic,
} from './atomic-file.js'
import type { FileLayer } from './file-layer.js'

export const LOG_START_FILE = 'log-start-offset'
const MAGIC = 'bitacora-log-start'

type Crc = (bytes: Uint8Array) => number

/** The saved log start, or null if there is no file. Throws CORRUPT_FILE if it is damaged. */
export function loadLogStart(fs: FileLayer, dir: string, crc32c: Crc): number | null {
  const bytes = readSmallFile(fs, join(dir, LOG_START_FILE))
  if (bytes === null) return null
  const lines = decodeCheckedText(MAGIC, bytes, crc32c, LOG_START_FILE)
  return parseCount(lines[0], LOG_START_FILE)
}

export function saveLogStart(fs: FileLayer, dir: string, offset: number, crc32c: Crc): Promise<void> {
  return writeFileAtomic(fs, join(dir, LOG_START_FILE), encodeCheckedText(MAGIC, [String(offset)], crc32c))
}
