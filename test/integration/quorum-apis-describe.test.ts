// DescribeQuorum when the node asked names a leader the client cannot reach: the client answers
// with that node's view rather than failing — asked again once the leader attempt failed, so
// that a leader elected meanwhile is found. It takes a leader that stops answering without
// resigning — a process stopped with SIGSTOP (a clean stop resigns, and its followers name no
// leader at once: test/client/quorum-admin.test.ts) — so processes. One cluster.
import t from 'tap'
import { createClient, type QuorumDescription } from '../../src/client/node.js'
import { ProcessCluster } from './quorum-nodes.js'

const c = await ProcessCluster.create(t, [1, 2, 3])
await c.startAll()

t.test('describeQuorum asked of a follower whose leader stopped answering: the follower\'s view, or the next leader\'s once one is elected', async (t) => {
  const leader = await c.controller()
  const follower = c.ids.find((id) => id !== leader)!
  c.signal(leader, 'SIGSTOP')
  t.teardown(() => c.signal(leader, 'SIGCONT'))
  // Both clients ask the follower at once: it names its leader until it has not fetched from it
  // for 2 s (METADATA_FETCH_TIMEOUT_MS); the leader accepts their connections and is silent. The
  // first gives up on it after 0.5 s, when the follower still names it; the second after 8 s,
  // by when the other two have elected a leader (2 s, then an election of 1-2 s).
  const describe = async (connectTimeoutMs: number): Promise<[QuorumDescription, number]> => {
    const client = createClient({ brokers: [c.url(follower)], clientId: 'quorum-apis-describe', connectTimeoutMs, requestTimeoutMs: connectTimeoutMs, apiTimeoutMs: 30_000 })
    t.teardown(() => client.close())
    const started = Date.now()
    const d = await client.admin().describeQuorum()
    return [d, Date.now() - started]
  }
  const [[soon, soonMs], [late, lateMs]] = await Promise.all([describe(500), describe(8_000)])

  t.equal(soon.answeredBy, follower, 'the follower answered')
  t.equal(soon.leaderId, leader, 'naming the stalled leader')
  t.equal(soon.clusterId, c.clusterId)
  t.strictSame(soon.voters.map((v) => [v.nodeId, v.url, v.lag]), c.ids.map((id) => [id, c.url(id), -1]), 'positions unknown outside the leader')
  t.ok(soon.voters.find((v) => v.nodeId === follower)!.logEndOffset > 0, 'the follower\'s own log end it knows')
  t.ok(soonMs < 4_000, `answered once the leader's connection timed out (${soonMs} ms)`)

  t.not(late.leaderId, leader, `the next leader, node ${late.leaderId}, not the stalled one`)
  t.equal(late.answeredBy, late.leaderId, 'answered by that leader')
  t.strictSame(late.voters.map((v) => v.nodeId), c.ids)
  t.ok(late.voters.filter((v) => v.nodeId !== leader).every((v) => v.lag >= 0), 'with the positions it knows')
  t.ok(lateMs >= 7_500 && lateMs < 20_000, `after the stalled leader's connection timed out (${lateMs} ms)`)
})
