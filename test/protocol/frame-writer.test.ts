// The hand-written frame encoders write exactly the bytes the generated protobufjs code writes,
// for random messages (negative int32 and int64 fields, empty and missing fields, several
// batches per partition), and decode back with the generated decoder.
import t from 'tap'
import fc from 'fast-check'
import {
  bitacora, decodeRequest, decodeResponse, encodeRequest, writeFetchResponse, writeProduceRequest,
} from '../../src/protocol/index.js'

const MAX = 64 * 1024 * 1024
const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0
const concat = (parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]))

const int32 = fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.constantFrom(0, -1, 127, 128, 2 ** 31 - 1, -(2 ** 31)))
const uint32 = fc.oneof(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.constantFrom(0, 127, 128, 16383, 16384, 2 ** 32 - 1))
// What a caller may pass by mistake: protobufjs writes these modulo 2^32, and so must we.
const anyUint32 = fc.oneof(uint32, fc.constantFrom(-1, -(2 ** 31), 2 ** 32, 2 ** 32 + 5, 2 ** 40))
const int64 = fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 }), fc.constantFrom(-1, 0, 2 ** 52 + 1, Number.MAX_SAFE_INTEGER, -(2 ** 40), 2 ** 35))
const name = fc.string({ maxLength: 12, unit: 'binary' })
const batches = fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 3 })

t.test('produce frames: byte for byte what protobufjs writes', async (t) => {
  const spec = fc.record({
    correlationId: uint32,
    acks: fc.constantFrom(-1, 0, 1),
    timeoutMs: anyUint32,
    topics: fc.array(fc.record({ name, partitions: fc.array(fc.record({ index: int32, batches }), { maxLength: 3 }) }), { maxLength: 3 }),
  })
  fc.assert(
    fc.property(spec, (f) => {
      const ours = writeProduceRequest(f)
      const theirs = encodeRequest({
        correlationId: f.correlationId,
        produce: {
          acks: f.acks, timeoutMs: f.timeoutMs,
          topics: f.topics.map((tp) => ({ name: tp.name, partitions: tp.partitions.map((p) => ({ index: p.index, records: concat(p.batches) })) })),
        },
      })
      return same(ours, theirs)
    }),
    { numRuns: 400 },
  )
  t.pass()
})

t.test('a produce frame with several batches per partition decodes to their concatenation', async (t) => {
  const a = new Uint8Array([1, 2, 3])
  const b = new Uint8Array(70_000).fill(9)
  const frame = writeProduceRequest({ correlationId: 7, acks: -1, timeoutMs: 30_000, topics: [{ name: 'events', partitions: [{ index: 2, batches: [a, b] }] }] })
  const req = decodeRequest(frame, MAX)
  t.equal(req.correlationId, 7)
  t.equal(req.produce!.acks, -1)
  const records = req.produce!.topics![0].partitions![0].records!
  t.equal(records.length, a.length + b.length)
  t.same([...records.subarray(0, 4)], [1, 2, 3, 9])
})

t.test('fetch frames: byte for byte what protobufjs writes, null fields left out', async (t) => {
  const error = fc.option(fc.record({ code: fc.option(int32, { nil: undefined }), message: fc.option(name, { nil: undefined }) }, { requiredKeys: [] }), { nil: null })
  const partition = fc.record({
    index: fc.option(int32, { nil: undefined }),
    error,
    highWatermark: fc.option(int64, { nil: undefined }),
    logStartOffset: fc.option(int64, { nil: undefined }),
    records: fc.option(fc.uint8Array({ maxLength: 400 }), { nil: undefined }),
    leaderHint: fc.option(int32, { nil: undefined }),
    leaderHintEpoch: fc.option(int32, { nil: undefined }), // optional: written even when 0
  }, { requiredKeys: [] })
  const fetch = fc.record({ topics: fc.array(fc.record({ name: fc.option(name, { nil: undefined }), partitions: fc.array(partition, { maxLength: 3 }) }, { requiredKeys: ['partitions'] }), { maxLength: 3 }) })
  fc.assert(
    fc.property(uint32, fetch, (correlationId, body) => {
      const ours = writeFetchResponse(correlationId, body as bitacora.IFetchResponse)
      // Not encodeResponse: it writes fetch responses with writeFetchResponse itself.
      const theirs = bitacora.Response.encode({ correlationId, fetch: body as bitacora.IFetchResponse }).finish()
      return same(ours, theirs)
    }),
    { numRuns: 400 },
  )
  t.pass()
})

