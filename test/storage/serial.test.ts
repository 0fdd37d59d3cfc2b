import t from 'tap'
import { KeyedSerial, Serial } from '../../src/storage/serial.js'

function deferred() {
  let resolve!: () => void
  const promise = new Promise<void>((res) => (resolve = res))
  return { promise, resolve }
}

const turn = () => new Promise((r) => setImmediate(r))

t.test('tasks run one at a time in submission order; a failure fails only its caller', async (t) => {
  const s = new Serial(10)
  const gate = deferred()
  const ran: string[] = []
  const first = s.run(async () => {
    await gate.promise
    ran.push('first')
  })
  const failing = s.run(() => {
    ran.push('failing')
    throw new Error('boom')
  })
  const third = s.run(() => ran.push('third'))
  await turn()
  t.same(ran, [], 'the later tasks wait for the first')
  t.equal(s.size, 3)
  gate.resolve()
  await first
  await t.rejects(failing, /boom/)
  await third
  t.same(ran, ['first', 'failing', 'third'])
  await s.idle()
  t.equal(s.size, 0)
})

t.test('a full queue refuses at once with the caller-given error, and accepts again once it drains', async (t) => {
  class Busy extends Error {}
  const s = new Serial(2, (max) => new Busy(`busy: ${max}`))
  const gate = deferred()
  const a = s.run(() => gate.promise)
  const b = s.run(() => 'b')
  const refused = await s.run(() => 'c').then(() => null, (err: unknown) => err)
  t.ok(refused instanceof Busy, 'the error the queue was given')
  t.match(refused, { message: 'busy: 2' })
  gate.resolve()
  await a
  t.equal(await b, 'b')
  t.equal(await s.run(() => 'd'), 'd')
})

t.test('keyed queues never wait for each other, and idle keys leave nothing behind', async (t) => {
  const k = new KeyedSerial()
  const gate = deferred()
  const ran: string[] = []
  const blocked = k.run('p', async () => {
    await gate.promise
    ran.push('p1')
  })
  const p2 = k.run('p', () => ran.push('p2'))
  await k.run('q', () => ran.push('q'))
  t.same(ran, ['q'], 'q ran while p waits')
  gate.resolve()
  await Promise.all([blocked, p2])
  t.same(ran, ['q', 'p1', 'p2'])
  await turn()
  t.equal(k.activeKeys, 0)
})
