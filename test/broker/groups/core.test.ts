// The group core's behaviours one at a time: incremental handover, fencing, session and
// rebalance timeouts, static membership, the assignors, subscriptions, offsets.
import t from 'tap'
import { GroupModel, names, pattern } from './model.js'
import { rangeAssignor, uniformAssignor } from '../../../src/broker/groups/core/assignors.js'
import { commitOffsets, deleteGroup, fetchOffsets } from '../../../src/broker/groups/core/offsets.js'
import { heartbeat } from '../../../src/broker/groups/core/heartbeat.js'
import { replayAll } from '../../../src/broker/groups/core/records.js'
import { groupPhase } from '../../../src/broker/groups/core/state.js'
import { compilePattern, resolveSubscription } from '../../../src/broker/groups/core/subscription.js'
import { describe, size, topicPartitions } from '../../../src/broker/groups/core/topic-partitions.js'

const TOPICS = new Map([['orders', 6]])

t.test('a second member gets half the partitions only after the first released them', async (t) => {
  const m = new GroupModel(TOPICS)
  const a = m.client(names('orders'))
  m.beat(a)
  m.settle()
  t.equal(describe(a.owned), 'orders-0,orders-1,orders-2,orders-3,orders-4,orders-5')
  const b = m.client(names('orders'))
  const joined = m.beat(b)
  t.equal(size(joined.assignment!), 0, 'b waits: a still owns its share')
  const revoke = m.beat(a, { apply: false })
  t.equal(size(revoke.assignment!), 3, 'a is told to keep 3')
  t.equal(m.group.current.get(a.memberId)!.state, 'unrevoked')
  t.equal(size(m.beat(b).assignment!), 0, 'b still waits: a has not said it stopped')
  m.beat(a) // a applies: it reports owning 3
  const got = m.beat(b)
  t.equal(size(got.assignment!), 3, 'b gets the 3 a released')
  m.settle()
  t.equal(groupPhase(m.group), 'stable')
  t.equal(a.epoch, b.epoch)
})

t.test('a zombie is fenced: its heartbeat and its commit are refused', async (t) => {
  const m = new GroupModel(TOPICS)
  const a = m.client(names('orders'))
  m.beat(a)
  m.settle()
  const epoch = a.epoch
  const ahead = heartbeat(m.group, { groupId: 'g', memberId: a.memberId, memberEpoch: epoch + 5, instanceId: null, rackId: null, subscription: null, serverAssignor: null, sessionTimeoutMs: null, rebalanceTimeoutMs: null, owned: a.owned, clientId: 'c', clientHost: 'h' }, { nowMs: 0, topics: TOPICS })
  t.equal(ahead.response.error?.code, 'FENCED_MEMBER_EPOCH')
  t.same(ahead.records, [], 'a refused heartbeat writes nothing')
  const commit = (memberEpoch: number) => commitOffsets(m.group, { groupId: 'g', memberId: a.memberId, memberEpoch, offsets: [{ topic: 'orders', partition: 0, offset: 5, leaderEpoch: -1, metadata: '' }] }, 1)
  t.equal(commit(epoch + 1).response.error?.code, 'FENCED_MEMBER_EPOCH')
  t.equal(commit(epoch - 1).response.error?.code, 'STALE_MEMBER_EPOCH')
  t.equal(commit(epoch).response.error, null)
  const rejoined = heartbeat(m.group, { groupId: 'g', memberId: a.memberId, memberEpoch: 0, instanceId: null, rackId: null, subscription: names('orders'), serverAssignor: null, sessionTimeoutMs: null, rebalanceTimeoutMs: null, owned: new Map(), clientId: 'c', clientHost: 'h' }, { nowMs: 0, topics: TOPICS })
  t.equal(rejoined.response.error, null, 'a fenced member joins again under its id at once (epoch 0: it released everything)')
  t.ok(rejoined.response.memberEpoch > epoch, 'at a new epoch')
  m.advance(11_000) // past the 10 s session
  t.equal(m.group.members.size, 0, 'the session timed out')
  t.equal(commit(epoch).response.error?.code, 'UNKNOWN_MEMBER_ID')
  t.equal(m.beat(a).error?.code, 'UNKNOWN_MEMBER_ID', 'its next heartbeat learns it was removed')
  t.equal(size(a.owned), 0, 'and it drops its partitions')
})

t.test('a member that does not acknowledge a revocation within the rebalance timeout loses the group', async (t) => {
  const m = new GroupModel(TOPICS)
  const a = m.client(names('orders'))
  m.beat(a)
  m.settle()
  const b = m.client(names('orders'))
  m.beat(b)
  m.beat(a, { apply: false }) // told to revoke; never applies
  m.advance(4_000)
  m.beat(a, { apply: false })
  m.beat(b)
  t.equal(m.group.members.size, 2)
  const e = m.advance(2_000) // 6 s > the model's 5 s rebalance timeout
  t.same(e.removed, [{ memberId: a.memberId, reason: 'revocation' }])
  t.equal(m.beat(a).error?.code, 'UNKNOWN_MEMBER_ID', 'a learns it is out')
  m.clients.delete(a.memberId) // and stays out
  m.settle()
  t.equal(size(b.owned), 6, 'b owns all once a is gone')
})

