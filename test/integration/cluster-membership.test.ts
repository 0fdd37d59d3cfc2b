// Broker membership with real processes: three controller voters and a fourth node that is a
// broker only (an observer of the metadata log). Every node registers and is unfenced — the
// fourth too, though no voter knows its URL before it registers. A broker stalled (SIGSTOP) past
// its lease is fenced in every other node's Metadata and gets no new partitions; resumed
// (SIGCONT), it fences itself (its partitions' leaders resign), catches up, is unfenced
// everywhere and leads its partitions again in a new epoch. Leases are shortened to 3 s with
// heartbeats every 500 ms: the least 2 shared cores hold. One cluster for the whole file.
import t from 'tap'
import { ProcessCluster, until } from './quorum-nodes.js'

const LEASE_MS = 3_000
const c = await ProcessCluster.create(t, [1, 2, 3, 4], [1, 2, 3], ['--broker-heartbeat-interval-ms', '500', '--broker-session-timeout-ms', String(LEASE_MS)])
await c.startAll()

t.test('every node, the broker-only one included, is registered and unfenced in every node\'s Metadata', async (t) => {
  for (const id of c.ids) {
    const m = await c.metadata(id)
    t.same(m.brokers!.map((b) => [b.id, b.url, b.fenced]), c.ids.map((n) => [n, c.url(n), false]), `node ${id} lists the four, unfenced`)
  }
  const quorum = (await c.call(await c.controller([1, 2, 3]), { describeQuorum: {} })).describeQuorum!
  t.same(quorum.observers!.map((o) => o.nodeId), [4], 'node 4 follows the metadata log as an observer')
})

t.test('SIGSTOP a broker past its lease: fenced in every other node\'s Metadata, and placed on no more; SIGCONT: it catches up and is unfenced, and leads its partitions again', async (t) => {
  const created = await c.createTopic(4, 'spread', 4) // node 4 answers once it shows the topic and leads its partition
  t.equal(created.error, null)
  const hostedBy4 = (await c.metadata(4, ['spread'])).topics![0].partitions!.find((p) => p.replicas![0] === 4)!
  t.ok(hostedBy4, 'node 4 hosts one of its partitions')
  const epochBefore = hostedBy4.leaderEpoch!
  t.ok(epochBefore >= 1, `led by node 4 in epoch ${epochBefore}`)

  c.signal(4, 'SIGSTOP')
  let resumed = false
  t.teardown(() => {
    if (!resumed) c.signal(4, 'SIGCONT')
  })
  const stoppedAt = Date.now()
  for (const id of [1, 2, 3]) {
    await until(`node ${id} to show broker 4 fenced`, async () => (await c.brokers(id)).includes('4 fenced'), 4 * LEASE_MS)
  }
  t.ok(Date.now() - stoppedAt >= LEASE_MS - 1_000, `not before its lease ran out (${Date.now() - stoppedAt} ms)`)
  for (const id of [1, 2, 3]) t.same(await c.brokers(id), ['1 unfenced', '2 unfenced', '3 unfenced', '4 fenced'], `node ${id}: only broker 4 fenced`)

  const meanwhile = await c.createTopic(2, 'without-4', 6)
  t.equal(meanwhile.error, null)
  const placed = (await c.metadata(2, ['without-4'])).topics![0].partitions!.map((p) => p.replicas![0])
  t.same([...new Set(placed)].sort(), [1, 2, 3], `placed on the unfenced brokers only (${placed.join(', ')})`)

  c.signal(4, 'SIGCONT')
  resumed = true
  await c.ready()
  t.pass('broker 4 caught up and is unfenced in every node\'s Metadata, its own included')
  const after = await until('node 4 to lead its partition again', async () => {
    const p = (await c.metadata(4, ['spread'])).topics![0].partitions!.find((x) => x.index === hostedBy4.index)!
    return p.leaderId === 4 && p.leaderEpoch! > epochBefore ? p : null
  })
  t.ok(after.leaderEpoch! > epochBefore, `it resigned while fenced and leads again in epoch ${after.leaderEpoch} (was ${epochBefore})`)
  t.equal((await c.metadata(4, ['without-4'])).topics![0].error, null, 'and it knows the topic created while it was stalled')
})
