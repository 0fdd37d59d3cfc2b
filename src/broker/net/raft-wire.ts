// Raft messages on the wire: the core's Message <-> one RaftFrame (proto), tagged with its
// partition's (topic id, partition). Record bytes and snapshot chunks travel as `bytes`, as
// the shell attached them. Decoding checks every field the Message needs, so a frame from a
// buggy or hostile peer is refused whole with a RaftWireError, never handed on half-built.
// `from` and `to` travel once per RaftFrames envelope, checked by the receiver (peer-receiver.ts).
import { bitacora } from '../../protocol/index.js'
import { extendIntoRoom, roomBefore } from '../partition/read-buffers.js'
import type { DirectoryId, FetchRequest, FetchResponse, FetchSnapshotResponse, Message, NodeId, SnapshotId, VoterDirectories } from '../../raft/types.js'

type Frame = bitacora.RaftFrame.$Properties
type FetchResponseFrame = bitacora.RaftFetchResponse.$Properties
type SnapshotResponseFrame = bitacora.RaftFetchSnapshotResponse.$Properties

export type RaftWireErrorCode =
  /** A received frame is not a message the core could take (missing, mistyped or out-of-range fields). */
  | 'RAFT_FRAME_MALFORMED'
  /** A message to send cannot be put on the wire (a shell bug: bad topic id, records not attached). */
  | 'RAFT_MESSAGE_UNENCODABLE'

export class RaftWireError extends Error {
  override name = 'RaftWireError'
  constructor(readonly code: RaftWireErrorCode, message: string) {
    super(message)
  }
}

/** One message for one partition's Raft group. */
export interface PartitionMessage {
  /** 32 lowercase hex digits, as the metadata image keys topics. */
  readonly topicId: string
  readonly partition: number
  readonly message: Message
}

const TOPIC_ID_BYTES = 16
/** Longest directory id accepted (a UUID is 36 characters). */
const DIRECTORY_ID_MAX_CHARS = 64
const INT32_MAX = 0x7fffffff
/** Node id of "no leader" on the wire (proto3 has no null). */
const NO_NODE = -1

// ---- Message -> frame

/** The wire form of `message`, for the Raft group of (topicId, partition). */
export function encodeRaftFrame(topicId: string, partition: number, message: Message): Uint8Array {
  const idle = encodeIdleFrame(topicId, partition, message)
  if (idle !== null) return idle
  const frame = toRaftFrame(topicId, partition, message)
  const records = frame.fetchResponse?.records?.records
  if (records instanceof Uint8Array && records.length > 0) return encodeRecordsFrame(frame, records)
  return bitacora.RaftFrame.encode(frame).finish()
}

const TAG_FETCH_RESPONSE = (15 << 3) | 2 // RaftFrame.fetch_response, length-delimited
const TAG_RECORDS = (10 << 3) | 2 // RaftFetchResponse.records
const TAG_RECORD_BYTES = (1 << 3) | 2 // RaftFetchResponse.Records.records

/**
 * A fetch response carrying records, byte for byte what protobufjs writes for `frame`. In field
 * order the records are the frame's last bytes, so the small fields are encoded as usual and
 * written before them, with no pass of the protobuf writer over the records (its buffering and
 * finish() were 6 % of an RF=3 leader's CPU: perf/README.md). Records read with room before them
 * (a leader's read for a follower: log-directives.ts) get the head written into that room, so
 * they are not copied at all (the copy and its fresh buffer were 4 % of an RF=3 leader's CPU,
 * and more in garbage collection); other records are copied once behind the head.
 */
