// The metadata log on real replicas and real files: in-process nodes whose Raft messages go to
// each other a turn later (as the peer transport delivers them). A lone node leads at once;
// three voters elect one leader and every node — an observer too — replays the same committed
// records into the same image; a restart rebuilds the image from the snapshot and the tail; a
// voter list other than the one the log started with is refused before anything opens.
import t from 'tap'
import { join } from 'node:path'
import { METADATA_DIR_NAME } from '../../../src/broker/controller/decisions/limits.js'
import { MetadataNode } from '../../../src/broker/controller/node/metadata-node.js'
import { encodeRecord, encodeSnapshot } from '../../../src/metadata/record-codec.js'
import type { MetadataRecord } from '../../../src/metadata/image.js'
import { NodeFileLayer } from '../../../src/storage/index.js'
import { codec, MetadataCluster } from './metadata-cluster.js'
import { waitFor } from './wait.js'

const fs = new NodeFileLayer()
const topicId = (n: number) => n.toString(16).padStart(32, '0')

function topicRecords(name: string, n: number, partitions: number, nodeId = 1): MetadataRecord[] {
  return [
    { type: 'topic', name, topicId: topicId(n) },
    ...Array.from({ length: partitions }, (_, index): MetadataRecord => ({ type: 'partition', topicId: topicId(n), index, replicas: [nodeId] })),
  ]
}

/** Appends `records` as one batch on the leader and waits until they commit. */
async function append(node: MetadataNode, records: MetadataRecord[]): Promise<number> {
  const info = await node.replica.appendValidated(codec.encodeBatch(records.map((r) => ({ value: encodeRecord(r) }))))
  await node.replica.committed(info.nextOffset, 10_000)
  return info.nextOffset
}

t.test('a lone node leads at once, publishes each committed image, and rebuilds it from snapshot + tail on restart', async (t) => {
  const c = new MetadataCluster(t, undefined)
  const { node, updates } = await c.start(1, { snapshotEveryRecords: 3 })
  t.ok(node.standalone, 'no voter list: standalone')
  await waitFor(() => node.replica.leaderReady, 'the lone voter to lead')
  await node.caughtUp()
  t.equal(node.controllerId, 1)
  for (let i = 1; i <= 5; i++) await append(node, topicRecords(`t${i}`, i, 2))
  await waitFor(() => node.image.topicCount === 5, 'five topics in the image')
  t.same(updates[0].changes, null, 'a subscriber gets the current image first, to diff whole')
  const created = updates.filter((u) => u.changes !== null).map((u) => [...u.changes!.changedTopicIds])
  t.same(created, [1, 2, 3, 4, 5].map((n) => [topicId(n)]), 'then each batch, with what it changed')
  const before = encodeSnapshot(node.image)
  await c.stop(1)
  t.ok(fs.list(join(c.dirs.get(1)!, METADATA_DIR_NAME)).some((f) => f.endsWith('.snapshot')), 'a snapshot was taken')

  const { node: again } = await c.start(1, { snapshotEveryRecords: 3 })
  await again.caughtUp()
  t.same(encodeSnapshot(again.image), before, 'the image rebuilt from the snapshot and the tail equals the one before')
  t.ok(again.imageOffset > 0)
})

t.test('three voters elect one leader; every node, an observer too, replays the same image', async (t) => {
  const c = new MetadataCluster(t, [1, 2, 3])
  for (const id of [1, 2, 3, 4]) await c.start(id)
  const nodes = () => [...c.members.values()].map((m) => m.node)
  t.notOk(c.get(1).node.standalone)
  await waitFor(() => c.leader() !== undefined, 'a leader')
  const leader = c.leader()!.node
  await waitFor(() => nodes().every((n) => n.controllerId === leader.nodeId), 'every node to know the leader')
  t.equal(c.get(4).node.replica.status().voter, false, 'node 4, not in the list, is an observer')
  const end = await append(leader, topicRecords('shared', 7, 3, leader.nodeId))
  for (const n of nodes()) t.ok(await n.waitForImage(end, 10_000), `node ${n.nodeId} replayed the batch`)
  const images = nodes().map((n) => encodeSnapshot(n.image))
  for (const img of images.slice(1)) t.same(img, images[0], 'the same image everywhere')
  t.equal(c.get(4).node.image.topic('shared')?.partitions, 3)
  t.equal(await c.get(2).node.waitForImage(end + 100, 50), false, 'waiting for an offset never reached times out')
})

t.test('a voter list other than the one the log started with is refused before anything opens', async (t) => {
  const c = new MetadataCluster(t, undefined)
  await c.start(1)
  await c.stop(1)
  const otherList = c.options(1, { voters: [1, 2, 3].map((id) => ({ id, url: `ws://127.0.0.1:${9000 + id}/` })) })
  await t.rejects(MetadataNode.open(otherList), {
    name: 'StartupError',
    message: /this start gives --controller-voters naming nodes 1, 2, 3, but the metadata log in .* was started without --controller-voters \(node 1 alone\); start the node with its original list/,
  })
  const sameIds = c.options(1, { voters: [{ id: 1, url: 'ws://127.0.0.1:9999/' }] })
  const node = await MetadataNode.open(sameIds)
  t.pass('the same ids (another URL) are accepted')
  await node.close()

  const k = new MetadataCluster(t, [1, 2, 3])
  const n1 = await MetadataNode.open(k.options(1))
  await n1.close()
  await t.rejects(MetadataNode.open(k.options(1, { voters: undefined })), { message: /gives no --controller-voters \(node 1 alone\), but .* was started with --controller-voters naming nodes 1, 2, 3/ })
  await t.rejects(MetadataNode.open(k.options(1, { voters: [1, 2, 4].map((id) => ({ id, url: `ws://127.0.0.1:${9000 + id}/` })) })), { message: /naming nodes 1, 2, 4, but/ })
})
