// Controlled shutdown with real processes (as Kafka's): a broker stopped with SIGTERM first hands
// the metadata log's leadership to a caught-up voter (if it leads it), then tells the controller
// it is going, which fences it at once — well before its 9 s lease (the default here) would run
// out — so clients see it fenced and a new controller at once. A broker whose controller does
// not answer, or with no controller left to tell, still exits within the bound. One cluster for
// the whole file.
import t from 'tap'
import { CONTROLLED_SHUTDOWN_TIMEOUT_MS, PEER_CLOSE_TIMEOUT_MS } from '../../src/broker/limits.js'
import { ProcessCluster, until } from './quorum-nodes.js'

/** The default lease (BROKER_LEASE_MS_DEFAULT): without a controlled shutdown, a stopped broker is fenced only after it. */
const LEASE_MS = 9_000
/** How soon after its exit the survivors must show the stopped broker fenced: well inside the lease. */
const FENCED_WITHIN_MS = 3_000

const c = await ProcessCluster.create(t, [1, 2, 3])
await c.startAll()

/** Stops node `id` with SIGTERM; answers how long it took to exit, and its exit code. */
async function terminate(id: number): Promise<{ ms: number; code: number | null }> {
  const child = c.processes.get(id)!.child
  const started = Date.now()
  await c.stop(id, 'SIGTERM')
  return { ms: Date.now() - started, code: child.exitCode }
}

t.test('SIGTERM of the active controller: another controller is named and the stopped broker fenced at once in every survivor\'s Metadata', async (t) => {
  const controller = await c.controller()
  const survivors = c.ids.filter((id) => id !== controller)
  const exit = await terminate(controller)
  t.equal(exit.code, 0, `exited cleanly after ${exit.ms} ms`)
  const exitedAt = Date.now()
  for (const id of survivors) {
    await until(`node ${id} to show broker ${controller} fenced`, async () => (await c.brokers(id)).includes(`${controller} fenced`), FENCED_WITHIN_MS)
  }
  t.pass(`fenced in every survivor's Metadata ${Date.now() - exitedAt} ms after its exit (its lease: ${LEASE_MS} ms)`)
  const next = await c.controller(survivors, FENCED_WITHIN_MS)
  t.ok(survivors.includes(next), `node ${next} is the controller`)
  const created = await c.createTopic(survivors[0], 'after-controlled-shutdown')
  t.equal(created.error, null, 'CreateTopics succeeds through a survivor')

  await c.start(controller)
  await c.ready()
  t.pass('restarted, it registers afresh and is unfenced everywhere')
})

t.test('SIGTERM of a broker that is not the controller: fenced at once, and the controller stays', async (t) => {
  const controller = await c.controller()
  const stopped = c.ids.find((id) => id !== controller)!
  const exit = await terminate(stopped)
  t.equal(exit.code, 0, `exited cleanly after ${exit.ms} ms`)
  for (const id of c.processes.keys()) {
    await until(`node ${id} to show broker ${stopped} fenced`, async () => (await c.brokers(id)).includes(`${stopped} fenced`), FENCED_WITHIN_MS)
  }
  t.equal(await c.controller(), controller, `node ${controller} is still the controller`)
  await c.start(stopped)
  await c.ready()
})

t.test('SIGTERM while the controller is stalled (SIGSTOP, its links open): the broker waits for no answer past the bound', async (t) => {
  const controller = await c.controller()
  const stopped = c.ids.find((id) => id !== controller)!
  c.signal(controller, 'SIGSTOP')
  let resumed = false
  t.teardown(() => {
    if (!resumed) c.signal(controller, 'SIGCONT')
  })
  const exit = await terminate(stopped)
  t.equal(exit.code, 0)
  const bound = CONTROLLED_SHUTDOWN_TIMEOUT_MS + PEER_CLOSE_TIMEOUT_MS + 2_000
  // It gives up at the deadline, or sooner once its metadata replica stops following the silent controller.
  t.ok(exit.ms < bound, `exited after ${exit.ms} ms, within the bound (${bound} ms)`)
  c.signal(controller, 'SIGCONT')
  resumed = true
  await c.start(stopped)
  await c.ready()
})

t.test('SIGTERM of the last node standing: no controller can fence it, and it still exits within the bound', async (t) => {
  const [last, ...others] = c.ids
  for (const id of others) await c.stop(id, 'SIGKILL')
  const exit = await terminate(last)
  t.equal(exit.code, 0)
  const bound = CONTROLLED_SHUTDOWN_TIMEOUT_MS + PEER_CLOSE_TIMEOUT_MS + 2_000
  t.ok(exit.ms < bound, `exited after ${exit.ms} ms (bound ${bound} ms)`)
})