function encodeRecordsFrame(frame: Frame, records: Uint8Array): Uint8Array {
  const { fetchResponse, ...outer } = frame
  const { records: _, ...response } = fetchResponse!
  const head = bitacora.RaftFrame.encode(outer).finish()
  const responseHead = bitacora.RaftFetchResponse.encode(response).finish()
  const recordsMessage = 1 + varintBytes(records.length) + records.length
  const responseBody = responseHead.length + 1 + varintBytes(recordsMessage) + recordsMessage
  const headBytes = head.length + 1 + varintBytes(responseBody) + responseBody - records.length
  const inPlace = roomBefore(records) >= headBytes
  const out = inPlace ? extendIntoRoom(records, headBytes) : new Uint8Array(headBytes + records.length)
  out.set(head, 0)
  let at = head.length
  at = writeTagged(out, at, TAG_FETCH_RESPONSE, responseBody)
  out.set(responseHead, at)
  at = writeTagged(out, at + responseHead.length, TAG_RECORDS, recordsMessage)
  at = writeTagged(out, at, TAG_RECORD_BYTES, records.length)
  if (at !== headBytes) throw new Error(`raft frame: a ${headBytes}-byte head took ${at} bytes`)
  if (!inPlace) out.set(records, at)
  return out
}

const TAG_FETCH = (14 << 3) | 2 // RaftFrame.fetch
/** Field numbers of the fields written by hand (proto/bitacora.proto). */
const FRAME_FIELDS = { topicId: 1, partition: 2, epoch: 3 } as const
const FETCH_FIELDS = { fetchId: 1, fetchOffset: 2, lastFetchedEpoch: 3, flushedOffset: 4, maxBytes: 5, replicaDirectoryId: 6, highWatermark: 7 } as const
const RESPONSE_FIELDS = { fetchId: 1, fetchOffset: 2, highWatermark: 3, records: 10 } as const

/**
 * The two frames an idle partition sends a few times a second, a follower's fetch and a leader's
 * answer with nothing new, written directly: byte for byte what protobufjs writes for
 * toRaftFrame's object (proto3: fields at their default left out), without that object and the
 * writer's per-field work (~4 µs a frame: a few per cent of a core per broker with 1,000 idle
 * RF=3 partitions). Null for any other message, or a field only the general encoder handles
 * (a negative number, a directory id that is not ASCII).
 */
function encodeIdleFrame(topicId: string, partition: number, m: Message): Uint8Array | null {
  let tag: number
  const fields: Array<[number, number]> = []
  let directoryId = ''
  /** An optional field (proto3 `optional`): written when set, 0 included. */
  let highWatermark: number | undefined
  let emptyRecords = false
  if (m.type === 'fetch') {
    tag = TAG_FETCH
    fields.push([FETCH_FIELDS.fetchId, m.fetchId], [FETCH_FIELDS.fetchOffset, m.fetchOffset], [FETCH_FIELDS.lastFetchedEpoch, m.lastFetchedEpoch],
      [FETCH_FIELDS.flushedOffset, m.flushedOffset], [FETCH_FIELDS.maxBytes, m.maxBytes])
    directoryId = m.replicaDirectoryId ?? ''
    if (!isAscii(directoryId)) return null
    highWatermark = m.highWatermark
    if (highWatermark !== undefined && !(Number.isSafeInteger(highWatermark) && highWatermark >= 0)) return null
  } else if (m.type === 'fetchResponse' && m.kind === 'records' && (m.records === null || (m.records instanceof Uint8Array && m.records.length === 0))) {
    tag = TAG_FETCH_RESPONSE
    fields.push([RESPONSE_FIELDS.fetchId, m.fetchId], [RESPONSE_FIELDS.fetchOffset, m.fetchOffset], [RESPONSE_FIELDS.highWatermark, m.highWatermark])
    emptyRecords = true
  } else {
    return null
  }
  if (!Number.isInteger(partition) || partition < 0 || partition > INT32_MAX) unencodable(`partition ${partition} is not an int32 >= 0`)
  if (!fields.every(([, v]) => Number.isSafeInteger(v) && v >= 0) || !Number.isInteger(m.epoch) || m.epoch < 0 || m.epoch > INT32_MAX) return null
  let body = 0
  for (const [, v] of fields) if (v !== 0) body += 1 + varintBytes(v)
  if (directoryId !== '') body += 1 + varintBytes(directoryId.length) + directoryId.length
  if (highWatermark !== undefined) body += 1 + varintBytes(highWatermark)
  if (emptyRecords) body += 2
  const head = 2 + TOPIC_ID_BYTES + (partition !== 0 ? 1 + varintBytes(partition) : 0) + (m.epoch !== 0 ? 1 + varintBytes(m.epoch) : 0)
  const out = new Uint8Array(head + 1 + varintBytes(body) + body)
  let at = writeTagged(out, 0, (FRAME_FIELDS.topicId << 3) | 2, TOPIC_ID_BYTES)
  out.set(topicIdBytes(topicId), at)
  at += TOPIC_ID_BYTES
  if (partition !== 0) at = writeTagged(out, at, FRAME_FIELDS.partition << 3, partition)
  if (m.epoch !== 0) at = writeTagged(out, at, FRAME_FIELDS.epoch << 3, m.epoch)
  at = writeTagged(out, at, tag, body)
  for (const [field, v] of fields) if (v !== 0) at = writeTagged(out, at, field << 3, v)
  if (directoryId !== '') {
    at = writeTagged(out, at, (FETCH_FIELDS.replicaDirectoryId << 3) | 2, directoryId.length)
    for (let i = 0; i < directoryId.length; i++) out[at++] = directoryId.charCodeAt(i)
  }
  if (highWatermark !== undefined) at = writeTagged(out, at, FETCH_FIELDS.highWatermark << 3, highWatermark)
  if (emptyRecords) at = writeTagged(out, at, (RESPONSE_FIELDS.records << 3) | 2, 0)
  if (at !== out.length) throw new Error(`raft frame: wrote ${at} of ${out.length} bytes`)
  return out
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false
  return true
}

