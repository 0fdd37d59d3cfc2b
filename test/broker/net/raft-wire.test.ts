// Every kind of the core's Message crosses the wire exactly (through the real envelope and the
// real request decoder), and a malformed frame — a missing part, a field of the wrong type or
// range, several kinds at once, garbage bytes — is refused with a RaftWireError naming the
// field, never a crash or a half-built Message.
import t, { type Test } from 'tap'
import fc from 'fast-check'
import { isDeepStrictEqual } from 'node:util'
import { bitacora, decodeRequest, FrameError } from '../../../src/protocol/index.js'
import type { Message } from '../../../src/raft/types.js'
import { IN_PLACE_FRAME_BYTES_MIN, packRaftFrames } from '../../../src/broker/net/peer-envelope.js'
import { PEER_RECORDS_HEADROOM_BYTES } from '../../../src/broker/partition/limits.js'
import { withRoomBefore } from '../../../src/broker/partition/read-buffers.js'
import { encodeRaftFrame, fromRaftFrame, RaftWireError, toRaftFrame, type PartitionMessage } from '../../../src/broker/net/raft-wire.js'

const INT32_MAX = 0x7fffffff
const node = fc.integer({ min: 0, max: INT32_MAX })
const epoch = fc.integer({ min: 0, max: INT32_MAX })
const offset = fc.oneof(fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }))
const leader = fc.option(node, { nil: null })
const bytes = fc.uint8Array({ minLength: 1, maxLength: 300 })
const voters = fc.uniqueArray(node, { minLength: 1, maxLength: 7 })
const snapshotId = fc.record({ endOffset: offset, epoch })
const topicId = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString('hex'))
const directoryId = fc.uuid()
/** Optional directory-id fields (absent: unknown). */
const dirs = <K extends string>(...keys: K[]) => fc.record(Object.fromEntries(keys.map((k) => [k, directoryId])) as Record<K, fc.Arbitrary<string>>, { requiredKeys: [] })
/** Directory ids for some of `voters` (or none at all). */
function withVoterDirectories<T extends { voters: number[] }>(m: T): fc.Arbitrary<T> {
  return fc.option(fc.array(fc.option(directoryId, { nil: undefined }), { minLength: m.voters.length, maxLength: m.voters.length }), { nil: undefined }).map((ids) => {
    const known = Object.fromEntries((ids ?? []).flatMap((d, i) => (d === undefined ? [] : [[m.voters[i], d]])))
    return Object.keys(known).length === 0 ? m : { ...m, directoryIds: known }
  })
}

