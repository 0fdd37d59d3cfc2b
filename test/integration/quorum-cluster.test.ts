// Three broker processes, each a controller voter (--controller-voters), on one metadata quorum:
// they elect one controller that every node's Metadata names; topics are created only through
// it and only answered once committed, after which every node shows them; without a quorum a
// create is never answered as done; when the controller is SIGKILLed another is elected and
// takes creates. One cluster for the whole file.
import t from 'tap'
import { ErrorCode } from '../../src/protocol/index.js'
import { ProcessCluster, until } from './quorum-nodes.js'

const c = await ProcessCluster.create(t, [1, 2, 3])
await c.startAll()
const hex = (b: Uint8Array | null | undefined) => Buffer.from(b ?? []).toString('hex')

t.test('three nodes elect one controller, and every node\'s Metadata names it and lists the three', async (t) => {
  const controller = await c.controller([1, 2, 3])
  t.ok([1, 2, 3].includes(controller), `node ${controller} is the controller`)
  for (const id of c.ids) {
    const m = await c.metadata(id)
    t.equal(m.controllerId, controller, `node ${id} names it`)
    t.equal(m.clusterId, c.clusterId)
    t.same(m.brokers!.map((b) => [b.id, b.url]), [1, 2, 3].map((n) => [n, c.url(n)]), `node ${id} lists every node with its URL`)
  }
})

t.test('CreateTopics: refused with NOT_CONTROLLER elsewhere; on the controller answered once committed, then every node shows the topic', async (t) => {
  const controller = await c.controller([1, 2, 3])
  const other = c.ids.find((id) => id !== controller)!
  const refused = await c.createTopic(other, 'orders', 3)
  t.equal(refused.error?.code, ErrorCode.NOT_CONTROLLER)
  t.match(refused.error?.message, new RegExp(`the active controller is node ${controller} at ${c.url(controller)}`), 'naming the controller')

  const created = await c.createTopic(controller, 'orders', 3)
  t.equal(created.error, null, 'created')
  const id = hex(created.topicId)
  const onController = (await c.metadata(controller, ['orders'])).topics![0]
  t.equal(hex(onController.topicId), id, 'the controller shows it as soon as it answers')
  t.same(onController.partitions!.map((p) => p.replicas).flat().sort(), [1, 2, 3], 'one replica each, spread over the three nodes')
  for (const n of c.ids) {
    const shown = await until(`node ${n} to show the topic`, async () => {
      const topic = (await c.metadata(n, ['orders'])).topics![0]
      return topic.error == null ? topic : null
    })
    t.equal(hex(shown.topicId), id, `node ${n} shows it with the same id`)
    t.same(shown.partitions!.map((p) => [p.replicas, p.leaderId]), onController.partitions!.map((p) => [p.replicas, p.replicas![0]]), `node ${n}: each partition led by its one replica`)
  }
  const again = await c.createTopic(controller, 'orders')
  t.equal(again.error?.code, ErrorCode.TOPIC_ALREADY_EXISTS)
})

t.test('without a quorum a create is never answered as done; once the quorum is back a retry finds one topic', async (t) => {
  const controller = await c.controller([1, 2, 3])
  const followers = c.ids.filter((id) => id !== controller)
  for (const id of followers) c.signal(id, 'SIGSTOP')
  let resumed = false
  t.teardown(() => {
    if (!resumed) for (const id of followers) c.signal(id, 'SIGCONT')
  })
  const lonely = await c.createTopic(controller, 'maybe', 1, 1_500)
  t.ok(lonely.error != null && [ErrorCode.REQUEST_TIMED_OUT, ErrorCode.NOT_CONTROLLER].includes(lonely.error.code!), `refused as retriable: ${lonely.error?.message}`)
  t.same((await c.metadata(controller, ['maybe'])).topics![0].error?.code, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'not in the committed image')
  for (const id of followers) c.signal(id, 'SIGCONT')
  resumed = true

  const outcome = await until('a retried create to be answered', async () => {
    const now = await c.controller([1, 2, 3])
    const r = await c.createTopic(now, 'maybe')
    return r.error == null || r.error.code === ErrorCode.TOPIC_ALREADY_EXISTS ? r : null
  })
  t.ok(outcome, `answered: ${outcome.error?.code ?? 'created'}`)
  const ids = await until('every node to show the topic', async () => {
    const all = await Promise.all(c.ids.map(async (n) => hex((await c.metadata(n, ['maybe'])).topics![0].topicId)))
    return all.every((x) => x !== '') ? all : null
  })
  t.equal(new Set(ids).size, 1, 'one topic id on every node')
})

t.test('SIGKILL the controller: another is elected, and CreateTopics succeeds there; the killed node catches up when back', async (t) => {
  const controller = await c.controller([1, 2, 3])
  const survivors = c.ids.filter((id) => id !== controller)
  const killedAt = Date.now()
  await c.stop(controller, 'SIGKILL')
  const next = await c.controller(survivors)
  t.not(next, controller, `node ${next} took over`)
  const created = await until('a create at the new controller', async () => {
    const r = await c.createTopic(next, 'after-failover')
    return r.error == null ? r : null
  })
  t.comment(`failover: SIGKILL of the controller to the next successful CreateTopics in ${Date.now() - killedAt} ms`)
  for (const n of survivors) await until(`node ${n} to show the topic`, async () => hex((await c.metadata(n, ['after-failover'])).topics![0].topicId) === hex(created.topicId))

  await c.start(controller)
  const want = await c.topics(next)
  await until(`node ${controller}, restarted, to catch up`, async () => JSON.stringify(await c.topics(controller)) === JSON.stringify(want))
  t.pass('the restarted node has every topic, with the same ids and replicas')
})
