// Topic administration through the metadata log, on real replicas and real files: the active
// controller answers only once the records are committed (and this node's partitions reconciled
// with them), every node then has the topic; a node that is not the controller refuses with
// NOT_CONTROLLER naming it; a topic re-created under its name never meets its old data; a
// partition that fails to open is reported, not hidden.
import t from 'tap'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { ControllerRequestError } from '../../../src/broker/controller/active/topic-admin.js'
import { ErrorCode } from '../../../src/protocol/index.js'
import { NodeFileLayer } from '../../../src/storage/index.js'
import { codec, MetadataCluster } from './metadata-cluster.js'
import { waitFor } from './wait.js'

const create = (name: string, partitions = 1, replicationFactor = 0) => ({ topics: [{ name, partitions, replicationFactor, configs: {} }], validateOnly: false })
const partitionDirs = (dir: string, topicId: string) => readdirSync(dir).filter((d) => d.startsWith(`${topicId}-`)).sort()

/** The real file layer, failing mkdir of directories a test names. */
class FailingFileLayer extends NodeFileLayer {
  failMkdir: (dir: string) => boolean = () => false
  override async mkdirp(dir: string): Promise<void> {
    if (this.failMkdir(dir)) throw Object.assign(new Error(`ENOSPC: no space left on device, mkdir '${dir}'`), { code: 'ENOSPC' })
    return super.mkdirp(dir)
  }
}

t.test('a lone node: created when committed with its partitions open; deleted with its data gone; re-created afresh', async (t) => {
  const c = new MetadataCluster(t, undefined)
  const { node, admin, replicas } = await c.start(0)
  await node.caughtUp()
  await c.registerBrokers()
  const [created] = await admin.createTopics(create('orders', 3), 5_000)
  t.equal(created.error, null)
  const id = created.topicId!
  t.equal(node.image.topic('orders')?.id, id, 'in the committed image when answered')
  t.same(partitionDirs(c.dirs.get(0)!, id), [`${id}-0`, `${id}-1`, `${id}-2`], 'and its partitions are on disk')
  const p0 = replicas.partition('orders', 0)!
  t.ok(await p0.waitLeaderKnown(5_000))
  await p0.appendValidated(codec.encodeBatch([{ value: new TextEncoder().encode('old') }]))

  const [again] = await admin.createTopics(create('orders'), 5_000)
  t.match(again.error, { code: ErrorCode.TOPIC_ALREADY_EXISTS, message: /topic "orders" already exists/ })
  const [replicated] = await admin.createTopics(create('copies', 1, 3), 5_000)
  t.match(replicated.error, { code: ErrorCode.INVALID_REPLICATION_FACTOR, message: /replication factor 3 needs 3 live \(unfenced\) brokers/ }, 'one node holds one replica of a partition')

  const [deleted] = await admin.deleteTopics(['orders'], 5_000)
  t.same(deleted, { name: 'orders', topicId: id, error: null })
  t.same(partitionDirs(c.dirs.get(0)!, id), [], 'its partitions are gone when the delete is answered')
  t.equal(replicas.partition('orders', 0), undefined)

  const [recreated] = await admin.createTopics(create('orders'), 5_000)
  t.not(recreated.topicId, id, 'a re-created topic has a new id')
  const fresh = replicas.partition('orders', 0)!
  t.ok(await fresh.waitLeaderKnown(5_000))
  t.equal(fresh.log.logEndOffset, 1, 'and none of the old data (only its leader-change batch)')
})

t.test('two creates of one name at once: one topic, the other refused; configs are altered through the log', async (t) => {
  const c = new MetadataCluster(t, undefined)
  const { node, admin } = await c.start(0)
  await node.caughtUp()
  await c.registerBrokers()
  const both = await Promise.all([admin.createTopics(create('twin'), 5_000), admin.createTopics(create('twin'), 5_000)])
  const errors = both.map(([o]) => o.error?.code ?? null).sort()
  t.same(errors, [null, ErrorCode.TOPIC_ALREADY_EXISTS].sort(), 'the second is checked against the first, uncommitted')
  const [altered] = await admin.alterConfigs({ changes: [{ topic: 'twin', set: { 'retention.ms': '1000' }, reset: [] }], validateOnly: false }, 5_000)
  t.equal(altered.error, null)
  t.same(node.image.topic('twin')?.configs, { 'retention.ms': '1000' }, 'committed when answered')
  const [bad] = await admin.alterConfigs({ changes: [{ topic: 'twin', set: { 'retention.ms': 'soon' }, reset: [] }], validateOnly: false }, 5_000)
  t.equal(bad.error?.code, ErrorCode.INVALID_CONFIG)
})

t.test('a partition that fails to open: the topic is committed, the answer says which partitions are not usable here, the next change retries', async (t) => {
  const fs = new FailingFileLayer()
  const c = new MetadataCluster(t, undefined, fs)
  const { node, admin, replicas } = await c.start(0)
  await node.caughtUp()
  await c.registerBrokers()
  fs.failMkdir = (dir) => dir.endsWith('-2')
  const [created] = await admin.createTopics(create('flaky', 4), 5_000)
  t.match(created.error, { code: ErrorCode.KAFKA_STORAGE_ERROR, message: /topic "flaky" was created, but its partitions 2 could not be opened on broker 0/ })
  t.ok(node.image.topic('flaky'), 'the topic exists')
  t.equal(replicas.partition('flaky', 2), undefined)
  fs.failMkdir = () => false
  await admin.createTopics(create('other'), 5_000)
  await replicas.reconciled()
  t.ok(replicas.partition('flaky', 2), 'opened with the next image')
})