function messageOf(from: number, to: number): fc.Arbitrary<Message> {
  const base = { from: fc.constant(from), to: fc.constant(to), epoch }
  const fetchResponse = { ...base, type: fc.constant('fetchResponse' as const), fetchId: offset, fetchOffset: offset }
  const snapshotResponse = { ...base, type: fc.constant('fetchSnapshotResponse' as const), snapshotId, position: offset }
  return fc.oneof(
    fc.tuple(fc.record({ ...base, type: fc.constant('vote' as const), preVote: fc.boolean(), lastEpoch: epoch, logEnd: offset }), dirs('candidateDirectoryId', 'voterDirectoryId')).map(([m, d]) => ({ ...m, ...d })),
    fc.record({ ...base, type: fc.constant('voteResponse' as const), preVote: fc.boolean(), granted: fc.boolean(), leaderId: leader }),
    fc.tuple(fc.record({ ...base, type: fc.constant('beginQuorumEpoch' as const) }), dirs('voterDirectoryId')).map(([m, d]) => ({ ...m, ...d })),
    fc.record({ ...base, type: fc.constant('endQuorumEpoch' as const), preferredSuccessors: fc.uniqueArray(node, { maxLength: 5 }) }),
    fc.tuple(fc.record({
      ...base, type: fc.constant('fetch' as const), fetchId: offset, fetchOffset: offset, lastFetchedEpoch: epoch, flushedOffset: offset,
      maxBytes: fc.integer({ min: 0, max: INT32_MAX }),
    }), dirs('replicaDirectoryId'), fc.option(offset, { nil: undefined })) // no HW: an older broker's fetch
      .map(([m, d, highWatermark]) => ({ ...m, ...d, ...(highWatermark === undefined ? {} : { highWatermark }) })),
    fc.record({ ...fetchResponse, kind: fc.constant('records' as const), highWatermark: offset, records: fc.option(bytes, { nil: null }) }),
    fc.record({ ...fetchResponse, kind: fc.constant('diverging' as const), highWatermark: offset, divergingEpoch: epoch, divergingEndOffset: offset }),
    fc.record({ ...fetchResponse, kind: fc.constant('outOfRange' as const), highWatermark: offset, logStart: offset, logStartEpoch: epoch, voters }).chain(withVoterDirectories),
    fc.record({
      ...fetchResponse, kind: fc.constant('snapshot' as const), highWatermark: offset,
      snapshot: fc.record({ endOffset: offset, epoch, sizeBytes: offset }), voters,
    }).chain(withVoterDirectories),
    fc.record({ ...fetchResponse, kind: fc.constant('notLeader' as const), leaderId: leader }),
    fc.tuple(fc.record({ ...base, type: fc.constant('fetchSnapshot' as const), snapshotId, position: offset, maxBytes: fc.integer({ min: 0, max: INT32_MAX }) }), dirs('replicaDirectoryId'))
      .map(([m, d]) => ({ ...m, ...d })),
    fc.record({ ...snapshotResponse, kind: fc.constant('chunk' as const), sizeBytes: offset, chunk: bytes }).map((m) => ({ ...m, length: m.chunk.length })),
    fc.record({ ...snapshotResponse, kind: fc.constant('notFound' as const) }),
    fc.record({ ...snapshotResponse, kind: fc.constant('notLeader' as const), leaderId: leader }),
  )
}

const envelope = fc.tuple(node, node).chain(([from, to]) =>
  fc.record({
    from: fc.constant(from),
    to: fc.constant(to),
    items: fc.array(fc.record({ topicId, partition: fc.integer({ min: 0, max: INT32_MAX }), message: messageOf(from, to) }), { minLength: 1, maxLength: 8 }),
  }),
)

/** Byte fields as plain Uint8Arrays (the decoder's are Buffers, views into the frame); absent and undefined fields alike. */
function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return Uint8Array.from(v)
  if (Array.isArray(v)) return v.map(plain)
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => [k, plain(x)]))
  return v
}

/** What the receiving broker gets from one WebSocket message. */
function receive(bytes: Uint8Array, from: number, to: number): PartitionMessage[] {
  const request = decodeRequest(bytes, 1 << 30)
  if (request.api !== 'raft') throw new Error(`decoded a ${request.api} request`)
  if (request.correlationId !== 0) throw new Error(`raft frames carry correlation id ${request.correlationId}`)
  if ((request.raft!.from ?? 0) !== from || (request.raft!.to ?? 0) !== to) throw new Error('the envelope lost from or to')
  return request.raft!.frames!.map((f) => fromRaftFrame(f, from, to))
}

t.test('every message kind round-trips exactly through the wire', async (t) => {
  const kinds = new Set<string>()
  fc.assert(
    fc.property(envelope, ({ from, to, items }) => {
      const frames = items.map((i) => encodeRaftFrame(i.topicId, i.partition, i.message))
      const [message, ...more] = packRaftFrames(from, to, frames, 1 << 30)
      if (more.length > 0) return false
      const back = receive(message, from, to)
      for (const i of items) kinds.add(`${i.message.type}/${'kind' in i.message ? i.message.kind : ''}`)
      return isDeepStrictEqual(plain(back), plain(items))
    }),
    { numRuns: 2000 },
  )
  t.equal(kinds.size, 14, `all 14 kinds were generated (${[...kinds].join(', ')})`)
})

