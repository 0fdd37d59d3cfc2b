// The group coordinator in a real broker process, over the raw protocol: __consumer_offsets is
// created on the first FindCoordinator, a member joins and gets every partition, commits are
// refused at a wrong epoch or when larger than one batch, and a broker killed and restarted rebuilds the group and its
// committed offsets from the partition. Writes that need not be atomic are never stuck behind the
// batch limit: a group with more offsets than one batch holds is deleted, and a mass expiry
// larger than one batch removes every member.
import t, { type Test } from 'tap'
import { randomUUID } from 'node:crypto'
import { connect, startBroker, tempDataDir, type RawClient } from './broker-process.js'
import { ErrorCode } from '../../src/protocol/index.js'

const WAIT_MS = 20_000
/** The coordinator errors a client retries (the partition's leader still loading, or just elected). */
const RETRIABLE: number[] = [ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.NOT_COORDINATOR]

/** Calls until `ok` accepts the response (retriable coordinator errors meanwhile), or fails after WAIT_MS. */
async function until<T>(what: string, call: () => Promise<T>, ok: (r: T) => boolean): Promise<T> {
  const deadline = Date.now() + WAIT_MS
  let last: T | undefined
  while (Date.now() < deadline) {
    last = await call()
    if (ok(last)) return last
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`${what}: still ${JSON.stringify(last)} after ${WAIT_MS} ms`)
}

async function createTopic(c: RawClient, name: string, partitions: number) {
  const r = await c.call({ createTopics: { topics: [{ name, partitions, replicationFactor: 1 }], timeoutMs: 10_000 } })
  t.notOk(r.createTopics?.topics?.[0]?.error?.code, `created ${name}`)
}

/** A broker whose batch limit (8 KiB) group writes can outgrow, a client, topic `orders` (3 partitions), and `group`'s coordinator found. */
async function smallBatchBroker(t: Test, group: string) {
  const dataDir = tempDataDir(t)
  const args = ['--max-batch-bytes', '8192']
  const broker = await startBroker(t, { dataDir, args })
  const c = await connect(broker.url)
  await createTopic(c, 'orders', 3)
  const found = await until('FindCoordinator', () => c.call({ findCoordinator: { groupIds: [group] } }), (r) => !r.findCoordinator?.coordinators?.[0]?.error?.code)
  return { dataDir, args, broker, c, found }
}

t.test('join, commit, and a restarted coordinator rebuilds the group and its offsets', async (t) => {
  const { dataDir, args, broker, c: first, found } = await smallBatchBroker(t, 'g1')
  let c = first
  t.teardown(() => c.close())
  t.equal(found.findCoordinator!.coordinators![0].url, broker.url, 'the one broker coordinates')
  const memberId = randomUUID()
  const heartbeat = (memberEpoch: number, extra: object = {}) => c.call({ consumerGroupHeartbeat: { groupId: 'g1', memberId, memberEpoch, clientId: 'test', ...extra } })
  const joined = await until('join', () => heartbeat(0, { subscription: { topicNames: ['orders'] }, sessionTimeoutMs: 30_000 }), (r) => !r.consumerGroupHeartbeat?.error?.code)
  const hb = joined.consumerGroupHeartbeat!
  t.equal(hb.memberEpoch, 1)
  t.same(hb.assignment, [{ topic: 'orders', partitions: [0, 1, 2] }], 'the only member gets every partition')
  const commit = (memberEpoch: number) =>
    c.call({ offsetCommit: { groupId: 'g1', memberId, memberEpoch, topics: [{ name: 'orders', partitions: [{ index: 1, offset: 17, leaderEpoch: -1, metadata: 'm' }] }] } })
  t.equal((await commit(5)).offsetCommit?.error?.code, ErrorCode.FENCED_MEMBER_EPOCH, 'a commit ahead of the member epoch is fenced')
  t.notOk((await commit(1)).offsetCommit?.error?.code, 'a commit at the member epoch is taken')
  const long = 'x'.repeat(4_000)
  const big = await c.call({ offsetCommit: { groupId: 'g1', memberId, memberEpoch: 1, topics: [{ name: 'orders', partitions: [0, 1, 2].map((index) => ({ index, offset: 99, leaderEpoch: -1, metadata: long })) }] } })
  t.same(big.offsetCommit?.topics?.[0]?.partitions?.map((p) => p.error?.code), [0, 1, 2].map(() => ErrorCode.INVALID_COMMIT_OFFSET_SIZE), 'a commit larger than one batch is refused whole')
  t.match(big.offsetCommit?.error?.message, /nothing was written to __consumer_offsets: the request's 3 group records go in one write \(all or nothing\), and a \d+-byte batch is over the broker's --max-batch-bytes \(8192\).*raise --max-batch-bytes\. A commit is written whole: commit fewer partitions/)
  const bad = await c.call({ consumerGroupHeartbeat: { groupId: 'g1', memberId: randomUUID(), memberEpoch: 0, subscription: { topicRegex: '(orders' } } })
  t.equal(bad.consumerGroupHeartbeat?.error?.code, ErrorCode.INVALID_REGULAR_EXPRESSION)
  t.match(bad.consumerGroupHeartbeat?.error?.message, /not a valid RE2 pattern/)
  const tooLong = await c.call({ findCoordinator: { groupIds: ['x'.repeat(300)] } })
  t.equal(tooLong.findCoordinator?.coordinators?.[0]?.error?.code, ErrorCode.INVALID_GROUP_ID)

  c.close()
  await broker.stop('SIGKILL')
  const again = await startBroker(t, { dataDir, args })
  c = await connect(again.url)
  const fetched = await until('OffsetFetch after restart', () => c.call({ offsetFetch: { groupId: 'g1' } }), (r) => !r.offsetFetch?.error?.code)
  t.same(fetched.offsetFetch!.topics, [{ name: 'orders', partitions: [{ index: 1, offset: 17, leaderEpoch: -1, metadata: 'm' }] }], 'the committed offset survived, and nothing of the refused commit')
  const described = await c.call({ describeGroups: { groupIds: ['g1', 'nope'] } })
  const [g1, nope] = described.describeGroups!.groups!
  t.equal(g1.members?.[0]?.memberId, memberId, 'the member is still in the group')
  t.equal(nope.error?.code, ErrorCode.GROUP_ID_NOT_FOUND)
  const listed = await c.call({ listGroups: {} })
  t.same(listed.listGroups?.groups, [{ groupId: 'g1', state: 'stable', members: 1, assignor: 'uniform' }], 'ListGroups shows the group this broker coordinates, with its assignor')
  const back = await heartbeat(1, { owned: { topics: [{ topic: 'orders', partitions: [0, 1, 2] }] } })
  t.notOk(back.consumerGroupHeartbeat?.error?.code, 'the member heartbeats on at its epoch')
  t.equal((await c.call({ deleteGroups: { groupIds: ['g1'] } })).deleteGroups?.results?.[0]?.error?.code, ErrorCode.NON_EMPTY_GROUP)
  await heartbeat(-1)
  t.notOk((await c.call({ deleteGroups: { groupIds: ['g1'] } })).deleteGroups?.results?.[0]?.error?.code, 'an empty group is deleted')
  t.equal((await c.call({ describeGroups: { groupIds: ['g1'] } })).describeGroups?.groups?.[0]?.error?.code, ErrorCode.GROUP_ID_NOT_FOUND)
})

