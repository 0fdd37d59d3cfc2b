// Three broker processes, each a controller voter (--controller-voters), on one metadata quorum:
// they elect one controller that every node's Metadata names, and each registers as a broker;
// topics are created, altered and deleted through any node (forwarded to the controller) and
// answered only once committed, after which that node shows the change at once and every node
// soon; with two of three voters killed a create answers a retriable timeout, never success,
// and a retry after their restart finds one topic; when the controller is SIGKILLed another is
// elected and takes creates; a topic deleted and re-created while a node that held its data was
// down never serves the old data on that node. One cluster for the whole file.
import t from 'tap'
import { existsSync, readdirSync } from 'node:fs'
import { loadCodec, splitBatches } from '../../src/codec/index.js'
import { bitacora, ErrorCode } from '../../src/protocol/index.js'
import { ProcessCluster, until } from './quorum-nodes.js'

const c = await ProcessCluster.create(t, [1, 2, 3])
await c.startAll()
const hex = (b: Uint8Array | null | undefined) => Buffer.from(b ?? []).toString('hex')

t.test('three nodes elect one controller, and every node\'s Metadata names it and lists the three, registered and unfenced', async (t) => {
  const controller = await c.controller([1, 2, 3])
  t.ok([1, 2, 3].includes(controller), `node ${controller} is the controller`)
  for (const id of c.ids) {
    const m = await c.metadata(id)
    t.equal(m.controllerId, controller, `node ${id} names it`)
    t.equal(m.clusterId, c.clusterId)
    t.same(m.brokers!.map((b) => [b.id, b.url, b.fenced]), [1, 2, 3].map((n) => [n, c.url(n), false]), `node ${id} lists every broker with its URL, unfenced`)
  }
})

t.test('CreateTopics, AlterConfigs and DeleteTopics sent to nodes that are not the controller are forwarded to it; the node asked shows each change when it answers, then every node', async (t) => {
  const controller = await c.controller([1, 2, 3])
  const [other, third] = c.ids.filter((id) => id !== controller)

  const created = await c.createTopic(other, 'orders', 3)
  t.equal(created.error, null, `created through node ${other}`)
  const id = hex(created.topicId)
  const onOther = (await c.metadata(other, ['orders'])).topics![0]
  t.equal(hex(onOther.topicId), id, `node ${other} shows it as soon as it answers`)
  t.same(onOther.partitions!.map((p) => p.replicas).flat().sort(), [1, 2, 3], 'one replica each, spread over the three brokers')
  for (const n of c.ids) {
    const shown = await until(`node ${n} to show the topic`, async () => {
      const topic = (await c.metadata(n, ['orders'])).topics![0]
      return topic.error == null ? topic : null
    })
    t.equal(hex(shown.topicId), id, `node ${n} shows it with the same id`)
    t.same(shown.partitions!.map((p) => [p.replicas, p.leaderId]), onOther.partitions!.map((p) => [p.replicas, p.replicas![0]]), `node ${n}: each partition led by its one replica`)
  }
  t.equal((await c.createTopic(third, 'orders')).error?.code, ErrorCode.TOPIC_ALREADY_EXISTS, `a second create through node ${third} is refused`)

  const resource = { type: bitacora.ConfigResourceType.TOPIC, name: 'orders' }
  const altered = await c.call(third, { alterConfigs: { resources: [{ resource, set: { 'retention.ms': '60000' } }] } })
  t.equal(altered.alterConfigs!.results![0].error, null, `altered through node ${third}`)
  const described = await c.call(third, { describeConfigs: { resources: [{ resource, keys: ['retention.ms'] }] } })
  t.equal(described.describeConfigs!.results![0].entries![0].value, '60000', `node ${third} shows the new config when it answers`)

  const deleted = await c.call(other, { deleteTopics: { names: ['orders'] } })
  t.equal(deleted.deleteTopics!.topics![0].error, null, `deleted through node ${other}`)
  t.equal((await c.metadata(other, ['orders'])).topics![0].error?.code, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `node ${other} shows it gone when it answers`)
})

t.test('two of three voters killed: a create answers a retriable timeout, never success; after their restart a retry finds one topic', async (t) => {
  const controller = await c.controller([1, 2, 3])
  const followers = c.ids.filter((id) => id !== controller)
  // The controller survives: it may append the create, and a later leader may commit it.
  for (const id of followers) await c.stop(id, 'SIGKILL')
  const lonely = await c.createTopic(controller, 'maybe', 1, 3_000)
  t.equal(lonely.error?.code, ErrorCode.REQUEST_TIMED_OUT, `a retriable timeout: ${lonely.error?.message}`)
  t.same((await c.metadata(controller, ['maybe'])).topics![0].error?.code, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'not in the committed image')

  for (const id of followers) await c.start(id)
  const outcome = await until('a retried create to be answered', async () => {
    const r = await c.createTopic(followers[0], 'maybe')
    return r.error == null || r.error.code === ErrorCode.TOPIC_ALREADY_EXISTS ? r : null
  }, 60_000)
  t.ok(outcome, `answered: ${outcome.error?.code === ErrorCode.TOPIC_ALREADY_EXISTS ? 'TOPIC_ALREADY_EXISTS (the first had committed after all)' : 'created'}`)
  const ids = await until('every node to show the topic', async () => {
    const all = await Promise.all(c.ids.map(async (n) => hex((await c.metadata(n, ['maybe'])).topics![0].topicId)))
    return all.every((x) => x !== '') ? all : null
  })
  t.equal(new Set(ids).size, 1, 'one topic id on every node')
  const partitions = (await c.metadata(controller, ['maybe'])).topics![0].partitions!
  t.equal(partitions.length, 1, 'whole: its one partition, placed')
  await c.ready()
})