t.test('records travel as the bytes the shell attached; empty records and none are one thing', async (t) => {
  const records = Uint8Array.from([1, 2, 3, 4])
  const m: Message = { type: 'fetchResponse', from: 1, to: 2, epoch: 3, fetchId: 9, fetchOffset: 10, kind: 'records', highWatermark: 8, records }
  const [got] = receive(packRaftFrames(1, 2, [encodeRaftFrame('00'.repeat(16), 0, m)], 1 << 20)[0], 1, 2)
  t.same([...(got.message as { records: Uint8Array }).records], [1, 2, 3, 4])
  const empty = { ...m, records: new Uint8Array(0) }
  const [none] = receive(packRaftFrames(1, 2, [encodeRaftFrame('00'.repeat(16), 0, empty)], 1 << 20)[0], 1, 2)
  t.equal((none.message as { records: unknown }).records, null)
})

t.test('a fetch response with records is encoded byte for byte as protobufjs encodes it, whatever its lengths', async (t) => {
  // Record lengths at each width of a varint length prefix (1 to 4 bytes), nested twice.
  const lengths = fc.constantFrom(1, 2, 120, 127, 128, 200, 16_370, 16_383, 16_384, 70_000, 2_097_140, 2_097_151, 2_097_152)
  fc.assert(fc.property(topicId, fc.integer({ min: 0, max: INT32_MAX }), epoch, offset, offset, offset, lengths, (topic, partition, e, fetchId, fetchOffset, hw, length) => {
    const records = new Uint8Array(length).map((_, i) => (i * 7 + length) & 0xff)
    const m: Message = { type: 'fetchResponse', from: 1, to: 2, epoch: e, fetchId, fetchOffset, kind: 'records', highWatermark: hw, records }
    const fast = encodeRaftFrame(topic, partition, m)
    const generated = bitacora.RaftFrame.encode(toRaftFrame(topic, partition, m)).finish()
    return Buffer.compare(Buffer.from(fast), Buffer.from(generated)) === 0
  }), { numRuns: 60 })
})

t.test('every message is encoded byte for byte as protobufjs encodes its frame (the idle fetch and empty answer are written by hand)', async (t) => {
  const hand = new Set<string>()
  const zeros = fc.constantFrom(0, 0, 1, 127, 128, 2 ** 31 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER)
  const edge = fc.record({
    type: fc.constant('fetch' as const), from: fc.constant(1), to: fc.constant(2), epoch: fc.constantFrom(0, 1, INT32_MAX), fetchId: zeros, fetchOffset: zeros,
    lastFetchedEpoch: fc.constantFrom(0, INT32_MAX), flushedOffset: zeros, maxBytes: fc.constantFrom(0, INT32_MAX),
    replicaDirectoryId: fc.constantFrom(undefined, '', 'x', 'é-not-ascii', '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'),
    highWatermark: fc.constantFrom(undefined, 0, 1, 128, Number.MAX_SAFE_INTEGER),
  }).map(({ replicaDirectoryId, highWatermark, ...m }) => ({
    ...m, ...(replicaDirectoryId === undefined ? {} : { replicaDirectoryId }), ...(highWatermark === undefined ? {} : { highWatermark }),
  }) as Message)
  fc.assert(fc.property(topicId, fc.integer({ min: 0, max: INT32_MAX }), fc.oneof(messageOf(1, 2), edge), (topic, partition, m) => {
    const got = encodeRaftFrame(topic, partition, m)
    const generated = bitacora.RaftFrame.encode(toRaftFrame(topic, partition, m)).finish()
    if (m.type === 'fetch' || (m.type === 'fetchResponse' && m.kind === 'records' && m.records === null)) hand.add(m.type)
    return Buffer.from(got).equals(Buffer.from(generated))
  }), { numRuns: 3000 })
  t.same([...hand].sort(), ['fetch', 'fetchResponse'], 'both hand-written kinds were generated')
})