function varintBytes(v: number): number {
  let n = 1
  while (v >= 0x80) {
    v = Math.floor(v / 0x80)
    n++
  }
  return n
}

/** A one-byte tag and a varint (a length, or a value below 2^53), at `at`; returns where the next bytes begin. */
function writeTagged(out: Uint8Array, at: number, tag: number, length: number): number {
  out[at++] = tag
  while (length >= 0x80) {
    out[at++] = (length & 0x7f) | 0x80
    length = Math.floor(length / 0x80)
  }
  out[at++] = length
  return at
}

export function toRaftFrame(topicId: string, partition: number, m: Message): Frame {
  if (!Number.isInteger(partition) || partition < 0 || partition > INT32_MAX) unencodable(`partition ${partition} is not an int32 >= 0`)
  const frame: Frame = { topicId: topicIdBytes(topicId), partition, epoch: m.epoch }
  switch (m.type) {
    case 'vote':
      frame.vote = {
        preVote: m.preVote, lastEpoch: m.lastEpoch, logEnd: m.logEnd,
        candidateDirectoryId: m.candidateDirectoryId ?? '', voterDirectoryId: m.voterDirectoryId ?? '',
      }
      break
    case 'voteResponse':
      frame.voteResponse = { preVote: m.preVote, granted: m.granted, leaderId: m.leaderId ?? NO_NODE }
      break
    case 'beginQuorumEpoch':
      frame.beginQuorumEpoch = { voterDirectoryId: m.voterDirectoryId ?? '' }
      break
    case 'endQuorumEpoch':
      frame.endQuorumEpoch = { preferredSuccessors: [...m.preferredSuccessors] }
      break
    case 'fetch':
      frame.fetch = {
        fetchId: m.fetchId, fetchOffset: m.fetchOffset, lastFetchedEpoch: m.lastFetchedEpoch, flushedOffset: m.flushedOffset, maxBytes: m.maxBytes,
        replicaDirectoryId: m.replicaDirectoryId ?? '',
        ...(m.highWatermark !== undefined ? { highWatermark: m.highWatermark } : {}),
      }
      break
    case 'fetchResponse':
      frame.fetchResponse = fetchResponseFrame(m)
      break
    case 'fetchSnapshot':
      frame.fetchSnapshot = { snapshotId: snapshotIdFrame(m.snapshotId), position: m.position, maxBytes: m.maxBytes, replicaDirectoryId: m.replicaDirectoryId ?? '' }
      break
    case 'fetchSnapshotResponse':
      frame.fetchSnapshotResponse = snapshotResponseFrame(m)
      break
  }
  return frame
}

