// The client's quorum calls against real brokers sharing one metadata quorum (in this process,
// over real WebSockets: broker-quorum.ts): voters 1-3 and node 4, a broker only. The describe
// answer comes from the leader (or, with none, from the node asked); voter changes follow
// NOT_CONTROLLER to the controller; what is retried, what is not, and within which bound. One
// cluster for the file, its tests in order: the last ones stop two voters, then bring one back.
import t, { type Test } from 'tap'
import { createClient, type Client } from '../../src/client/node.js'
import { BitacoraError, ClientError } from '../../src/client/errors.js'
import { freePort } from '../integration/cli-process.js'
import { BrokerQuorum, until } from './broker-quorum.js'

/** A client retrying every 20-100 ms, as often as its apiTimeoutMs allows (the bound these tests are about). */
function client(t: Test, url: string, options: { apiTimeoutMs?: number; requestTimeoutMs?: number } = {}): Client {
  const c = createClient({ brokers: [url], clientId: 'quorum-test', retry: { initialMs: 20, maxMs: 100, retries: 100_000 }, ...options })
  t.teardown(() => c.close())
  return c
}

/** What a call threw (it must throw). */
async function failure(call: Promise<unknown>): Promise<BitacoraError> {
  const err = await call.then(() => new Error('expected a failure'), (e: unknown) => e)
  if (!(err instanceof BitacoraError)) throw err
  return err
}

const q = await BrokerQuorum.create(t, [1, 2, 3, 4], [1, 2, 3])
await q.startAll()
const first = await q.ready()
const L = first.leaderId
const [F, G] = [1, 2, 3].filter((id) => id !== L) // followers

t.test('describeQuorum asked of a follower answers with the leader\'s view: every replica\'s log end and lag, and the brokers', async (t) => {
  const d = await client(t, q.url(F)).admin().describeQuorum()
  t.equal(d.answeredBy, L)
  t.equal(d.clusterId, q.clusterId)
  t.equal(d.leaderId, L)
  t.ok(d.leaderEpoch >= 1, `epoch ${d.leaderEpoch}`)
  const leaderEnd = d.voters.find((v) => v.nodeId === L)!.logEndOffset
  t.ok(d.highWatermark >= 1 && d.highWatermark <= leaderEnd, `HW ${d.highWatermark}, the leader's log end ${leaderEnd}`)
  t.strictSame(d.voters.map((v) => [v.nodeId, v.url]), [1, 2, 3].map((id) => [id, q.url(id)]))
  t.strictSame(d.observers.map((o) => [o.nodeId, o.url]), [[4, q.url(4)]], 'node 4 follows as an observer')
  for (const r of [...d.voters, ...d.observers]) {
    t.ok(r.logEndOffset >= 0 && r.lag === leaderEnd - r.logEndOffset && r.lastFetchMsAgo >= 0, `node ${r.nodeId}: log end ${r.logEndOffset}, lag ${r.lag}, fetched ${r.lastFetchMsAgo} ms ago`)
  }
  t.strictSame(d.brokers, [1, 2, 3, 4].map((id) => ({ id, url: q.url(id), rack: '', fenced: false })))
})

t.test('addVoter asked of a follower follows NOT_CONTROLLER to the controller: node 4, caught up, is a voter', async (t) => {
  const voters = await client(t, q.url(F)).admin().addVoter(4, q.url(4), { timeoutMs: 5_000 })
  t.strictSame(voters, [1, 2, 3, 4])
  const d = await client(t, q.url(G)).admin().describeQuorum()
  t.strictSame(d.voters.map((v) => v.nodeId), [1, 2, 3, 4])
  t.strictSame(d.observers, [])
})

t.test('removeVoter of a live voter follows NOT_CONTROLLER too, and the node follows as an observer; the controller\'s refusal is final, not retried', async (t) => {
  const admin = client(t, q.url(F), { apiTimeoutMs: 10_000 }).admin()
  t.strictSame(await admin.removeVoter(4), [1, 2, 3])
  const d = await until('node 4 to fetch as an observer', async () => {
    const d = await admin.describeQuorum()
    return d.observers.some((o) => o.nodeId === 4 && o.lag === 0) ? d : null
  })
  t.strictSame(d.voters.map((v) => v.nodeId), [1, 2, 3])
  const started = Date.now()
  const err = await failure(admin.removeVoter(9))
  t.equal(err.code, 'INVALID_REQUEST')
  t.match(err.message, /: cannot remove node 9: node 9 is not a voter \(voters: 1, 2, 3\)$/)
  t.ok(Date.now() - started < 5_000, `answered at once, not retried until apiTimeoutMs (${Date.now() - started} ms)`)
})

