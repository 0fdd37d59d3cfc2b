// DescribeQuorum when the node asked names a leader the client cannot reach: the client answers
// with that node's view rather than failing. It takes a leader that stops answering without
// resigning — a process stopped with SIGSTOP (a clean stop resigns, and its followers name no
// leader at once: test/client/quorum-admin.test.ts) — so processes. One cluster.
import t from 'tap'
import { createClient } from '../../src/client/node.js'
import { ProcessCluster } from './quorum-nodes.js'

const c = await ProcessCluster.create(t, [1, 2, 3])
await c.startAll()

t.test('describeQuorum asked of a follower whose leader stopped answering: the follower\'s view, the leader named, no position known', async (t) => {
  const leader = await c.controller()
  const follower = c.ids.find((id) => id !== leader)!
  c.signal(leader, 'SIGSTOP')
  t.teardown(() => c.signal(leader, 'SIGCONT'))
  // The follower names its leader until it has not fetched from it for 2 s (METADATA_FETCH_TIMEOUT_MS):
  // its answer comes in milliseconds; the leader's never (it accepts the connection, and is silent).
  const client = createClient({ brokers: [c.url(follower)], clientId: 'quorum-apis-describe', connectTimeoutMs: 1_000, requestTimeoutMs: 1_000, apiTimeoutMs: 10_000 })
  t.teardown(() => client.close())
  const started = Date.now()
  const d = await client.admin().describeQuorum()
  t.equal(d.answeredBy, follower)
  t.equal(d.leaderId, leader, 'the leader it names')
  t.equal(d.clusterId, c.clusterId)
  t.strictSame(d.voters.map((v) => [v.nodeId, v.url, v.lag]), c.ids.map((id) => [id, c.url(id), -1]), 'positions unknown outside the leader')
  t.ok(d.voters.find((v) => v.nodeId === follower)!.logEndOffset > 0, 'the follower\'s own log end it knows')
  t.ok(Date.now() - started < 5_000, `answered once the leader's connection timed out (${Date.now() - started} ms)`)
})