function fetchResponseFrame(m: FetchResponse): FetchResponseFrame {
  const base = { fetchId: m.fetchId, fetchOffset: m.fetchOffset }
  switch (m.kind) {
    case 'records': {
      const records = recordBytes(m.records, 'a fetch response')
      // No records and empty records are one thing on the wire (the shell attaches null for an empty read).
      return { ...base, highWatermark: m.highWatermark, records: records === null || records.length === 0 ? {} : { records } }
    }
    case 'diverging':
      return { ...base, highWatermark: m.highWatermark, diverging: { divergingEpoch: m.divergingEpoch, divergingEndOffset: m.divergingEndOffset } }
    case 'outOfRange':
      return {
        ...base, highWatermark: m.highWatermark,
        outOfRange: { logStart: m.logStart, logStartEpoch: m.logStartEpoch, voters: [...m.voters], voterDirectoryIds: directoryList(m.voters, m.directoryIds) },
      }
    case 'snapshot': {
      const s = m.snapshot
      return {
        ...base, highWatermark: m.highWatermark,
        snapshot: { snapshotId: snapshotIdFrame(s), sizeBytes: s.sizeBytes, voters: [...m.voters], voterDirectoryIds: directoryList(m.voters, m.directoryIds) },
      }
    }
    case 'notLeader':
      return { ...base, notLeader: { leaderId: m.leaderId ?? NO_NODE } }
  }
}

function snapshotResponseFrame(m: FetchSnapshotResponse): SnapshotResponseFrame {
  const base = { snapshotId: snapshotIdFrame(m.snapshotId), position: m.position }
  switch (m.kind) {
    case 'chunk': {
      const chunk = recordBytes(m.chunk, 'a snapshot chunk')
      if (chunk === null || chunk.length !== m.length || m.length === 0) {
        unencodable(`a snapshot chunk of length ${m.length} carries ${chunk === null ? 'no bytes' : `${chunk.length} bytes`} (attachSnapshotChunk not carried out?)`)
      }
      return { ...base, chunk: { sizeBytes: m.sizeBytes, chunk } }
    }
    case 'notFound':
      return { ...base, notFound: {} }
    case 'notLeader':
      return { ...base, notLeader: { leaderId: m.leaderId ?? NO_NODE } }
  }
}

const snapshotIdFrame = (s: SnapshotId) => ({ endOffset: s.endOffset, epoch: s.epoch })

/** One directory id per voter ("" where unknown), or an empty list when none is known. */
function directoryList(voters: readonly NodeId[], dirs: VoterDirectories | undefined): string[] {
  return dirs === undefined ? [] : voters.map((v) => dirs[v] ?? '')
}

function recordBytes(records: unknown, what: string): Uint8Array | null {
  if (records === null || records instanceof Uint8Array) return records
  return unencodable(`${what} carries records that are not bytes`)
}

function unencodable(message: string): never {
  throw new RaftWireError('RAFT_MESSAGE_UNENCODABLE', message)
}

// ---- frame -> Message

/**
 * The message a received frame carries, from `from` to `to` (the envelope's, already checked
 * against the connection). Throws RaftWireError (RAFT_FRAME_MALFORMED) naming the bad field.
 */