t.test('addVoter of a node nobody runs: the controller\'s REQUEST_TIMED_OUT within the given time, not retried; the quorum commits meanwhile', async (t) => {
  const url = `ws://127.0.0.1:${await freePort()}/`
  const c = client(t, q.url(F), { apiTimeoutMs: 10_000 })
  const started = Date.now()
  let answered = false
  const adding = failure(c.admin().addVoter(5, url, { timeoutMs: 3_000 })).finally(() => (answered = true))
  const [created] = await c.admin().createTopics([{ topic: 'meanwhile', partitions: 1 }])
  t.equal(created.error, null, 'a topic is created while node 5 is awaited')
  t.notOk(answered, 'before the add-voter is answered')
  const err = await adding
  const took = Date.now() - started
  t.equal(err.code, 'REQUEST_TIMED_OUT')
  t.match(err.message, `cannot add node 5 (${url}) within 3000 ms: node 5 has not fetched from this leader: is it running at ${url}`)
  t.ok(took >= 2_900 && took < 6_000, `after its time to catch up, and not retried: that would take another 3000 ms (${took} ms)`)
  t.strictSame((await c.admin().describeQuorum()).voters.map((v) => v.nodeId), [1, 2, 3], 'the voters did not change')
})

// The leader out of reach while the node asked still names it: test/integration/quorum-apis-describe.test.ts
// (it takes a leader that stops answering without resigning: a process, SIGSTOP).
t.test('with the leader gone and no quorum left, describeQuorum answers with the asked node\'s view', async (t) => {
  await q.stop(G)
  await q.stop(L) // F alone can never elect a leader (a controlled shutdown may hand it the leadership, which check-quorum then gives up)
  const d = await until(`node ${F} not to lead alone`, async () => {
    const d = await client(t, q.url(F), { apiTimeoutMs: 10_000 }).admin().describeQuorum()
    return d.leaderId !== F ? d : null
  })
  t.equal(d.answeredBy, F)
  t.not(d.leaderId, F, `it names node ${d.leaderId} (-1: none), not itself`)
  t.strictSame(d.voters.map((v) => v.lag), [-1, -1, -1], 'positions unknown outside the leader')
})

t.test('with no controller for the whole bound, NOT_CONTROLLER ends the call at apiTimeoutMs', async (t) => {
  await until(`node ${F} to know no leader`, async () => (await q.describe(F)).leaderId === -1)
  const started = Date.now()
  const err = await failure(client(t, q.url(F), { apiTimeoutMs: 1_000 }).admin().removeVoter(G))
  const took = Date.now() - started
  t.equal(err.code, 'NOT_CONTROLLER')
  t.match(err.message, `node ${F} is not the active controller; no active controller is known yet; retry shortly`)
  t.ok(took >= 900 && took < 3_000, `retried until apiTimeoutMs (1000 ms; the last back-off at most 100 ms), no longer (${took} ms)`)
})

t.test('with no controller elected, a change is retried with back-off until one is', async (t) => {
  const removing = client(t, q.url(F), { apiTimeoutMs: 30_000 }).admin().removeVoter(G)
  // The first attempt is refused at once; a leader needs an election timeout (a second or more) after this.
  await q.start(L)
  t.strictSame(await removing, [F, L].sort((a, b) => a - b))
})

t.test('bad arguments are INVALID_ARGUMENT before any request', async (t) => {
  const admin = client(t, 'ws://127.0.0.1:9/').admin()
  const cases: Array<[() => Promise<unknown>, RegExp]> = [
    [() => admin.addVoter(-1, 'ws://127.0.0.1:9/'), /node id must be an integer from 0/],
    [() => admin.addVoter(1.5, 'ws://127.0.0.1:9/'), /not 1.5/],
    [() => admin.addVoter(4, 'http://127.0.0.1:9/'), /url must be the node's ws:\/\/ or wss:\/\/ URL/],
    [() => admin.addVoter(4, 'ws://127.0.0.1:9/', { timeoutMs: 0 }), /option timeoutMs must be an integer from 1/],
    [() => admin.removeVoter(Number.NaN), /node id must be an integer/],
  ]
  for (const [call, message] of cases) {
    const err = await call().catch((e: unknown) => e)
    t.type(err, ClientError)
    t.equal((err as ClientError).code, 'INVALID_ARGUMENT')
    t.match((err as Error).message, message)
  }
})