t.test('fetch frames written in place in front of the last records: the same bytes, and no copy when they fit', async (t) => {
  // Every partition's records sit `room` bytes into a buffer of their own, the room filled with
  // garbage, as the broker's reads leave them (api/fetch.ts).
  const placed = fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 400 }), fc.oneof(fc.integer({ min: 0, max: 120 }), fc.integer({ min: 0, max: 2000 }))).map(([bytes, room]) => {
    const buf = new Uint8Array(room + bytes.length).fill(0xee)
    buf.set(bytes, room)
    return buf.subarray(room)
  })
  const partition = fc.record({
    index: fc.option(int32, { nil: undefined }),
    highWatermark: fc.option(int64, { nil: undefined }),
    logStartOffset: fc.option(int64, { nil: undefined }),
    records: fc.option(placed, { nil: undefined }),
    leaderHint: fc.option(fc.constantFrom(0, 2), { nil: undefined }),
    // Mostly absent, as on every answer that is not a NOT_LEADER one.
    leaderHintEpoch: fc.oneof({ arbitrary: fc.constant(undefined), weight: 5 }, { arbitrary: fc.constantFrom(0, 7), weight: 1 }),
  }, { requiredKeys: [] })
  const fetch = fc.record({ topics: fc.array(fc.record({ name: fc.option(name, { nil: undefined }), partitions: fc.array(partition, { maxLength: 3 }) }), { maxLength: 3 }) })
  let inPlace = 0
  let copied = 0
  fc.assert(
    fc.property(uint32, fetch, (correlationId, body) => {
      const theirs = bitacora.Response.encode({ correlationId, fetch: body }).finish()
      const last = body.topics.at(-1)?.partitions.at(-1)
      const lastRecords = last?.records
      const before = lastRecords ? Uint8Array.from(lastRecords) : null
      const ours = writeFetchResponse(correlationId, body, { lastRecordsHaveHeadroom: true })
      const fits = lastRecords !== undefined && !last!.leaderHint && last!.leaderHintEpoch === undefined && ours.length - lastRecords.length <= lastRecords.byteOffset
      if (fits) inPlace++
      else copied++
      const wroteInPlace = lastRecords !== undefined && ours.buffer === lastRecords.buffer
      return same(ours, theirs) && wroteInPlace === fits && (before === null || same(lastRecords!, before))
    }),
    { numRuns: 600 },
  )
  t.ok(inPlace > 50, `${inPlace} frames written in place`)
  t.ok(copied > 50, `${copied} frames copied (no records last, a leader hint after them, or too little room)`)
})

t.test('a fetch frame decodes with its stored bytes and int64 fields intact', async (t) => {
  const records = new Uint8Array(100_000).map((_, i) => i & 0xff)
  const frame = writeFetchResponse(3, {
    topics: [{ name: 't', partitions: [{ index: 0, error: null, highWatermark: 2 ** 52 + 1, logStartOffset: -1, records }, { index: 1, error: { code: 6, message: 'not the leader' }, leaderHint: 2, leaderHintEpoch: 0 }] }],
  })
  const res = decodeResponse(frame, MAX)
  t.equal(res.correlationId, 3)
  t.equal(res.api, 'fetch')
  const [p0, p1] = res.fetch!.topics![0].partitions!
  t.equal(p0.highWatermark, 2 ** 52 + 1)
  t.equal(p0.logStartOffset, -1)
  t.ok(same(p0.records!, records))
  t.equal(p1.error!.code, 6)
  t.equal(p1.leaderHint, 2)
  t.equal(p1.leaderHintEpoch, 0, 'an epoch of 0 is kept, not taken for absent')
})

t.test('fetched_from (chained fetches) is written before the records, so the frame is still written in place; it decodes as protobufjs writes it', async (t) => {
  fc.assert(
    fc.property(uint32, int64, fc.uint8Array({ minLength: 1, maxLength: 400 }), (correlationId, fetchedFrom, bytes) => {
      const buf = new Uint8Array(600 + bytes.length).fill(0xee)
      buf.set(bytes, 600)
      const records = buf.subarray(600)
      const body = { topics: [{ name: 't', partitions: [{ index: 1, highWatermark: 9, fetchedFrom, records }] }] }
      const ours = writeFetchResponse(correlationId, body, { lastRecordsHaveHeadroom: true })
      const theirs = decodeResponse(bitacora.Response.encode({ correlationId, fetch: body }).finish(), MAX)
      const decoded = decodeResponse(ours, MAX)
      const p = decoded.fetch!.topics![0].partitions![0]
      return ours.buffer === records.buffer && decoded.correlationId === theirs.correlationId && p.fetchedFrom === fetchedFrom &&
        p.fetchedFrom === theirs.fetch!.topics![0].partitions![0].fetchedFrom && same(p.records!, bytes) && p.highWatermark === 9
    }),
    { numRuns: 300 },
  )
  const zero = decodeResponse(writeFetchResponse(1, { topics: [{ name: 't', partitions: [{ index: 0, fetchedFrom: 0 }] }] }), MAX)
  t.equal(zero.fetch!.topics![0].partitions![0].fetchedFrom, 0, 'a fetched_from of 0 is kept, not taken for absent')
  const none = decodeResponse(writeFetchResponse(1, { topics: [{ name: 't', partitions: [{ index: 0 }] }] }), MAX)
  t.equal(none.fetch!.topics![0].partitions![0].fetchedFrom ?? null, null, 'absent stays absent (a broker that does not chain)')
})
