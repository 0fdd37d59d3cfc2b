// The group member's heartbeat clock outside a browser, and the session defaults of the two
// entry points. Node has no Web Worker global, so the browser clock's fallback runs for real
// here: timers, and a warning saying so. The Worker path itself runs in real Chromium
// (test/browser/browser-group.test.ts).
import t from 'tap'
import { browserGroupPlatform, createClient as createBrowserClient } from '../../src/client/browser.js'
import { GroupMember, NODE_GROUP_PLATFORM } from '../../src/client/group-member.js'
import { timerClock, workerClock } from '../../src/client/heartbeat-clock.js'
import { BROWSER_SESSION_TIMEOUT_MS_DEFAULT, SESSION_TIMEOUT_MS_DEFAULT } from '../../src/client/limits.js'
import { Sleeper } from '../../src/client/sleep.js'

t.test('without a Worker the clock falls back to timers, with a warning', async (t) => {
  t.equal(typeof (globalThis as { Worker?: unknown }).Worker, 'undefined', 'Node has no Web Worker global')
  const warnings: string[] = []
  const clock = workerClock((m) => warnings.push(m))
  t.equal(clock, timerClock, 'timers')
  t.equal(warnings.length, 1)
  t.match(warnings[0], /no Worker.*throttles.*sessionTimeoutMs above 60 s/)
  const fired: string[] = []
  clock.after(5, () => fired.push('a'))
  const cancel = clock.after(5, () => fired.push('cancelled'))
  cancel()
  await new Sleeper(clock).sleep(30)
  t.same(fired, ['a'], 'a tick fires; a cancelled one does not')
})

t.test('a sleeper on the clock wakes early when asked', async (t) => {
  const sleeper = new Sleeper(timerClock)
  const started = Date.now()
  const slept = sleeper.sleep(60_000)
  sleeper.wakeAll()
  await slept
  t.ok(Date.now() - started < 1_000)
})

t.test('a member takes the session timeout of its platform unless the application gives one', async (t) => {
  t.ok(BROWSER_SESSION_TIMEOUT_MS_DEFAULT > 60_000, 'the browser default outlasts a background tab\'s once-a-minute timers')
  t.equal(browserGroupPlatform.sessionTimeoutMsDefault, BROWSER_SESSION_TIMEOUT_MS_DEFAULT)
  t.equal(NODE_GROUP_PLATFORM.sessionTimeoutMsDefault, SESSION_TIMEOUT_MS_DEFAULT)
  const client = createBrowserClient({ brokers: ['ws://127.0.0.1:1'] })
  t.teardown(() => client.close())
  const host = { assign: () => undefined, seek: () => undefined, position: () => undefined }
  const member = (options: { sessionTimeoutMs?: number }, platform = browserGroupPlatform) =>
    new GroupMember(client.cluster, host, { groupId: 'g', ...options }, ['t'], 'c', platform)
  const warn = console.warn
  console.warn = () => undefined // the browser clock's fallback warning, tested above
  t.teardown(() => void (console.warn = warn))
  t.equal(member({}).sessionTimeoutMs, BROWSER_SESSION_TIMEOUT_MS_DEFAULT, 'browser: 90 s by default')
  t.equal(member({ sessionTimeoutMs: 6_000 }).sessionTimeoutMs, 6_000, 'browser: the application\'s choice wins')
  t.equal(member({}, NODE_GROUP_PLATFORM).sessionTimeoutMs, SESSION_TIMEOUT_MS_DEFAULT, 'Node: Kafka\'s 45 s')
})