t.test('records read with room before them are framed in place: the same bytes as protobufjs, nothing copied', async (t) => {
  const lengths = fc.constantFrom(1, 127, 128, 16_384, 70_000, 2_097_152)
  fc.assert(fc.property(topicId, fc.integer({ min: 0, max: INT32_MAX }), epoch, offset, offset, offset, lengths, (topic, partition, e, fetchId, fetchOffset, hw, length) => {
    const buffer = new Uint8Array(PEER_RECORDS_HEADROOM_BYTES + length)
    const records = withRoomBefore(buffer.subarray(PEER_RECORDS_HEADROOM_BYTES), PEER_RECORDS_HEADROOM_BYTES)
    for (let i = 0; i < length; i++) records[i] = (i * 7 + length) & 0xff
    const m: Message = { type: 'fetchResponse', from: 1, to: 2, epoch: e, fetchId, fetchOffset, kind: 'records', highWatermark: hw, records }
    const frame = encodeRaftFrame(topic, partition, m)
    const generated = bitacora.RaftFrame.encode(toRaftFrame(topic, partition, m)).finish()
    return frame.buffer === buffer.buffer && frame.byteOffset + frame.length === buffer.length && Buffer.from(frame).equals(Buffer.from(generated))
  }), { numRuns: 60 })
  // The envelope goes into the room left, so the whole message is the read's buffer.
  const buffer = new Uint8Array(PEER_RECORDS_HEADROOM_BYTES + IN_PLACE_FRAME_BYTES_MIN).fill(9)
  const records = withRoomBefore(buffer.subarray(PEER_RECORDS_HEADROOM_BYTES), PEER_RECORDS_HEADROOM_BYTES)
  const m: Message = { type: 'fetchResponse', from: 0x7fffffff, to: 0x7ffffffe, epoch: 3, fetchId: Number.MAX_SAFE_INTEGER, fetchOffset: Number.MAX_SAFE_INTEGER, kind: 'records', highWatermark: Number.MAX_SAFE_INTEGER, records }
  const [message] = packRaftFrames(m.from, m.to, [encodeRaftFrame('ff'.repeat(16), INT32_MAX, m)], 1 << 20)
  t.equal(message.buffer, buffer.buffer, 'the message is written around the records: no copy, even with every field at its widest')
  const [got] = receive(message, m.from, m.to)
  const { records: back, ...rest } = got.message as typeof m
  const { records: _, ...sent } = m
  t.ok(isDeepStrictEqual(rest, sent), 'and reads back as the message sent')
  t.ok(Buffer.from(back as Uint8Array).equals(Buffer.from(new Uint8Array(IN_PLACE_FRAME_BYTES_MIN).fill(9))), 'records and all')
})

t.test('a message the shell did not finish cannot be sent', async (t) => {
  const base = { from: 1, to: 2, epoch: 3 }
  const chunk: Message = { ...base, type: 'fetchSnapshotResponse', snapshotId: { endOffset: 5, epoch: 1 }, position: 0, kind: 'chunk', sizeBytes: 10, length: 4, chunk: null }
  t.throws(() => encodeRaftFrame('00'.repeat(16), 0, chunk), { name: 'RaftWireError', code: 'RAFT_MESSAGE_UNENCODABLE', message: /no bytes.*attachSnapshotChunk/ })
  t.throws(() => encodeRaftFrame('00'.repeat(16), 0, { ...chunk, chunk: new Uint8Array(3) } as Message), { code: 'RAFT_MESSAGE_UNENCODABLE', message: /length 4 carries 3 bytes/ })
  const records: Message = { ...base, type: 'fetchResponse', fetchId: 1, fetchOffset: 0, kind: 'records', highWatermark: 0, records: 'not bytes' }
  t.throws(() => encodeRaftFrame('00'.repeat(16), 0, records), { code: 'RAFT_MESSAGE_UNENCODABLE', message: /not bytes/ })
  const vote: Message = { ...base, type: 'beginQuorumEpoch' }
  t.throws(() => encodeRaftFrame('TOPIC', 0, vote), { code: 'RAFT_MESSAGE_UNENCODABLE', message: /topic id TOPIC is not 32 lowercase hex/ })
  t.throws(() => encodeRaftFrame('00'.repeat(16), -1, vote), { code: 'RAFT_MESSAGE_UNENCODABLE', message: /partition -1/ })
})

