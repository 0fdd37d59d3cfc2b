import t from 'tap'
import { ByteBudget } from '../../src/client/byte-budget.js'
import { ClientError } from '../../src/client/errors.js'

t.test('acquire takes room at once while there is some', async (t) => {
  const b = new ByteBudget(100, 10)
  await b.acquire(60, 1000)
  t.equal(b.used, 60)
  t.equal(b.tryAcquire(50), false)
  t.equal(b.tryAcquire(40), true)
  b.release(100)
  t.equal(b.used, 0)
  t.throws(() => b.release(1), /more than acquired/)
})

t.test('waiters are served in order as room frees up', async (t) => {
  const b = new ByteBudget(100, 10)
  await b.acquire(100, 1000)
  const order: string[] = []
  const big = b.acquire(80, 5000).then(() => order.push('big'))
  const small = b.acquire(10, 5000).then(() => order.push('small'))
  t.equal(b.waiting, 2)
  t.equal(b.tryAcquire(1), false, 'no overtaking the queue')
  b.release(50) // 50 free: the big one (80) still waits, and the small one behind it too
  await new Promise((r) => setTimeout(r, 5))
  t.same(order, [])
  b.release(50)
  await Promise.all([big, small])
  t.same(order, ['big', 'small'])
  t.equal(b.used, 90)
})

t.test('a wait ends with BUFFER_FULL after its timeout; too many waiters are refused at once', async (t) => {
  const b = new ByteBudget(10, 1)
  await b.acquire(10, 1000)
  const waiting = b.acquire(5, 20)
  await t.rejects(b.acquire(5, 1000), { code: 'BUFFER_FULL' })
  await t.rejects(waiting, { code: 'BUFFER_FULL', message: /maxBlockMs/ })
  t.equal(b.waiting, 0)
  t.equal(b.used, 10)
})

t.test('a record larger than the whole buffer is refused, not waited for', async (t) => {
  const b = new ByteBudget(10, 1)
  await t.rejects(b.acquire(11, 1000), { code: 'RECORD_TOO_LARGE' })
})

t.test('rejectAll ends every wait (close)', async (t) => {
  const b = new ByteBudget(10, 5)
  await b.acquire(10, 1000)
  const w = b.acquire(1, 60_000)
  b.rejectAll(new ClientError('CLIENT_CLOSED', 'closed'))
  await t.rejects(w, { code: 'CLIENT_CLOSED' })
})