export function fromRaftFrame(frame: Frame, from: NodeId, to: NodeId): PartitionMessage {
  const f = object(frame, 'frame')
  const topicId = topicIdHex(f.topicId)
  const partition = int32(f.partition, 'partition')
  const epoch = int32(f.epoch, 'epoch')
  const base = { from, to, epoch }
  let message: Message
  switch (kindOf(f, FRAME_KINDS, 'message')) {
    case 'vote': {
      const v = object(f.vote, 'vote')
      message = {
        type: 'vote', ...base, preVote: bool(v.preVote, 'vote.preVote'), lastEpoch: int32(v.lastEpoch, 'vote.lastEpoch'), logEnd: offset(v.logEnd, 'vote.logEnd'),
        ...present('candidateDirectoryId', directoryId(v.candidateDirectoryId, 'vote.candidateDirectoryId')),
        ...present('voterDirectoryId', directoryId(v.voterDirectoryId, 'vote.voterDirectoryId')),
      }
      break
    }
    case 'voteResponse': {
      const v = object(f.voteResponse, 'voteResponse')
      message = {
        type: 'voteResponse', ...base, preVote: bool(v.preVote, 'voteResponse.preVote'), granted: bool(v.granted, 'voteResponse.granted'),
        leaderId: leaderId(v.leaderId, 'voteResponse.leaderId'),
      }
      break
    }
    case 'beginQuorumEpoch': {
      const v = object(f.beginQuorumEpoch, 'beginQuorumEpoch')
      message = { type: 'beginQuorumEpoch', ...base, ...present('voterDirectoryId', directoryId(v.voterDirectoryId, 'beginQuorumEpoch.voterDirectoryId')) }
      break
    }
    case 'endQuorumEpoch':
      message = { type: 'endQuorumEpoch', ...base, preferredSuccessors: nodeIds(object(f.endQuorumEpoch, 'endQuorumEpoch').preferredSuccessors, 'endQuorumEpoch.preferredSuccessors', false) }
      break
    case 'fetch':
      message = fetchOf(object(f.fetch, 'fetch'), from, to, epoch)
      break
    case 'fetchResponse': {
      const v = object(f.fetchResponse, 'fetchResponse')
      message = v.records != null ? idleOrRecordsResponseOf(v, from, to, epoch) : fetchResponseOf(v, base)
      break
    }
    case 'fetchSnapshot': {
      const v = object(f.fetchSnapshot, 'fetchSnapshot')
      message = {
        type: 'fetchSnapshot', ...base, snapshotId: snapshotIdOf(v.snapshotId, 'fetchSnapshot.snapshotId'),
        position: offset(v.position, 'fetchSnapshot.position'), maxBytes: int32(v.maxBytes, 'fetchSnapshot.maxBytes'),
        ...present('replicaDirectoryId', directoryId(v.replicaDirectoryId, 'fetchSnapshot.replicaDirectoryId')),
      }
      break
    }
    case 'fetchSnapshotResponse':
      message = snapshotResponseOf(object(f.fetchSnapshotResponse, 'fetchSnapshotResponse'), base)
      break
  }
  return { topicId, partition, message }
}

interface Base {
  readonly from: NodeId
  readonly to: NodeId
  readonly epoch: number
}

const FRAME_KINDS = ['vote', 'voteResponse', 'beginQuorumEpoch', 'endQuorumEpoch', 'fetch', 'fetchResponse', 'fetchSnapshot', 'fetchSnapshotResponse'] as const
const FETCH_RESPONSE_KINDS = ['records', 'diverging', 'outOfRange', 'snapshot', 'notLeader'] as const
const SNAPSHOT_RESPONSE_KINDS = ['chunk', 'notFound', 'notLeader'] as const

// The two messages an idle partition exchanges thousands of times a second per broker (a
// follower's fetch, its leader's answer) are built as plain literals, not by spreading: no
// intermediate objects, and one shape each for the core to read.

