// The fetch read-buffer pool: bounded, and a lease gives back exactly what it borrowed, once.
import t from 'tap'
import { ReadBufferPool, ReadLease } from '../../../src/broker/partition/read-buffers.js'

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
