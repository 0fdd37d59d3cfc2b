// The membership service over the real metadata quorum: the active controller is its
// ControllerLog (active-controller.ts), on in-process metadata nodes over real files
// (metadata-cluster.ts). Registrations and heartbeats share one ControllerState with topic
// decisions: answered once committed, NOT_CONTROLLER elsewhere; a heartbeat without records waits
// for what was appended before it; replicas are placed only on registered, unfenced brokers;
// leases run out into fencing, and a new controller gives fresh ones.
import t, { type Test } from 'tap'
import { MembershipService, type MembershipResult } from '../../../src/broker/controller/active/membership-service.js'
import { ErrorCode, errorName } from '../../../src/protocol/index.js'
import { CONTROLLER_CONFIG, MetadataCluster, type Member } from './metadata-cluster.js'
import { quietLog, waitFor } from './wait.js'

const hex = (n: number) => n.toString(16).padStart(32, '0')
const registration = (brokerId: number) => ({ brokerId, incarnationId: hex(100 + brokerId), url: `ws://127.0.0.1:${9000 + brokerId}/`, rack: '', directoryId: hex(200 + brokerId) })
const beat = (brokerId: number, member: Member) => ({ brokerId, incarnationId: hex(100 + brokerId), metadataOffset: member.node.imageOffset })
const outcome = (r: MembershipResult) => (r.ok ? (r.answer.fenced ? 'fenced' : 'unfenced') : `${errorName(r.error.code)}: ${r.error.message}`)
const create = (name: string, partitions: number) => ({ topics: [{ name, partitions, replicationFactor: 0, configs: {} }], validateOnly: false })

/** A started cluster of voters 1..3 with a membership service on every node, and its active controller. */
async function cluster(t: Test, leaseMs = CONTROLLER_CONFIG.leaseMs): Promise<{ c: MetadataCluster; services: Map<number, MembershipService>; leader: Member }> {
  const c = new MetadataCluster(t, [1, 2, 3])
  c.controllerConfig = { ...CONTROLLER_CONFIG, leaseMs }
  const services = new Map<number, MembershipService>()
  for (const id of [1, 2, 3]) {
    const m = await c.start(id)
    const s = new MembershipService({ controller: m.controller, log: quietLog })
    t.teardown(() => s.close())
    services.set(id, s)
  }
  await waitFor(() => (c.leader()?.controller.active() ?? null) !== null, 'an active controller')
  return { c, services, leader: c.leader()! }
}

t.test('the active controller answers a registration once committed (fenced), a heartbeat past it unfences; the other nodes answer NOT_CONTROLLER', async (t) => {
  const { c, services, leader } = await cluster(t)
  const follower = [...c.members.values()].find((m) => m !== leader)!
  await waitFor(() => follower.node.controllerId === leader.node.nodeId, 'the follower to know the controller')
  t.match(outcome(await services.get(follower.node.nodeId)!.register(registration(7))), /^NOT_CONTROLLER: node \d is not the active controller; the active controller is node \d at ws:/)

  const service = services.get(leader.node.nodeId)!
  t.equal(outcome(await service.register(registration(7))), 'fenced')
  t.match(leader.node.image.broker(7), { url: 'ws://127.0.0.1:9007/', fenced: true }, 'committed and in the image when answered')
  t.equal(outcome(await service.heartbeat(beat(7, leader))), 'unfenced')
  t.equal(leader.node.image.broker(7)?.fenced, false, 'the unfencing committed when answered')
  for (const m of c.members.values()) await waitFor(() => m.node.image.broker(7)?.fenced === false, `node ${m.node.nodeId} to see broker 7 unfenced`)
})

t.test('a heartbeat that causes no record is answered only once what was appended before it commits', async (t) => {
  const { c, services, leader } = await cluster(t)
  const service = services.get(leader.node.nodeId)!
  await service.register(registration(1))
  t.equal(outcome(await service.heartbeat(beat(1, leader))), 'unfenced')
  for (const id of c.members.keys()) if (id !== leader.node.nodeId) c.cut.add(id)
  // A create appended, never committed: the heartbeat after it must not be answered as if all were well.
  const pending = leader.admin.createTopics(create('uncommitted', 1), 1_000).catch(() => null)
  await waitFor(() => (leader.controller.active()?.pending.length ?? 0) > 0, 'the create appended')
  t.match(outcome(await service.heartbeat(beat(1, leader))), /^(REQUEST_TIMED_OUT|NOT_CONTROLLER): /)
  await pending
})

t.test('replicas are placed on registered, unfenced brokers only', async (t) => {
  const { leader, services } = await cluster(t)
  const [none] = await leader.admin.createTopics(create('nowhere', 1), 5_000)
  t.match(none.error, { code: ErrorCode.INVALID_REPLICATION_FACTOR, message: /needs 1 live \(unfenced\) brokers; none is/ }, 'no broker registered: nowhere to place')
  const service = services.get(leader.node.nodeId)!
  for (const id of [1, 2, 3]) t.equal(outcome(await service.register(registration(id))), 'fenced')
  for (const id of [1, 2]) t.equal(outcome(await service.heartbeat(beat(id, leader))), 'unfenced')
  const [created] = await leader.admin.createTopics(create('spread', 6), 5_000)
  t.equal(created.error, null)
  const replicas = leader.node.image.topic('spread')!.partitionStates.map((p) => p.replicas[0])
  t.same([...new Set(replicas)].sort(), [1, 2], `on brokers 1 and 2, never on fenced broker 3 (${replicas.join(', ')})`)
})

t.test('a broker that stops heartbeating is fenced when its lease runs out; a new controller starts with fresh leases', async (t) => {
  const leaseMs = 3_000
  const { c, services, leader } = await cluster(t, leaseMs)
  const service = services.get(leader.node.nodeId)!
  for (const id of [4, 5]) {
    await service.register(registration(id))
    t.equal(outcome(await service.heartbeat(beat(id, leader))), 'unfenced')
  }
  const since = Date.now()
  const keepAlive = setInterval(() => void service.heartbeat(beat(5, leader)), 500)
  t.teardown(() => clearInterval(keepAlive))
  await waitFor(() => leader.node.image.broker(4)?.fenced === true, 'broker 4 fenced', leaseMs + 5_000)
  t.ok(Date.now() - since >= leaseMs - 100, `not before its lease ran out (${Date.now() - since} ms)`)
  t.equal(leader.node.image.broker(5)?.fenced, false, 'broker 5, heartbeating, is not')
  clearInterval(keepAlive)

  await c.stop(leader.node.nodeId)
  await waitFor(() => (c.leader()?.controller.active() ?? null) !== null, 'a new active controller', 20_000)
  const next = c.leader()!
  const electedAt = Date.now()
  t.ok(next.controller.active()!.lease(5)!.expiresAtMs >= electedAt + leaseMs - 1_000, 'broker 5 has a fresh lease from the new controller')
  await waitFor(() => next.node.image.broker(5)?.fenced === true, 'broker 5 fenced by the new controller, silent since', leaseMs + 5_000)
  t.ok(Date.now() - electedAt >= leaseMs - 1_000, `a lease after the election, not at once (${Date.now() - electedAt} ms)`)
})