function fetchOf(v: bitacora.RaftFetch.$Properties, from: NodeId, to: NodeId, epoch: number): FetchRequest {
  const fetchId = offset(v.fetchId, 'fetch.fetchId')
  const fetchOffset = offset(v.fetchOffset, 'fetch.fetchOffset')
  const lastFetchedEpoch = int32(v.lastFetchedEpoch, 'fetch.lastFetchedEpoch')
  const flushedOffset = offset(v.flushedOffset, 'fetch.flushedOffset')
  const maxBytes = int32(v.maxBytes, 'fetch.maxBytes')
  const replicaDirectoryId = directoryId(v.replicaDirectoryId, 'fetch.replicaDirectoryId')
  if (v.highWatermark == null) { // an older broker's
    return replicaDirectoryId === undefined
      ? { type: 'fetch', from, to, epoch, fetchId, fetchOffset, lastFetchedEpoch, flushedOffset, maxBytes }
      : { type: 'fetch', from, to, epoch, fetchId, fetchOffset, lastFetchedEpoch, flushedOffset, maxBytes, replicaDirectoryId }
  }
  const highWatermark = offset(v.highWatermark, 'fetch.highWatermark')
  return replicaDirectoryId === undefined
    ? { type: 'fetch', from, to, epoch, fetchId, fetchOffset, lastFetchedEpoch, flushedOffset, maxBytes, highWatermark }
    : { type: 'fetch', from, to, epoch, fetchId, fetchOffset, lastFetchedEpoch, flushedOffset, maxBytes, replicaDirectoryId, highWatermark }
}

/** A fetch response whose `records` field is set (the kind must still be that one alone). */
function idleOrRecordsResponseOf(v: FetchResponseFrame, from: NodeId, to: NodeId, epoch: number): FetchResponse {
  kindOf(v, FETCH_RESPONSE_KINDS, 'fetchResponse kind') // refuses a frame with a second kind set
  const fetchId = offset(v.fetchId, 'fetchResponse.fetchId')
  const fetchOffset = offset(v.fetchOffset, 'fetchResponse.fetchOffset')
  const highWatermark = offset(v.highWatermark, 'fetchResponse.highWatermark')
  const r = v.records!.records
  const records = r == null || (r instanceof Uint8Array && r.length === 0) ? null : bytes(r, 'fetchResponse.records.records')
  return { type: 'fetchResponse', from, to, epoch, fetchId, fetchOffset, kind: 'records', highWatermark, records }
}

function fetchResponseOf(v: FetchResponseFrame, b: Base): FetchResponse {
  const base = { type: 'fetchResponse' as const, ...b, fetchId: offset(v.fetchId, 'fetchResponse.fetchId'), fetchOffset: offset(v.fetchOffset, 'fetchResponse.fetchOffset') }
  const kind = kindOf(v, FETCH_RESPONSE_KINDS, 'fetchResponse kind')
  if (kind === 'notLeader') return { ...base, kind, leaderId: leaderId(object(v.notLeader, 'fetchResponse.notLeader').leaderId, 'fetchResponse.notLeader.leaderId') }
  const highWatermark = offset(v.highWatermark, 'fetchResponse.highWatermark')
  switch (kind) {
    case 'records': {
      const records = object(v.records, 'fetchResponse.records').records
      return { ...base, kind, highWatermark, records: records == null || (records instanceof Uint8Array && records.length === 0) ? null : bytes(records, 'fetchResponse.records.records') }
    }
    case 'diverging': {
      const d = object(v.diverging, 'fetchResponse.diverging')
      return { ...base, kind, highWatermark, divergingEpoch: int32(d.divergingEpoch, 'diverging.divergingEpoch'), divergingEndOffset: offset(d.divergingEndOffset, 'diverging.divergingEndOffset') }
    }
    case 'outOfRange': {
      const o = object(v.outOfRange, 'fetchResponse.outOfRange')
      const voters = nodeIds(o.voters, 'outOfRange.voters', true)
      return {
        ...base, kind, highWatermark, logStart: offset(o.logStart, 'outOfRange.logStart'), logStartEpoch: int32(o.logStartEpoch, 'outOfRange.logStartEpoch'),
        voters, ...present('directoryIds', voterDirectories(voters, o.voterDirectoryIds, 'outOfRange.voterDirectoryIds')),
      }
    }
    case 'snapshot': {
      const s = object(v.snapshot, 'fetchResponse.snapshot')
      const id = snapshotIdOf(s.snapshotId, 'snapshot.snapshotId')
      const voters = nodeIds(s.voters, 'snapshot.voters', true)
      return {
        ...base, kind, highWatermark, snapshot: { ...id, sizeBytes: offset(s.sizeBytes, 'snapshot.sizeBytes') }, voters,
        ...present('directoryIds', voterDirectories(voters, s.voterDirectoryIds, 'snapshot.voterDirectoryIds')),
      }
    }
  }
}

