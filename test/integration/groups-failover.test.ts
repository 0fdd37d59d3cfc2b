// Consumer groups on a three-broker cluster: __consumer_offsets waits for all three brokers
// (COORDINATOR_NOT_AVAILABLE meanwhile, so a cluster still starting never fixes it at a lower
// replication factor), is created at replication factor 3, and when the group's coordinator is
// SIGKILLed another broker takes over with the group and its committed offsets intact.
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { ErrorCode } from '../../src/protocol/index.js'
import { ProcessCluster, until } from './quorum-nodes.js'

t.test('the coordinator SIGKILLed: the group goes on, committed offsets intact', async (t) => {
  const c = await ProcessCluster.create(t, [1, 2, 3])
  await Promise.all([c.start(1), c.start(2)])
  await c.ready([1, 2])
  const early = await c.call(1, { findCoordinator: { groupIds: ['g'] } })
  t.equal(early.findCoordinator?.coordinators?.[0]?.error?.code, ErrorCode.COORDINATOR_NOT_AVAILABLE, 'two of three brokers up: no coordinator yet')
  t.match(early.findCoordinator?.coordinators?.[0]?.error?.message, /replication factor 3 once 3 brokers are up \(2 now\)/)
  t.notOk((await c.metadata(1)).topics?.some((x) => x.name === '__consumer_offsets'), 'and no __consumer_offsets at a lower replication factor')
  await c.start(3)
  await c.ready()
  const created = await c.call(1, { createTopics: { topics: [{ name: 'orders', partitions: 3, replicationFactor: 3 }], timeoutMs: 10_000 } })
  t.notOk(created.createTopics?.topics?.[0]?.error?.code)

  const coordinator = await until('a coordinator for g', async () => {
    const r = (await c.call(2, { findCoordinator: { groupIds: ['g'] } })).findCoordinator?.coordinators?.[0]
    return r && !r.error?.code ? r.nodeId! : null
  })
  const offsetsTopic = (await c.metadata(1, ['__consumer_offsets'])).topics![0]
  t.ok(offsetsTopic.partitions!.every((p) => p.replicas!.length === 3), '__consumer_offsets has replication factor 3')

  const memberId = randomUUID()
  const heartbeat = (node: number, memberEpoch: number, extra: object = {}) =>
    c.call(node, { consumerGroupHeartbeat: { groupId: 'g', memberId, memberEpoch, clientId: 'failover', ...extra } })
  const joined = await until('the member to join', async () => {
    const r = (await heartbeat(coordinator, 0, { subscription: { topicNames: ['orders'] }, sessionTimeoutMs: 60_000 })).consumerGroupHeartbeat
    return r && !r.error?.code ? r : null
  })
  t.same(joined.assignment, [{ topic: 'orders', partitions: [0, 1, 2] }])
  const commit = await c.call(coordinator, {
    offsetCommit: { groupId: 'g', memberId, memberEpoch: joined.memberEpoch, topics: [{ name: 'orders', partitions: [{ index: 0, offset: 5, leaderEpoch: 1, metadata: 'at 5' }, { index: 2, offset: 9, leaderEpoch: -1, metadata: '' }] }] },
  })
  t.notOk(commit.offsetCommit?.error?.code, 'committed on the coordinator')

  await c.stop(coordinator, 'SIGKILL')
  const survivors = c.ids.filter((id) => id !== coordinator)
  const next = await until('another broker to coordinate g', async () => {
    const r = (await c.call(survivors[0], { findCoordinator: { groupIds: ['g'] } })).findCoordinator?.coordinators?.[0]
    return r && !r.error?.code && r.nodeId !== coordinator ? r.nodeId! : null
  })
  t.ok(survivors.includes(next))
  const fetched = await until('the committed offsets on the new coordinator', async () => {
    const r = (await c.call(next, { offsetFetch: { groupId: 'g' } })).offsetFetch
    return r && !r.error?.code ? r : null
  })
  t.same(fetched.topics, [{ name: 'orders', partitions: [{ index: 0, offset: 5, leaderEpoch: 1, metadata: 'at 5' }, { index: 2, offset: 9, leaderEpoch: -1, metadata: '' }] }], 'committed offsets intact')
  const goesOn = (await heartbeat(next, joined.memberEpoch!, { owned: { topics: [{ topic: 'orders', partitions: [0, 1, 2] }] } })).consumerGroupHeartbeat
  t.notOk(goesOn?.error?.code, 'the member heartbeats on at its epoch: the group went on')
  t.same(goesOn?.assignment, [{ topic: 'orders', partitions: [0, 1, 2] }], 'with its partitions')
})
