// A peer's queue refuses frames over its count, byte and per-partition bounds, and empties whole.
import t from 'tap'
import { PeerQueue } from '../../../src/broker/net/peer-queue.js'

const frame = (bytes: number) => new Uint8Array(bytes)

t.test('bounded in frames, bytes and bytes per partition', async (t) => {
  const q = new PeerQueue({ queuedFramesMax: 3, queuedBytesMax: 1000, pairQueuedBytesMax: 400 })
  t.equal(q.offer('a/0', frame(300)), null)
  t.equal(q.offer('a/0', frame(101)), 'pairFull', 'a partition over its share')
  t.equal(q.offer('a/1', frame(400)), null, 'another partition still gets in')
  t.equal(q.offer('a/2', frame(301)), 'queueFull', 'over the bytes of the queue')
  t.equal(q.offer('a/2', frame(300)), null)
  t.equal(q.offer('a/3', frame(0)), 'queueFull', 'over the frames of the queue')
  t.same([q.length, q.byteLength], [3, 1000])
  t.same(q.takeAll().map((f) => f.length), [300, 400, 300], 'oldest first')
  t.same([q.length, q.byteLength], [0, 0])
  t.equal(q.offer('a/0', frame(400)), null, 'partition shares start over once taken')
})