t.test('writes larger than one batch that need not be atomic: a wide group is deleted, a mass expiry removes every member', async (t) => {
  const { dataDir, args, broker, c: first } = await smallBatchBroker(t, 'wide')
  let c = first
  t.teardown(() => c.close())

  // 1000 offsets, committed 50 at a time (each commit fits); their tombstones take some 26 KB.
  const PARTITIONS = 1_000
  for (let from = 0; from < PARTITIONS; from += 50) {
    const partitions = Array.from({ length: 50 }, (_, i) => ({ index: from + i, offset: 7, leaderEpoch: -1, metadata: '' }))
    const r = await until('commit', () => c.call({ offsetCommit: { groupId: 'wide', memberId: '', memberEpoch: -1, topics: [{ name: 'orders', partitions }] } }), (r) => !RETRIABLE.includes(r.offsetCommit?.error?.code ?? 0))
    t.notOk(r.offsetCommit?.error?.code, `offsets ${from}..${from + 49} committed`)
  }
  const fetched = await c.call({ offsetFetch: { groupId: 'wide' } })
  t.equal(fetched.offsetFetch?.topics?.[0]?.partitions?.length, PARTITIONS)
  const deleted = await c.call({ deleteGroups: { groupIds: ['wide'] } })
  t.notOk(deleted.deleteGroups?.results?.[0]?.error?.code, `a group with ${PARTITIONS} offsets is deleted (more tombstones than one 8192-byte batch holds)`)
  t.equal((await c.call({ describeGroups: { groupIds: ['wide'] } })).describeGroups?.groups?.[0]?.error?.code, ErrorCode.GROUP_ID_NOT_FOUND)
  t.same((await c.call({ offsetFetch: { groupId: 'wide' } })).offsetFetch?.topics ?? [], [], 'no offset left')

  // 80 members that go silent. A restarted coordinator gives every loaded member a full session
  // from the same moment, so all 80 expire in one check: some 13 KB of removals.
  const MEMBERS = 80
  const joins = await Promise.all(
    Array.from({ length: MEMBERS }, () =>
      c.call({ consumerGroupHeartbeat: { groupId: 'crowd', memberId: randomUUID(), memberEpoch: 0, subscription: { topicNames: ['orders'] }, sessionTimeoutMs: 6_000, clientId: 'test' } }),
    ),
  )
  t.same(joins.filter((r) => r.consumerGroupHeartbeat?.error?.code), [], `${MEMBERS} members joined`)
  c.close()
  await broker.stop('SIGKILL')
  const again = await startBroker(t, { dataDir, args })
  c = await connect(again.url)
  const loaded = await until('DescribeGroups after restart', () => c.call({ describeGroups: { groupIds: ['crowd'] } }), (r) => !r.describeGroups?.groups?.[0]?.error?.code)
  t.equal(loaded.describeGroups!.groups![0].members?.length, MEMBERS, 'the restarted coordinator loaded every member')
  await until('the crowd expired', () => c.call({ describeGroups: { groupIds: ['crowd'] } }), (r) => !r.describeGroups?.groups?.[0]?.error?.code && (r.describeGroups?.groups?.[0]?.members ?? []).length === 0)
  const logs = again.stderr()
  t.equal(logs.match(/"msg":"group member removed"/g)?.length, MEMBERS, 'every member removed')
  t.notMatch(logs, /expiring group members failed|cannot be removed/, 'no expiry refused')
})
