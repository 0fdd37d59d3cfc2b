// The voter sets of a partition's Raft group, beside its log: the set in force at the log start
// and every voter record in the log, by offset. A reopened replica takes its voters from here
// (never from config, once the partition exists), without scanning the log; a replica reset to
// a leader's log start keeps the set the leader named, although no record of it is left.
//
// Crash safety comes from the order of writes, not from one atomic step: an entry is written
// before its record is appended (leader and follower alike) and after a truncation removed one,
// and an entry at or past the log end is dropped on open (its record was never made durable, or
// was truncated away). So every voter record on disk has its entry here, and an entry inside the
// log is a record of the log. Written atomically and checksummed. Format (docs/storage.md):
//   bitacora-voter-sets 1           (2 when a directory id is known: then <id>@<directory id>)
//   <count>
//   <offset> <id>,<id>,...     (offsets increase; the first is at or below log start - 1)
//   crc32c <8 hex digits>
import { join } from 'node:path'
import type { NodeId, VoterDirectories, VoterSetAt } from '../../raft/types.js'
import { sameDirectories } from '../../raft/voter-set.js'
import {
  decodeVersionedText, encodeCheckedText, parseCount, readSmallFile, StorageError, writeFileAtomic, type FileLayer,
} from '../../storage/index.js'
import { VOTER_SETS_MAX } from '../../raft/limits.js'

export const VOTER_SETS_FILE = 'voter-sets'
const MAGIC = 'bitacora-voter-sets'

type Crc = (bytes: Uint8Array) => number

export function encodeVoterSets(sets: readonly VoterSetAt[], crc32c: Crc): Uint8Array {
  // Version 1 while no directory id is known, so a file without them reads as it always did.
  const version = sets.some((s) => s.directoryIds !== undefined) ? 2 : 1
  const voter = (s: VoterSetAt, id: NodeId) => (s.directoryIds?.[id] === undefined ? `${id}` : `${id}@${s.directoryIds[id]}`)
  return encodeCheckedText(MAGIC, [String(sets.length), ...sets.map((s) => `${s.offset} ${s.voters.map((id) => voter(s, id)).join(',')}`)], crc32c, version)
}

export function decodeVoterSets(bytes: Uint8Array, crc32c: Crc): VoterSetAt[] {
  const { lines } = decodeVersionedText(MAGIC, [1, 2], bytes, crc32c, VOTER_SETS_FILE)
  const count = parseCount(lines[0], `${VOTER_SETS_FILE} count`)
  const damaged = (why: string) => new StorageError('CORRUPT_FILE', `${VOTER_SETS_FILE} is damaged: ${why}`)
  if (count < 1 || count > VOTER_SETS_MAX || lines.length !== count + 1) throw damaged(`declares ${count} entries, holds ${lines.length - 1}`)
  const sets: VoterSetAt[] = []
  for (let i = 1; i <= count; i++) {
    const [offsetText, idsText, extra] = lines[i].split(' ')
    if (extra !== undefined || idsText === undefined) throw damaged(`line "${lines[i]}"`)
    const offset = parseCount(offsetText, `${VOTER_SETS_FILE} offset`, -1)
    const voters: NodeId[] = []
    const dirs: Record<NodeId, string> = {}
    for (const token of idsText.split(',')) {
      const [idText, dir, more] = token.split('@')
      if (more !== undefined || dir === '') throw damaged(`voter "${token}"`)
      const id = parseCount(idText, `${VOTER_SETS_FILE} voter`)
      voters.push(id)
      if (dir !== undefined) dirs[id] = dir
    }
    if (sets.length > 0 && offset <= sets[sets.length - 1].offset) throw damaged(`offsets do not increase at line ${i}`)
    sets.push(Object.keys(dirs).length === 0 ? { offset, voters } : { offset, voters, directoryIds: dirs })
  }
  return sets
}

/** The saved sets, or null if there is no file. Throws CORRUPT_FILE if it is damaged. */
export function loadVoterSets(fs: FileLayer, dir: string, crc32c: Crc): VoterSetAt[] | null {
  const bytes = readSmallFile(fs, join(dir, VOTER_SETS_FILE))
  return bytes === null ? null : decodeVoterSets(bytes, crc32c)
}

export function saveVoterSets(fs: FileLayer, dir: string, sets: readonly VoterSetAt[], crc32c: Crc): Promise<void> {
  return writeFileAtomic(fs, join(dir, VOTER_SETS_FILE), encodeVoterSets(sets, crc32c))
}

/**
 * What a log holding [logStart, logEnd) can have: entries at or past the end go (their records
 * were lost or truncated), and those below the start fold into one, the set in force there.
 */
export function fitToLog(sets: readonly VoterSetAt[], logStart: number, logEnd: number): VoterSetAt[] {
  const kept = sets.filter((s) => s.offset < logEnd)
  let base = 0
  while (base + 1 < kept.length && kept[base + 1].offset < logStart) base++
  return kept.slice(base)
}

/** The sets after appending a voter record at `offset` (after every entry). */
export function withRecord(sets: readonly VoterSetAt[], offset: number, voters: readonly NodeId[], directoryIds?: VoterDirectories): VoterSetAt[] {
  const last = sets[sets.length - 1]
  if (last !== undefined && offset <= last.offset) throw new Error(`voter record at ${offset} is not after ${last.offset}`)
  return [...sets, voterSet(offset, voters, directoryIds)]
}

/** One entry (without a directoryIds field when none is known). */
export function voterSet(offset: number, voters: readonly NodeId[], directoryIds: VoterDirectories | undefined): VoterSetAt {
  return directoryIds === undefined ? { offset, voters: [...voters] } : { offset, voters: [...voters], directoryIds }
}

export function sameSets(a: readonly VoterSetAt[], b: readonly VoterSetAt[]): boolean {
  return a.length === b.length &&
    a.every((s, i) => s.offset === b[i].offset && s.voters.join() === b[i].voters.join() && sameDirectories(s.directoryIds, b[i].directoryIds))
}
