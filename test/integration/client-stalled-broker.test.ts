// Issue 15, item 1: a broker that accepts TCP connections but never finishes the WebSocket
// handshake (here: a real broker process stopped with SIGSTOP) must not crash the process
// using the client. ws emits an 'error' event when a socket still connecting is closed (the
// connect timeout does that), and an 'error' event nobody hears kills Node. The program under
// test is a separate Node process (fixtures/stalled-broker-client.mjs) with a consumer loop, a
// producer send and admin calls inside try/catch, on a client connected before the stop and on
// a fresh one: each must end in a retriable error that says the broker could not be reached,
// within its bound, and the program must exit with its own code.
import t from 'tap'
import { spawn } from 'node:child_process'
import { startBroker } from './broker-process.js'

const CHILD = new URL('./fixtures/stalled-broker-client.mjs', import.meta.url).pathname
const EXIT_CODE = 7
const CHILD_TIMEOUT_MS = 60_000
/** The child's bounds (apiTimeoutMs, maxBlockMs 4 s; deliveryTimeoutMs 6 s), plus a connect timeout and slack for a busy machine. */
const BOUND_MS = { 'running consumer loop': 4_000, 'connected producer send': 6_000, 'connected admin call': 4_000, 'fresh admin call': 4_000, 'fresh producer send': 4_000, 'fresh consumer loop': 4_000 }
const SLACK_MS = 4_000

interface ErrorLink {
  name: string
  code: string | null
  retriable: boolean | null
  message: string
}
interface Outcome {
  name: keyof typeof BOUND_MS
  ok: boolean
  ms: number
  error?: ErrorLink[]
}

t.test('a stalled broker: every client call ends in a retriable error in time, and the process exits on its own', async (t) => {
  const broker = await startBroker(t)
  const child = spawn(process.execPath, [CHILD, broker.url], { stdio: ['pipe', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  let reportedAt = 0
  child.stdout.on('data', (d) => {
    stdout += d
    if (reportedAt === 0 && stdout.includes('"outcomes"')) reportedAt = Date.now()
  })
  child.stderr.on('data', (d) => (stderr += d))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    broker.child.kill('SIGCONT')
  })

  // Wait for the child to be connected and reading, then stop the broker under it.
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the child did not get ready: ${stdout}${stderr}`)), 30_000)
    const check = () => {
      if (stdout.includes('"ready":true')) {
        clearTimeout(timer)
        resolve()
      }
    }
    child.stdout.on('data', check)
    void exited.then(() => reject(new Error(`the child exited before it was ready: ${stdout}${stderr}`)))
  })
  broker.child.kill('SIGSTOP')
  child.stdin.write('go\n')

  let timer: NodeJS.Timeout | undefined
  const result = await Promise.race([exited, new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), CHILD_TIMEOUT_MS)))])
  clearTimeout(timer)
  if (result === 'timeout') {
    t.fail(`the child did not exit within ${CHILD_TIMEOUT_MS} ms: ${stdout}${stderr}`)
    return
  }
  t.same(result, { code: EXIT_CODE, signal: null }, `the child exited with its own code ${EXIT_CODE}; stderr:\n${stderr}`)
  // Nothing of the closed clients keeps the process alive (a socket left in a closing handshake
  // with the stopped broker would, for ws's 30 s close timeout).
  const exitMs = Date.now() - reportedAt
  t.ok(reportedAt > 0 && exitMs < 5_000, `the child exited ${exitMs} ms after its report`)
  t.notMatch(stderr, /Unhandled 'error' event|Uncaught|unhandledRejection/, 'nothing escaped the client unhandled')

  const report = stdout.split('\n').filter((l) => l.includes('"outcomes"')).map((l) => JSON.parse(l) as { outcomes: Outcome[]; closeMs: number })[0]
  if (report === undefined) {
    t.fail(`the child printed no outcomes: ${stdout}`)
    return
  }
  t.equal(report.outcomes.length, Object.keys(BOUND_MS).length, 'every call came back')
  for (const o of report.outcomes) {
    t.test(o.name, async (t) => {
      t.equal(o.ok, false, 'it failed (the broker is stopped)')
      const [top] = o.error ?? []
      t.comment(`${o.ms} ms: ${top?.code}: ${top?.message}`)
      t.equal(top?.retriable, true, 'a retriable error')
      // The outermost error is the call's bound running out (a delivery timeout for a record
      // already buffered); somewhere in its causes is the connection that could not be made.
      const expected = o.name === 'connected producer send' ? ['DELIVERY_TIMEOUT'] : ['NO_BROKER_AVAILABLE', 'CONNECTION_FAILED']
      t.ok(expected.includes(top?.code ?? ''), `code ${top?.code} is one of ${expected.join(', ')}`)
      t.ok(o.error?.some((e) => e.code === 'CONNECTION_FAILED' || e.code === 'CONNECTION_CLOSED' || e.code === 'REQUEST_TIMEOUT'), 'its causes name the connection that failed', { causes: o.error })
      t.ok(o.ms < BOUND_MS[o.name] + SLACK_MS, `it came back in ${o.ms} ms, within its bound of ${BOUND_MS[o.name]} ms (+ slack)`)
    })
  }
  t.ok(report.closeMs < 5_000, `closing both clients took ${report.closeMs} ms`)
})
