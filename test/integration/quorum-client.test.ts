// The Node client against a three-node quorum, bootstrapped from a node that is not the active
// controller: its admin calls reach the controller (a NOT_CONTROLLER answer sends the retry
// there, as Kafka's admin client does), and it learns every node from Metadata. One cluster.
import t from 'tap'
import { createClient } from '../../src/client/node.js'
import { ProcessCluster, until } from './quorum-nodes.js'

const c = await ProcessCluster.create(t, [1, 2, 3])
await c.startAll()

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
