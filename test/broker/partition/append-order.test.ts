import t from 'tap'
import { AppendOrder } from '../../../src/broker/partition/append-order.js'

/** A promise with its resolve and reject outside. */
function deferred() {
  let resolve!: () => void
  let reject!: (err: Error) => void
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)))
  return { promise, resolve, reject }
}

const tick = () => new Promise((r) => setImmediate(r))

t.test('appends to one partition run in arrival order whichever validation finishes first', async (t) => {
  const order = new AppendOrder()
  const slow = deferred()
  const appended: string[] = []
  const first = order.run('p', slow.promise, async () => appended.push('first'))
  const second = order.run('p', Promise.resolve(), async () => appended.push('second'))
  await tick()
  t.same(appended, [], 'the second waits for the first, still validating')
  slow.resolve()
  await Promise.all([first, second])
  t.same(appended, ['first', 'second'])
})

t.test('another partition does not wait behind a slow validation', async (t) => {
  const order = new AppendOrder()
  const slow = deferred()
  const appended: string[] = []
  const blocked = order.run('p', slow.promise, async () => appended.push('p'))
  await order.run('q', Promise.resolve(), async () => appended.push('q'))
  t.same(appended, ['q'])
  slow.resolve()
  await blocked
  t.same(appended, ['q', 'p'])
})

t.test('a failed validation fails its own append only, and the next one still runs after it', async (t) => {
  const order = new AppendOrder()
  const bad = deferred()
  const appended: string[] = []
  const failing = order.run('p', bad.promise, async () => appended.push('bad'))
  const after = order.run('p', Promise.resolve(), async () => appended.push('after'))
  bad.reject(new Error('CRC mismatch'))
  await t.rejects(failing, /CRC mismatch/)
  await after
  t.same(appended, ['after'], 'nothing appended for the failed request')
})

t.test('a failed append does not stop the next', async (t) => {
  const order = new AppendOrder()
  const failing = order.run('p', Promise.resolve(), async () => {
    throw new Error('disk full')
  })
  const after = order.run('p', Promise.resolve(), async () => 'appended')
  await t.rejects(failing, /disk full/)
  t.equal(await after, 'appended')
})