t.test('three voters: only the controller takes changes, answered when committed; every node then has them; a new controller after the old one stops', async (t) => {
  const c = new MetadataCluster(t, [1, 2, 3])
  for (const id of [1, 2, 3]) await c.start(id)
  await waitFor(() => (c.leader()?.controller.active() ?? null) !== null, 'an active controller')
  await c.registerBrokers()
  const leader = c.leader()!
  const follower = [...c.members.values()].find((m) => m !== leader)!
  await waitFor(() => follower.node.controllerId === leader.node.nodeId, 'the follower to know the controller')
  await t.rejects(follower.admin.createTopics(create('events'), 2_000), {
    name: 'ControllerRequestError', code: ErrorCode.NOT_CONTROLLER,
    message: new RegExp(`node ${follower.node.nodeId} is not the active controller; the active controller is node ${leader.node.nodeId} at ws://127.0.0.1:${9000 + leader.node.nodeId}/; retry there`),
  })

  const [created] = await leader.admin.createTopics(create('events', 3), 5_000)
  t.equal(created.error, null)
  for (const m of c.members.values()) {
    await waitFor(() => m.node.image.topic('events') !== undefined, `node ${m.node.nodeId} to have the topic`)
  }
  const placed = leader.node.image.topic('events')!.partitionStates.map((p) => p.replicas)
  t.same(placed.flat().sort(), [1, 2, 3], 'one replica each, placed over the registered brokers')
  for (const m of c.members.values()) {
    const held = [0, 1, 2].filter((p) => m.replicas.partition('events', p) !== undefined)
    await waitFor(() => [0, 1, 2].filter((p) => m.replicas.partition('events', p) !== undefined).length === 1, `node ${m.node.nodeId} to hold one partition`)
    t.ok(held.length <= 1, `node ${m.node.nodeId} holds only what is assigned to it`)
  }

  await c.stop(leader.node.nodeId)
  await waitFor(() => (c.leader()?.controller.active() ?? null) !== null, 'a new active controller', 20_000)
  const next = c.leader()!
  t.not(next.node.nodeId, leader.node.nodeId)
  const [after] = await next.admin.createTopics(create('after-failover'), 5_000)
  t.equal(after.error, null, 'the new controller takes changes')
  t.ok(next.node.image.topic('events'), 'and has what the old one committed')
})

t.test('no quorum: a change is never answered as done; once the quorum is back a retry finds one topic', async (t) => {
  const c = new MetadataCluster(t, [1, 2, 3])
  for (const id of [1, 2, 3]) await c.start(id)
  await waitFor(() => (c.leader()?.controller.active() ?? null) !== null, 'an active controller')
  await c.registerBrokers()
  const leader = c.leader()!
  const others = [...c.members.keys()].filter((id) => id !== leader.node.nodeId)
  for (const id of others) c.cut.add(id)
  const err = await leader.admin.createTopics(create('maybe'), 300).then(() => null, (e: unknown) => e)
  t.type(err, ControllerRequestError)
  t.ok([ErrorCode.REQUEST_TIMED_OUT, ErrorCode.NOT_CONTROLLER].includes((err as ControllerRequestError).code), `refused as retriable: ${(err as Error).message}`)
  t.equal(leader.node.image.topic('maybe'), undefined, 'not in the committed image')

  c.cut.clear()
  let outcome = null
  for (const deadline = Date.now() + 20_000; outcome === null && Date.now() < deadline; ) {
    const m = c.leader()
    if (m === undefined || m.controller.active() === null) {
      await new Promise((resolve) => setTimeout(resolve, 20))
      continue
    }
    outcome = (await m.admin.createTopics(create('maybe'), 2_000).catch(() => [null]))[0]
  }
  t.ok(outcome !== null && (outcome.error === null || outcome.error.code === ErrorCode.TOPIC_ALREADY_EXISTS), 'success, or it had committed after all')
  for (const m of c.members.values()) await waitFor(() => m.node.image.topic('maybe') !== undefined, `node ${m.node.nodeId} to have the topic`)
  const ids = new Set([...c.members.values()].map((m) => m.node.image.topic('maybe')?.id))
  t.equal(ids.size, 1, 'one topic id')
})

t.test('a stray partition directory (its topic deleted while the node was away) is removed once the node has caught up', async (t) => {
  const c = new MetadataCluster(t, undefined)
  const { node, replicas } = await c.start(0)
  await node.caughtUp()
  const stray = join(c.dirs.get(0)!, `${'ab'.repeat(16)}-0`)
  await new NodeFileLayer().mkdirp(stray)
  await replicas.removeStrays()
  t.notOk(existsSync(stray))
  t.ok(existsSync(join(c.dirs.get(0)!, '__cluster_metadata-0')), 'the metadata log stays')
})
