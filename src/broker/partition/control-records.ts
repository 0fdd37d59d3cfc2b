// The control records the replica shell writes into a partition's log (control batches,
// attributes bit 5; consumers skip them): a new leader's LeaderChange, which opens its epoch,
// and a voter-set change (KIP-853's VotersRecord: version 0 names voter ids, version 1 also the
// directory ids known, by voter id). Keys are Kafka's control record keys (int16 version 0,
// int16 type); values are small JSON documents. Followers store the leader's
// bytes as they are and find voter records in them (they must report them to their core).
import { readBatchHeader, splitBatches, type Codec } from '../../codec/index.js'
import { VOTERS_MAX } from '../../raft/limits.js'
import type { NodeId, VoterDirectories, VoterSetAt } from '../../raft/types.js'

/** Kafka's control record types that we write. */
export const CONTROL_LEADER_CHANGE = 2
export const CONTROL_VOTERS = 6

const encoder = new TextEncoder()
const decoder = new TextDecoder()

function controlBatch(codec: Codec, type: number, value: object, epoch: number, timestamp: number): Uint8Array {
  const key = new Uint8Array([0, 0, type >> 8, type & 0xff])
  return codec.encodeBatch([{ key, value: encoder.encode(JSON.stringify(value)), timestamp }], { control: true, partitionLeaderEpoch: epoch })
}

/** A new leader's first batch of its epoch. */
export function leaderChangeBatch(codec: Codec, epoch: number, leaderId: NodeId, voters: readonly NodeId[], timestamp: number): Uint8Array {
  return controlBatch(codec, CONTROL_LEADER_CHANGE, { version: 0, leaderId, epoch, voters }, epoch, timestamp)
}

/** A voter record: `voters` is the set in force from this record on, with their directory ids where known. */
export function votersBatch(codec: Codec, epoch: number, voters: readonly NodeId[], directoryIds: VoterDirectories | undefined, timestamp: number): Uint8Array {
  const value = directoryIds === undefined ? { version: 0, voters } : { version: 1, voters, directoryIds }
  return controlBatch(codec, CONTROL_VOTERS, value, epoch, timestamp)
}

/** The control record type of a decoded control record key, or -1. */
export function controlType(key: Uint8Array | null): number {
  return key === null || key.length < 4 ? -1 : (key[2] << 8) | key[3]
}

/** The voter set a voter record's value names; throws on a malformed one (it came from a leader). */
export function parseVoters(value: Uint8Array | null): NodeId[] {
  return parseVoterRecord(value).voters
}

/** The voter set and directory ids a voter record's value names (none in a version 0 record). */
export function parseVoterRecord(value: Uint8Array | null): { voters: NodeId[]; directoryIds?: VoterDirectories } {
  const doc = value === null ? null : (JSON.parse(decoder.decode(value)) as { voters?: unknown; directoryIds?: unknown })
  const voters = doc?.voters
  const dirs = doc?.directoryIds
  const ok = Array.isArray(voters) && voters.length >= 1 && voters.length <= VOTERS_MAX &&
    voters.every((v) => Number.isSafeInteger(v) && v >= 0) && new Set(voters).size === voters.length &&
    (dirs === undefined || (typeof dirs === 'object' && dirs !== null && !Array.isArray(dirs) &&
      Object.entries(dirs).every(([k, d]) => voters.includes(Number(k)) && typeof d === 'string' && d.length > 0)))
  if (!ok) throw new Error(`malformed voter record: ${value === null ? 'null' : decoder.decode(value)}`)
  const sorted = [...(voters as NodeId[])].sort((a, b) => a - b)
  return dirs === undefined ? { voters: sorted } : { voters: sorted, directoryIds: dirs as VoterDirectories }
}

/** The voter records in concatenated batches (only control batches are decoded). */
export function voterRecordsIn(codec: Codec, bytes: Uint8Array): VoterSetAt[] {
  const found: VoterSetAt[] = []
  for (const [start, end] of splitBatches(bytes)) {
    if (!readBatchHeader(bytes, start).control) continue
    for (const r of codec.decodeBatch(bytes.subarray(start, end), { contiguous: false }).records) {
      if (controlType(r.key) === CONTROL_VOTERS) found.push({ offset: r.offset, ...parseVoterRecord(r.value) })
    }
  }
  return found
}
