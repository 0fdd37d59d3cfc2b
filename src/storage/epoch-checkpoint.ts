// The leader-epoch cache's entries on disk: `leader-epoch-checkpoint` beside the segments
// (retention never deletes it), written atomically, checksummed so that damage is detected
// rather than believed. The log start's epoch is kept with the log start (log-start-checkpoint.ts).
// Format (docs/storage.md):
//   bitacora-leader-epochs 1
//   <count>
//   <epoch> <startOffset>      (count lines)
//   crc32c <8 hex digits>
import { join } from 'node:path'
import {
  decodeCheckedText, encodeCheckedText, parseCount, readSmallFile, writeFileAtomic,
} from './atomic-file.js'
import type { EpochCache, EpochStart } from './epoch-cache.js'
import { StorageError } from './errors.js'
import type { FileLayer } from './file-layer.js'
import { EPOCH_CACHE_ENTRIES_MAX } from './limits.js'

export const EPOCH_CHECKPOINT_FILE = 'leader-epoch-checkpoint'
const MAGIC = 'bitacora-leader-epochs'

type Crc = (bytes: Uint8Array) => number

export function encodeEpochCheckpoint(entries: readonly EpochStart[], crc32c: Crc): Uint8Array {
  return encodeCheckedText(MAGIC, [String(entries.length), ...entries.map((e) => `${e.epoch} ${e.startOffset}`)], crc32c)
}

export function decodeEpochCheckpoint(bytes: Uint8Array, crc32c: Crc): EpochStart[] {
  const what = EPOCH_CHECKPOINT_FILE
  const lines = decodeCheckedText(MAGIC, bytes, crc32c, what)
  const count = parseCount(lines[0], `${what} count`)
  if (count > EPOCH_CACHE_ENTRIES_MAX || lines.length !== count + 1) {
    throw new StorageError('CORRUPT_FILE', `${what} is damaged: declares ${count} entries, holds ${lines.length - 1}`)
  }
  const entries: EpochStart[] = []
  for (let i = 1; i <= count; i++) {
    const [e, o, extra] = lines[i].split(' ')
    if (extra !== undefined) throw new StorageError('CORRUPT_FILE', `${what} is damaged: line "${lines[i]}"`)
    const entry = { epoch: parseCount(e, `${what} epoch`), startOffset: parseCount(o, `${what} offset`) }
    const prev = entries[entries.length - 1]
    if (prev !== undefined && (entry.epoch <= prev.epoch || entry.startOffset <= prev.startOffset)) {
      throw new StorageError('CORRUPT_FILE', `${what} is damaged: entries do not increase at line ${i}`)
    }
    entries.push(entry)
  }
  return entries
}

/** Loads the saved entries; null if the file is missing. Throws CORRUPT_FILE if it is damaged. */
export function loadEpochCheckpoint(fs: FileLayer, dir: string, crc32c: Crc): EpochStart[] | null {
  const bytes = readSmallFile(fs, join(dir, EPOCH_CHECKPOINT_FILE))
  return bytes === null ? null : decodeEpochCheckpoint(bytes, crc32c)
}

export function saveEpochCache(fs: FileLayer, dir: string, cache: EpochCache, crc32c: Crc): Promise<void> {
  return writeFileAtomic(fs, join(dir, EPOCH_CHECKPOINT_FILE), encodeEpochCheckpoint(cache.entries, crc32c))
}
