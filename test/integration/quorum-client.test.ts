// The Node client against a three-node quorum, bootstrapped from a node that is not the active
// controller: its admin calls reach the controller (a NOT_CONTROLLER answer sends the retry
// there, as Kafka's admin client does), and it learns every node from Metadata, with their racks
// and each partition's leader in the epoch its leader reported. One cluster.
import t from 'tap'
import { createClient } from '../../src/client/node.js'
import { ProcessCluster, until } from './quorum-nodes.js'

const c = await ProcessCluster.create(t, [1, 2, 3])
for (const id of c.ids) c.nodeArgs.set(id, ['--rack', `rack-${id}`])
await c.startAll()

t.test('every node lists every broker with the rack it was started with', async (t) => {
  for (const n of c.ids) {
    const brokers = (await c.metadata(n)).brokers ?? []
    t.same(brokers.map((b) => [b.id, b.rack]).sort(), c.ids.map((id) => [id, `rack-${id}`]), `node ${n}`)
  }
})

t.test('admin calls bootstrapped from a node that is not the controller reach the controller', async (t) => {
  const controller = await c.controller([1, 2, 3])
  const other = c.ids.find((id) => id !== controller)!
  const client = createClient({ brokers: [c.url(other)], clientId: 'quorum-client-test' })
  t.teardown(() => client.close())
  const admin = client.admin()
  const [created] = await admin.createTopics([{ topic: 'orders', partitions: 3 }])
  t.equal(created.error, null, `created through node ${other}: ${created.error?.message ?? ''}`)
  for (const n of c.ids) {
    await until(`node ${n} to show the topic`, async () => (await c.metadata(n, ['orders'])).topics![0].error == null)
  }
  const [config] = await admin.alterConfigs([{ type: 'topic', name: 'orders', set: { 'retention.ms': '3600000' } }])
  t.equal(config.error, null, 'configs altered through the controller')
  const [deleted] = await admin.deleteTopics(['orders'])
  t.equal(deleted.error, null, 'deleted through the controller')
  // Answered once committed on the controller; the node the client reads from may replay it a moment later.
  await until('the node the client reads from to drop the topic', async () => (await admin.describeTopics()).length === 0)
  t.pass('no topic left')
})

t.test('every node names each partition leader in the epoch its leader reported, again after the leader restarts', async (t) => {
  const leaders = async (n: number) => (await c.metadata(n, ['reported'])).topics![0].partitions ?? []
  const created = await c.createTopic(c.ids[0], 'reported', 6)
  t.equal(created.error ?? null, null)
  const before = await until('every node to show every partition led by its replica in a reported epoch', async () => {
    const views = await Promise.all(c.ids.map(leaders))
    const settled = views.every((ps) => ps.length === 6 && ps.every((p) => p.leaderId === p.replicas![0] && (p.leaderEpoch ?? -1) >= 1))
    return settled && views[0]
  })
  const host = before[0].replicas![0]
  const hosted = before.filter((p) => p.replicas![0] === host).map((p) => [p.index ?? 0, p.leaderEpoch ?? 0] as const)
  await c.stop(host)
  await c.start(host)
  const others = c.ids.filter((id) => id !== host)
  await until(`nodes ${others.join(', ')} to show node ${host}'s partitions in the epochs it won after restarting`, async () => {
    const views = await Promise.all(others.map(leaders))
    return views.every((ps) => hosted.every(([index, epoch]) => {
      const p = ps.find((q) => (q.index ?? 0) === index)
      return p !== undefined && p.leaderId === host && (p.leaderEpoch ?? 0) > epoch
    }))
  })
  t.pass(`node ${host}'s ${hosted.length} partitions reported again in new epochs`)
})
