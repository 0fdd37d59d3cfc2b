// The control records the replica shell writes into a partition's log (control batches,
// attributes bit 5; consumers skip them): a new leader's LeaderChange, which opens its epoch,
// and a voter-set change (KIP-853's VotersRecord). Keys are Kafka's control record keys
// (int16 version 0, int16 type); values are small JSON documents. Followers store the leader's
// bytes as they are and find voter records in them (they must report them to their core).
import { readBatchHeader, splitBatches, type Codec } from '../../codec/index.js'
import { VOTERS_MAX } from '../../raft/limits.js'
import type { NodeId, VoterSetAt } from '../../raft/types.js'

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

/** A voter record: `voters` is the set in force from this record on. */
export function votersBatch(codec: Codec, epoch: number, voters: readonly NodeId[], timestamp: number): Uint8Array {
  return controlBatch(codec, CONTROL_VOTERS, { version: 0, voters }, epoch, timestamp)
}

/** The control record type of a decoded control record key, or -1. */
export function controlType(key: Uint8Array | null): number {
  return key === null || key.length < 4 ? -1 : (key[2] << 8) | key[3]
}

/** The voter set a voter record's value names; throws on a malformed one (it came from a leader). */
export function parseVoters(value: Uint8Array | null): NodeId[] {
  const doc = value === null ? null : (JSON.parse(decoder.decode(value)) as { voters?: unknown })
  const voters = doc?.voters
  const ok = Array.isArray(voters) && voters.length >= 1 && voters.length <= VOTERS_MAX &&
    voters.every((v) => Number.isSafeInteger(v) && v >= 0) && new Set(voters).size === voters.length
  if (!ok) throw new Error(`malformed voter record: ${value === null ? 'null' : decoder.decode(value)}`)
  return [...(voters as NodeId[])].sort((a, b) => a - b)
}

/** The voter records in concatenated batches (only control batches are decoded). */
export function voterRecordsIn(codec: Codec, bytes: Uint8Array): VoterSetAt[] {
  const found: VoterSetAt[] = []
  for (const [start, end] of splitBatches(bytes)) {
    if (!readBatchHeader(bytes, start).control) continue
    for (const r of codec.decodeBatch(bytes.subarray(start, end), { contiguous: false }).records) {
      if (controlType(r.key) === CONTROL_VOTERS) found.push({ offset: r.offset, voters: parseVoters(r.value) })
    }
  }
  return found
}