/** Refused as malformed, with a message naming `field`. */
function refused(t: Test, frame: unknown, field: RegExp, what: string): void {
  t.throws(() => fromRaftFrame(frame as bitacora.RaftFrame.$Properties, 1, 2), { name: 'RaftWireError', code: 'RAFT_FRAME_MALFORMED', message: field }, what)
}

const TOPIC = new Uint8Array(16)

t.test('missing parts are refused by name', async (t) => {
  refused(t, { topicId: TOPIC, partition: 0, epoch: 1 }, /message is missing/, 'no message kind')
  refused(t, { partition: 0, epoch: 1, beginQuorumEpoch: {} }, /topicId is missing, not 16/, 'no topic id')
  refused(t, { topicId: new Uint8Array(15), beginQuorumEpoch: {} }, /topicId is 15 bytes, not 16/, 'short topic id')
  refused(t, { topicId: TOPIC, beginQuorumEpoch: {}, vote: {} }, /both vote and beginQuorumEpoch|both beginQuorumEpoch and vote/, 'two kinds')
  refused(t, { topicId: TOPIC, fetchResponse: { fetchId: 1 } }, /fetchResponse kind is missing/, 'fetch response without a kind')
  refused(t, { topicId: TOPIC, fetchResponse: { records: {}, notLeader: {} } }, /both records and notLeader/, 'fetch response of two kinds')
  refused(t, { topicId: TOPIC, fetchSnapshot: { position: 0 } }, /fetchSnapshot\.snapshotId is missing/, 'no snapshot id')
  refused(t, { topicId: TOPIC, fetchSnapshotResponse: { snapshotId: {}, chunk: { sizeBytes: 3 } } }, /chunk\.chunk is not bytes/, 'chunk without bytes')
  refused(t, { topicId: TOPIC, fetchSnapshotResponse: { snapshotId: {}, chunk: { chunk: new Uint8Array(0) } } }, /chunk\.chunk is empty/, 'empty chunk')
  refused(t, { topicId: TOPIC, fetchResponse: { outOfRange: { logStart: 5 } } }, /outOfRange\.voters is empty/, 'no voters')
  refused(t, { topicId: TOPIC, fetchResponse: { snapshot: { voters: [1] } } }, /snapshot\.snapshotId is missing/, 'snapshot without id')
  refused(t, { topicId: TOPIC, fetchResponse: { outOfRange: { voters: [1, 2, 1] } } }, /names a node twice/, 'a voter twice')
  refused(t, { topicId: TOPIC, fetch: { replicaDirectoryId: 'x'.repeat(65) } }, /fetch\.replicaDirectoryId is not a directory id/, 'a directory id too long')
  refused(t, { topicId: TOPIC, fetchResponse: { outOfRange: { voters: [1, 2], voterDirectoryIds: ['a'] } } }, /voterDirectoryIds has 1 entries for 2 voters/, 'directory ids not one per voter')
})

t.test('directory ids: "" on the wire is unknown, and a voter list may name some of them', async (t) => {
  const m: Message = {
    type: 'fetchResponse', from: 1, to: 2, epoch: 3, fetchId: 4, fetchOffset: 5, kind: 'outOfRange', highWatermark: 5, logStart: 5, logStartEpoch: 2,
    voters: [1, 2, 3], directoryIds: { 1: 'a', 3: 'c' },
  }
  const frame = toRaftFrame(TOPIC_HEX, 0, m)
  t.same(frame.fetchResponse?.outOfRange?.voterDirectoryIds, ['a', '', 'c'])
  t.same(fromRaftFrame(frame, 1, 2).message, m)
  const fetch = fromRaftFrame(toRaftFrame(TOPIC_HEX, 0, { type: 'fetch', from: 2, to: 1, epoch: 3, fetchId: 1, fetchOffset: 0, lastFetchedEpoch: 0, flushedOffset: 0, maxBytes: 9 }), 2, 1).message
  t.equal(fetch.type === 'fetch' ? fetch.replicaDirectoryId : 'not a fetch', undefined, 'no directory id sent: unknown')
})