t.test('SIGKILL the controller: a create sent through a survivor at once is retried there at the next controller and succeeds; the killed node catches up when back', async (t) => {
  const controller = await c.controller([1, 2, 3])
  const survivors = c.ids.filter((id) => id !== controller)
  const killedAt = Date.now()
  await c.stop(controller, 'SIGKILL')
  // Forwarded to the dead controller first (the survivor still names it), then to the one elected.
  const created = await c.createTopic(survivors[0], 'after-failover', 1, 20_000)
  t.equal(created.error, null, 'one request, answered as created within its timeout')
  t.comment(`failover: SIGKILL of the controller to the next successful CreateTopics in ${Date.now() - killedAt} ms`)
  const next = await c.controller(survivors)
  t.not(next, controller, `node ${next} took over`)
  for (const n of survivors) await until(`node ${n} to show the topic`, async () => hex((await c.metadata(n, ['after-failover'])).topics![0].topicId) === hex(created.topicId))

  await c.start(controller)
  const want = await c.topics(next)
  await until(`node ${controller}, restarted, to catch up`, async () => JSON.stringify(await c.topics(controller)) === JSON.stringify(want))
  t.pass('the restarted node has every topic, with the same ids and replicas')
  await c.ready()
  t.pass('and it registered again, and is unfenced')
})

t.test('delete and re-create a topic while a node holding its data is down: back, it serves none of the old data and keeps none of its files', async (t) => {
  const codec = await loadCodec()
  const controller = await c.controller([1, 2, 3])
  const old = await c.createTopic(controller, 'reborn', 3)
  t.equal(old.error, null)
  await c.ready()
  const placed = (await c.metadata(controller, ['reborn'])).topics![0].partitions!
  const away = c.ids.find((id) => id !== controller && placed.some((p) => p.replicas![0] === id))!
  const index = placed.find((p) => p.replicas![0] === away)!.index ?? 0
  const batch = codec.encodeBatch(['old-1', 'old-2'].map((v) => ({ value: new TextEncoder().encode(v) })))
  const produced = await until(`node ${away} to take the old records`, async () => {
    const r = await c.call(away, { produce: { acks: -1, timeoutMs: 5_000, topics: [{ name: 'reborn', partitions: [{ index, records: batch }] }] } })
    return r.produce!.topics![0].partitions![0].error == null
  })
  t.ok(produced, `old records written to reborn/${index} on node ${away}`)
  const oldDir = `${hex(old.topicId)}-${index}`
  t.ok(existsSync(`${c.dataDirs.get(away)}/${oldDir}`), 'the old partition is on its disk')

  await c.stop(away, 'SIGKILL')
  const survivor = c.ids.find((id) => id !== away)!
  t.equal((await c.call(survivor, { deleteTopics: { names: ['reborn'], timeoutMs: 10_000 } })).deleteTopics!.topics![0].error, null, 'deleted while it was down')
  const reborn = await c.createTopic(survivor, 'reborn', 3)
  t.equal(reborn.error, null, 're-created under the same name')
  t.not(hex(reborn.topicId), hex(old.topicId), 'with a new id')

  await c.start(away)
  await c.ready()
  await until(`node ${away} to show the new topic id`, async () => hex((await c.metadata(away, ['reborn'])).topics![0].topicId) === hex(reborn.topicId))
  await until(`node ${away} to delete the old partition's files`, async () => !readdirSync(c.dataDirs.get(away)!).includes(oldDir))
  const values: string[] = []
  for (const p of (await c.metadata(away, ['reborn'])).topics![0].partitions!) {
    const leader = await until(`reborn/${p.index ?? 0} to have a leader`, async () => {
      const q = (await c.metadata(away, ['reborn'])).topics![0].partitions!.find((x) => (x.index ?? 0) === (p.index ?? 0))!
      return (q.leaderId ?? -1) >= 0 ? q.leaderId! : null
    })
    const r = await c.call(leader, { fetch: { maxWaitMs: 0, topics: [{ name: 'reborn', partitions: [{ index: p.index ?? 0, fetchOffset: 0 }] }] } })
    const part = r.fetch!.topics![0].partitions![0]
    t.equal(part.error ?? null, null, `reborn/${p.index ?? 0} answers a fetch on node ${leader}`)
    if (part.records?.length) {
      for (const [s, e] of splitBatches(part.records, true)) {
        const b = codec.decodeBatch(part.records.subarray(s, e))
        if (!b.header.control) values.push(...b.records.map((x) => new TextDecoder().decode(x.value!)))
      }
    }
  }
  t.same(values, [], 'no partition of the new topic serves a record of the old one')
})