function snapshotResponseOf(v: SnapshotResponseFrame, b: Base): FetchSnapshotResponse {
  const base = {
    type: 'fetchSnapshotResponse' as const, ...b, snapshotId: snapshotIdOf(v.snapshotId, 'fetchSnapshotResponse.snapshotId'),
    position: offset(v.position, 'fetchSnapshotResponse.position'),
  }
  switch (kindOf(v, SNAPSHOT_RESPONSE_KINDS, 'fetchSnapshotResponse kind')) {
    case 'chunk': {
      const c = object(v.chunk, 'fetchSnapshotResponse.chunk')
      const chunk = bytes(c.chunk, 'chunk.chunk')
      if (chunk.length === 0) malformed('chunk.chunk is empty (a snapshot chunk has at least one byte)')
      return { ...base, kind: 'chunk', sizeBytes: offset(c.sizeBytes, 'chunk.sizeBytes'), length: chunk.length, chunk }
    }
    case 'notFound':
      return { ...base, kind: 'notFound' }
    case 'notLeader':
      return { ...base, kind: 'notLeader', leaderId: leaderId(object(v.notLeader, 'fetchSnapshotResponse.notLeader').leaderId, 'fetchSnapshotResponse.notLeader.leaderId') }
  }
}

/** The one field of `kinds` that is set: none or several is a malformed frame. */
function kindOf<K extends string>(v: object, kinds: readonly K[], what: string): K {
  let found: K | null = null
  for (const k of kinds) {
    if ((v as Record<string, unknown>)[k] == null) continue
    if (found !== null) malformed(`${what}: both ${found} and ${k} are set`)
    found = k
  }
  return found ?? malformed(`${what} is missing (none of ${kinds.join(', ')})`)
}

// Field readers. Absent scalars are proto3's defaults (0, false); anything else of the wrong
// type or range is refused by name.

function int32(v: unknown, field: string): number {
  const n = v ?? 0
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > INT32_MAX) malformed(`${field} is ${String(n)}, not an int32 >= 0`)
  return n as number
}

/** An offset, position, size or id: an integer in [0, 2^53). */
function offset(v: unknown, field: string): number {
  const n = v ?? 0
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) malformed(`${field} is ${String(n)}, not an integer in [0, 2^53)`)
  return n as number
}

function bool(v: unknown, field: string): boolean {
  const b = v ?? false
  if (typeof b !== 'boolean') malformed(`${field} is ${String(b)}, not a boolean`)
  return b as boolean
}

function leaderId(v: unknown, field: string): NodeId | null {
  return v === NO_NODE ? null : int32(v, field)
}

function nodeIds(v: unknown, field: string, nonEmpty: boolean): NodeId[] {
  const list = v ?? []
  if (!Array.isArray(list)) malformed(`${field} is not a list`)
  const ids = (list as unknown[]).map((id, i) => int32(id, `${field}[${i}]`))
  if (nonEmpty && ids.length === 0) malformed(`${field} is empty`)
  if (new Set(ids).size !== ids.length) malformed(`${field} names a node twice (${ids.join(', ')})`)
  return ids
}

/** `{ [key]: value }`, or nothing for an unknown (undefined) value: a decoded message has no undefined fields. */
function present<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V }
}

/** A directory id: "" (proto3's default) is unknown. */
function directoryId(v: unknown, field: string): DirectoryId | undefined {
  const s = v ?? ''
  if (typeof s !== 'string' || s.length > DIRECTORY_ID_MAX_CHARS) malformed(`${field} is not a directory id (text of at most ${DIRECTORY_ID_MAX_CHARS} characters)`)
  return s === '' ? undefined : (s as string)
}

