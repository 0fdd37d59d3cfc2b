// The fetch read-buffer pool: bounded, and a lease gives back exactly what it borrowed, once; and
// the registry of free room before read bytes (frames written in place instead of copied).
import t from 'tap'
import { extendIntoRoom, ReadBufferPool, ReadLease, roomBefore, withRoomBefore } from '../../../src/broker/partition/read-buffers.js'

t.test('the pool creates at most countMax buffers and reuses what is given back', async (t) => {
  const pool = new ReadBufferPool(16, 2)
  const a = pool.take()!
  const b = pool.take()!
  t.equal(a.length, 16)
  t.not(a, b)
  t.equal(pool.take(), undefined, 'none past countMax: the caller allocates')
  pool.give(a)
  t.equal(pool.take(), a, 'a given-back buffer is reused')
  t.equal(pool.size, 2)
})

t.test('a lease returns its buffers on release, once, and unused ones early', async (t) => {
  const pool = new ReadBufferPool(16, 2)
  const lease = new ReadLease(pool)
  const a = lease.take()!
  const b = lease.take()!
  lease.giveBack(b)
  const other = new ReadLease(pool)
  t.equal(other.take(), b, 'given back early: another lease may take it')
  lease.release()
  lease.release()
  lease.giveBack(a)
  const taken = [other.take(), other.take()]
  t.same(taken, [a, undefined], 'released once: lent to one borrower only, never twice')
})

t.test('room before a view: only registered views have it, and extending into it keeps the bytes and the buffer', async (t) => {
  const buffer = new Uint8Array(8 + 4)
  const bytes = buffer.subarray(8)
  bytes.set([1, 2, 3, 4])
  t.equal(roomBefore(bytes), 0, 'a view nobody registered has no room (the bytes before it may be someone else\'s)')
  t.throws(() => withRoomBefore(bytes, 9), RangeError, 'no more room than bytes before the view')
  withRoomBefore(bytes, 8)
  t.equal(roomBefore(bytes), 8)
  const framed = extendIntoRoom(bytes, 3)
  t.equal(framed.buffer, buffer.buffer, 'the same buffer: nothing copied')
  t.equal(framed.byteOffset, 5)
  t.same([...framed.subarray(3)], [1, 2, 3, 4])
  t.equal(roomBefore(framed), 5, 'the room left before the head')
  t.throws(() => extendIntoRoom(framed, 6), RangeError, 'a head larger than the room left')
})
