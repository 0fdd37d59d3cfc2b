// Frames packed by hand into Request { raft } messages: the bytes protobufjs would write for the
// same RaftFrames, no message over the limit, frames in order, and no message that could have
// taken the next frame (the fewest messages for frames kept in order).
import t from 'tap'
import fc from 'fast-check'
import { bitacora, decodeRequest } from '../../../src/protocol/index.js'
import { fitsOneMessage, IN_PLACE_FRAME_BYTES_MIN, packRaftFrames } from '../../../src/broker/net/peer-envelope.js'
import { withRoomBefore } from '../../../src/broker/partition/read-buffers.js'

const node = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0x7fffffff }))
const frame = (maxRecordBytes: number) => fc.record({
  topicId: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  partition: fc.nat(5000),
  epoch: fc.nat(),
  fetchResponse: fc.record({ fetchId: fc.nat(), records: fc.record({ records: fc.integer({ min: 0, max: maxRecordBytes }).map((n) => new Uint8Array(n).fill(7)) }) }),
})
const encode = (f: bitacora.RaftFrame.$Properties) => bitacora.RaftFrame.encode(f).finish()

t.test('one message is the bytes protobufjs writes for the same frames', async (t) => {
  fc.assert(
    fc.property(node, node, fc.array(frame(3000), { maxLength: 20 }), (from, to, frames) => {
      const packed = packRaftFrames(from, to, frames.map(encode), 1 << 30)
      const expected = bitacora.Request.encode({ correlationId: 0, raft: { frames, from, to } }).finish()
      if (frames.length === 0) return packed.length === 0
      return packed.length === 1 && Buffer.from(packed[0]).equals(Buffer.from(expected))
    }),
    { numRuns: 300 },
  )
  t.pass('300 random envelopes matched byte for byte')
})

t.test('split at the limit: none over it, in order, and the fewest messages', async (t) => {
  let split = 0
  fc.assert(
    fc.property(node, node, fc.array(frame(5000), { minLength: 1, maxLength: 60 }), fc.integer({ min: 5100, max: 40_000 }), (from, to, objects, limit) => {
      const frames = objects.map(encode)
      if (!frames.every((f) => fitsOneMessage(f.length, from, to, limit))) return false
      const packed = packRaftFrames(from, to, frames, limit)
      if (packed.some((m) => m.length > limit)) return false
      const decoded = packed.map((m) => decodeRequest(m, limit).raft!)
      if (decoded.some((r) => (r.from ?? 0) !== from || (r.to ?? 0) !== to)) return false
      const back = decoded.flatMap((r) => r.frames!.map((f) => Buffer.from(encode(f))))
      if (back.length !== frames.length || back.some((b, i) => !b.equals(frames[i]))) return false
      // Each message but the last could not have taken the next message's first frame too.
      let end = 0
      for (const r of decoded.slice(0, -1)) {
        const start = end
        end += r.frames!.length
        if (packRaftFrames(from, to, frames.slice(start, end + 1), 1 << 30)[0].length <= limit) return false
      }
      if (packed.length > 1) split++
      return true
    }),
    { numRuns: 300 },
  )
  t.ok(split > 50, `${split} of 300 runs split into several messages`)
  t.throws(() => packRaftFrames(1, 2, [new Uint8Array(100)], 100), /a 100-byte raft frame does not fit a 100-byte message/)
  t.ok(fitsOneMessage(100, 1, 2, 109), 'tags, lengths and ids take 9 bytes around a 100-byte frame')
  t.notOk(fitsOneMessage(100, 1, 2, 108))
})

t.test('a large frame with room before it leaves in a message of its own, written around it, in order with the others', async (t) => {
  const encoded = (fill: number, recordBytes: number) =>
    encode({ topicId: new Uint8Array(16).fill(fill), partition: fill, epoch: 1, fetchResponse: { fetchId: fill, records: { records: new Uint8Array(recordBytes).fill(fill) } } })
  const big = (fill: number) => {
    const frame = encoded(fill, IN_PLACE_FRAME_BYTES_MIN)
    const buffer = new Uint8Array(64 + frame.length)
    buffer.set(frame, 64)
    return withRoomBefore(buffer.subarray(64), 64)
  }
  const small = (fill: number) => encoded(fill, 100)
  const noRoom = encoded(5, IN_PLACE_FRAME_BYTES_MIN)
  const frames = [small(1), small(2), big(3), big(4), small(5), noRoom, small(6)]
  const packed = packRaftFrames(7, 300, frames, 1 << 20)
  t.equal(packed.length, 4, 'small ones together, each large one with room alone, the one without room packed with its neighbours')
  t.equal(packed[1].buffer, frames[2].buffer, 'written around the frame: not copied')
  t.equal(packed[2].buffer, frames[3].buffer)
  const decoded = packed.map((m) => decodeRequest(m, 1 << 20).raft!)
  t.ok(decoded.every((r) => r.from === 7 && r.to === 300), 'from and to in every message')
  const back = decoded.flatMap((r) => r.frames!.map((f) => Buffer.from(encode(f))))
  t.ok(back.length === frames.length && back.every((b, i) => b.equals(frames[i])), 'every frame, in order, byte for byte')
  t.same(decoded.map((r) => r.frames!.length), [2, 1, 1, 3])
})