const TOPIC_HEX = '00'.repeat(16)

/** Values no field of any type may hold. */
const poison = fc.constantFrom<unknown>(-2, 2 ** 53, 1.5, Number.NaN, '7', true, {}, [1], new Uint8Array(2))

/** The paths of every leaf (scalar, bytes or list element) of a frame object. */
function leaves(v: unknown, path: string[] = []): string[][] {
  if (v instanceof Uint8Array || v === null || typeof v !== 'object') return [path]
  const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x] as const) : Object.entries(v)
  return entries.length === 0 ? [] : entries.flatMap(([k, x]) => leaves(x, [...path, k]))
}

function withLeaf(v: unknown, path: readonly string[], value: unknown): unknown {
  if (path.length === 0) return value
  const [k, ...rest] = path
  if (Array.isArray(v)) return v.map((x, i) => (String(i) === k ? withLeaf(x, rest, value) : x))
  return { ...(v as object), [k]: withLeaf((v as Record<string, unknown>)[k], rest, value) }
}

t.test('a field of the wrong type or out of range is refused by name, whatever the kind', async (t) => {
  let checked = 0
  fc.assert(
    fc.property(topicId, messageOf(1, 2), poison, fc.nat(), (id, m, bad, pick) => {
      const frame = toRaftFrame(id, 0, m)
      const paths = leaves(frame)
      const path = paths[pick % paths.length]
      const leaf = path.reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], frame)
      // Some poisons fit some fields: true a boolean, any bytes a records or chunk field.
      if (typeof leaf === 'boolean' && bad === true) return
      if (typeof leaf === 'string' && typeof bad === 'string') return // any short text is a directory id
      if (bad instanceof Uint8Array && path.at(-1) !== 'topicId' && path.some((k) => k === 'records' || k === 'chunk')) return
      const named = path.filter((k) => !/^\d+$/.test(k)).at(-1)!
      try {
        fromRaftFrame(withLeaf(frame, path, bad) as bitacora.RaftFrame.$Properties, 1, 2)
      } catch (err) {
        checked++
        return err instanceof RaftWireError && err.code === 'RAFT_FRAME_MALFORMED' && err.message.includes(named)
      }
      return false
    }),
    { numRuns: 3000 },
  )
  t.ok(checked > 2000, `${checked} poisoned frames refused`)
})

t.test('garbage and damaged frames are refused with typed errors, never a crash', async (t) => {
  const valid = fc.tuple(envelope, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 })).map(([e, flips]) => {
    const bytes = packRaftFrames(e.from, e.to, e.items.map((i) => encodeRaftFrame(i.topicId, i.partition, i.message)), 1 << 30)[0]
    for (const [at, value] of flips) bytes[at % bytes.length] = value
    return bytes
  })
  const garbage = fc.uint8Array({ maxLength: 400 }).map((b) => Uint8Array.from([0xf2, 0x01, b.length & 0x7f, ...b]))
  let decoded = 0
  fc.assert(
    fc.property(fc.oneof(valid, garbage), (bytes) => {
      let request: bitacora.Request
      try {
        request = decodeRequest(bytes, 1 << 20)
      } catch (err) {
        return err instanceof FrameError
      }
      for (const frame of request.raft?.frames ?? []) {
        try {
          const { message } = fromRaftFrame(frame, 1, 2)
          decoded++
          if (message.from !== 1 || message.to !== 2 || typeof message.type !== 'string') return false
        } catch (err) {
          if (!(err instanceof RaftWireError)) return false
        }
      }
      return true
    }),
    { numRuns: 3000 },
  )
  t.ok(decoded > 0, `${decoded} damaged frames still made whole messages`)
})