/** One directory id per voter, or none at all. */
function voterDirectories(voters: readonly NodeId[], v: unknown, field: string): VoterDirectories | undefined {
  const list = v ?? []
  if (!Array.isArray(list)) malformed(`${field} is not a list`)
  const ids = list as unknown[]
  if (ids.length === 0) return undefined
  if (ids.length !== voters.length) malformed(`${field} has ${ids.length} entries for ${voters.length} voters`)
  const out: Record<NodeId, DirectoryId> = {}
  ids.forEach((d, i) => {
    const dir = directoryId(d, `${field}[${i}]`)
    if (dir !== undefined) out[voters[i]] = dir
  })
  return Object.keys(out).length === 0 ? undefined : out
}

function object<T>(v: T | null | undefined, field: string): T {
  if (v === null || v === undefined) malformed(`${field} is missing`)
  if (typeof v !== 'object' || Array.isArray(v) || v instanceof Uint8Array) malformed(`${field} is not a message`)
  return v as T
}

function bytes(v: unknown, field: string): Uint8Array {
  if (!(v instanceof Uint8Array)) malformed(`${field} is not bytes`)
  return v as Uint8Array
}

function snapshotIdOf(v: bitacora.RaftSnapshotId.$Properties | null | undefined, field: string): SnapshotId {
  const s = object(v, field)
  return { endOffset: offset(s.endOffset, `${field}.endOffset`), epoch: int32(s.epoch, `${field}.epoch`) }
}

function malformed(message: string): never {
  throw new RaftWireError('RAFT_FRAME_MALFORMED', `raft frame: ${message}`)
}

// ---- Topic ids: 32 hex digits in the broker, 16 bytes on the wire

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

/** The value of a lowercase hex digit's char code, or -1. (No regex or substrings: this runs per message sent.) */
function hexDigit(c: number): number {
  return c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1
}

/**
 * Topic ids' wire bytes by hex: every message names its topic, and an idle partition sends a few
 * a second, so each id is parsed once (the bytes are only read by the encoder, never changed).
 * Bounded: emptied when it reaches TOPIC_IDS_CACHED_MAX ids.
 */
const topicIdsCached = new Map<string, Uint8Array>()
const TOPIC_IDS_CACHED_MAX = 10_000

function topicIdBytes(hex: string): Uint8Array {
  const cached = topicIdsCached.get(hex)
  if (cached !== undefined) return cached
  const bytes = parseTopicId(hex)
  if (topicIdsCached.size >= TOPIC_IDS_CACHED_MAX) topicIdsCached.clear()
  topicIdsCached.set(hex, bytes)
  return bytes
}

function parseTopicId(hex: string): Uint8Array {
  if (typeof hex !== 'string' || hex.length !== 2 * TOPIC_ID_BYTES) unencodable(`topic id ${String(hex)} is not 32 lowercase hex digits`)
  const out = new Uint8Array(TOPIC_ID_BYTES)
  for (let i = 0; i < TOPIC_ID_BYTES; i++) {
    const hi = hexDigit(hex.charCodeAt(2 * i))
    const lo = hexDigit(hex.charCodeAt(2 * i + 1))
    if (hi < 0 || lo < 0) unencodable(`topic id ${hex} is not 32 lowercase hex digits`)
    out[i] = (hi << 4) | lo
  }
  return out
}

function topicIdHex(v: unknown): string {
  if (!(v instanceof Uint8Array) || v.length !== TOPIC_ID_BYTES) {
    malformed(`topicId is ${v instanceof Uint8Array ? `${v.length} bytes` : 'missing'}, not ${TOPIC_ID_BYTES}`)
  }
  let hex = ''
  for (let i = 0; i < TOPIC_ID_BYTES; i++) hex += HEX[(v as Uint8Array)[i]]
  return hex
}