t.test('a static member that leaves for now and comes back gets its partitions without a new group epoch', async (t) => {
  const m = new GroupModel(TOPICS)
  const a = m.client(names('orders'), 'host-a')
  const b = m.client(names('orders'))
  m.beat(a)
  m.beat(b)
  m.settle()
  const before = describe(a.owned)
  const groupEpoch = m.group.groupEpoch
  m.leave(a, -2)
  t.equal(m.group.members.size, 2, 'the static member keeps its place')
  m.settle()
  t.equal(size(b.owned), 3, 'nobody takes its partitions')
  const a2 = m.client(names('orders'), 'host-a')
  const back = m.beat(a2)
  t.equal(back.error, null)
  t.equal(describe(back.assignment!), before, 'the restarted member gets the same partitions at once')
  t.equal(m.group.groupEpoch, groupEpoch, 'no rebalance')
  t.notOk(m.group.members.has(a.memberId))
  const dup = m.client(names('orders'), 'host-a')
  t.equal(m.beat(dup).error?.code, 'UNRELEASED_INSTANCE_ID', 'a second live process under the same instance id is refused')
})

t.test('the assignors', async (t) => {
  const members = new Map([
    ['a', new Set(['x', 'y'])],
    ['b', new Set(['x', 'y'])],
    ['c', new Set(['y'])],
  ])
  const topics = new Map([
    ['x', 5],
    ['y', 3],
  ])
  const range = rangeAssignor({ members, topics, previous: new Map() })
  t.same(
    [...range].map(([id, tps]) => `${id}:${describe(tps)}`),
    ['a:x-0,x-1,x-2,y-0', 'b:x-3,x-4,y-1', 'c:y-2'],
  )
  const uniform = uniformAssignor({ members, topics, previous: new Map() })
  const loads = [...uniform.values()].map(size)
  t.ok(Math.max(...loads) - Math.min(...loads) <= 1, `uniform balances: ${loads}`)
  t.equal(loads.reduce((a, b) => a + b), 8)
  // Sticky: adding a member moves only what the balance needs.
  const homogeneous = new Map([['a', new Set(['x'])], ['b', new Set(['x'])]])
  const first = uniformAssignor({ members: homogeneous, topics: new Map([['x', 6]]), previous: new Map() })
  const second = uniformAssignor({ members: new Map([...homogeneous, ['c', new Set(['x'])]]), topics: new Map([['x', 6]]), previous: first })
  const kept = ['a', 'b'].map((id) => second.get(id)!.get('x')!.filter((p) => first.get(id)!.get('x')!.includes(p)).length)
  t.same(kept, [2, 2], 'each old member keeps 2 of its 3')
  t.equal(size(second.get('c')!), 2)
})

t.test('subscriptions: names, RE2 patterns over whole names, hostile and invalid patterns', async (t) => {
  const topics = ['orders', 'orders-eu', 'payments', '__consumer_offsets']
  t.same([...resolveSubscription([], 'orders.*', topics)], ['orders', 'orders-eu'])
  t.same([...resolveSubscription([], 'rders', topics)], [], 'a pattern matches whole names')
  t.same([...resolveSubscription([], '.*', topics)], ['orders', 'orders-eu', 'payments'], 'internal topics are never matched')
  t.same([...resolveSubscription(['payments', 'nope'], null, topics)], ['payments'])
  t.match(compilePattern('(orders'), /not a valid RE2 pattern/)
  const hostile = compilePattern('(a+)+$')
  t.type(hostile, 'object')
  const started = performance.now()
  t.notOk((hostile as Exclude<typeof hostile, string>).matches('a'.repeat(30_000) + 'b'))
  t.ok(performance.now() - started < 1_000, 'a pattern that makes a backtracking engine hang matches in linear time')
  const m = new GroupModel(TOPICS)
  const r = m.beat(m.client(pattern('(orders')))
  t.equal(r.error?.code, 'INVALID_REGULAR_EXPRESSION')
  t.equal(m.group.members.size, 0, 'nothing half-applied')
})

t.test('offsets: commit outside the membership only while empty; fetch; delete; bad input', async (t) => {
  const m = new GroupModel(TOPICS)
  const offsets = [{ topic: 'orders', partition: 1, offset: 42, leaderEpoch: 3, metadata: 'm' }]
  const admin = commitOffsets(m.group, { groupId: 'g', memberId: '', memberEpoch: -1, offsets }, 7)
  t.equal(admin.response.error, null)
  const g = admin.group
  t.same(fetchOffsets(g, null), [{ topic: 'orders', partition: 1, offset: 42, leaderEpoch: 3, metadata: 'm' }])
  t.same(fetchOffsets(g, [{ topic: 'orders', partitions: [1, 2] }]).map((o) => o.offset), [42, -1], 'nothing committed: -1')
  const bad = commitOffsets(g, { groupId: 'g', memberId: '', memberEpoch: -1, offsets: [{ topic: 'orders', partition: 0, offset: -5, leaderEpoch: -1, metadata: '' }, { topic: 'orders', partition: 2, offset: 1, leaderEpoch: -1, metadata: 'x'.repeat(5000) }] }, 8)
  t.same(bad.response.partitions.map((p) => p.error?.code), ['INVALID_REQUEST', 'OFFSET_METADATA_TOO_LARGE'])
  t.same(bad.records, [])
  t.equal(commitOffsets(g, { groupId: 'x'.repeat(256), memberId: '', memberEpoch: -1, offsets }, 8).response.error?.code, 'INVALID_GROUP_ID')
  m.group = g
  const a = m.client(names('orders'))
  m.beat(a)
  t.equal(commitOffsets(m.group, { groupId: 'g', memberId: '', memberEpoch: -1, offsets }, 9).response.error?.code, 'UNKNOWN_MEMBER_ID', 'not while the group has members')
  t.equal(deleteGroup(m.group).error?.code, 'NON_EMPTY_GROUP')
  m.leave(a)
  const del = deleteGroup(m.group)
  t.equal(del.error, null)
  const gone = replayAll(m.group, del.records)
  t.equal(gone.offsets.size + gone.members.size, 0)
  t.equal(topicPartitions([['a', [2, 1, 2]]]).get('a')!.join(), '1,2')
})
