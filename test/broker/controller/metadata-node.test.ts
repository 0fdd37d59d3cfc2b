// The metadata log on real replicas and real files: in-process nodes whose Raft messages go to
// each other a turn later (as the peer transport delivers them). A lone node leads at once;
// three voters elect one leader and every node — an observer too — replays the same committed
// records into the same image; a restart rebuilds the image from the snapshot and the tail; a
// voter list other than the one the log started with is refused before anything opens.
import t, { type Test } from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadCodec } from '../../../src/codec/index.js'
import { METADATA_DIR_NAME } from '../../../src/broker/controller/limits.js'
import { MetadataNode, type ImageUpdate, type MetadataNodeOptions } from '../../../src/broker/controller/metadata-node.js'
import { encodeSnapshot } from '../../../src/metadata/record-codec.js'
import { encodeRecord } from '../../../src/metadata/record-codec.js'
import type { MetadataRecord } from '../../../src/metadata/image.js'
import type { Message } from '../../../src/raft/types.js'
import { NodeFileLayer } from '../../../src/storage/index.js'
import { quietLog, waitFor } from './wait.js'

const codec = await loadCodec()
const fs = new NodeFileLayer()
/** Short timeouts for an in-process cluster (a real one uses seconds). */
const FAST = { election: 100, fetch: 400, fetchMaxWait: 50, fetchRetry: 100, beginQuorumRetry: 100 }
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

class Cluster {
  readonly nodes = new Map<number, MetadataNode>()
  readonly dirs = new Map<number, string>()
  readonly updates = new Map<number, ImageUpdate[]>()

  constructor(private readonly t: Test, private readonly voters: number[] | undefined) {
    t.teardown(async () => {
      for (const n of this.nodes.values()) await n.close()
      for (const d of this.dirs.values()) rmSync(d, { recursive: true, force: true })
    })
  }

  options(id: number, extra: Partial<MetadataNodeOptions> = {}): MetadataNodeOptions {
    if (!this.dirs.has(id)) this.dirs.set(id, mkdtempSync(join(tmpdir(), `bitacora-meta-${id}-`)))
    return {
      dataDir: this.dirs.get(id)!, nodeId: id, tickMs: 10, fs, log: quietLog, timeoutsMs: FAST,
      voters: this.voters?.map((v) => ({ id: v, url: `ws://127.0.0.1:${9000 + v}/` })),
      send: (m: Message) => setImmediate(() => this.nodes.get(m.to)?.receive(m)),
      ...extra,
    }
  }

  async start(id: number, extra: Partial<MetadataNodeOptions> = {}): Promise<MetadataNode> {
    const node = await MetadataNode.open(this.options(id, extra))
    this.nodes.set(id, node)
    this.updates.set(id, [])
    node.subscribe((u) => this.updates.get(id)!.push(u))
    node.start()
    return node
  }

  async stop(id: number): Promise<void> {
    await this.nodes.get(id)!.close()
    this.nodes.delete(id)
  }

  leader(): MetadataNode | undefined {
    return [...this.nodes.values()].find((n) => n.replica.leaderReady)
  }
}

t.test('a lone node leads at once, publishes each committed image, and rebuilds it from snapshot + tail on restart', async (t) => {
  const c = new Cluster(t, undefined)
  const node = await c.start(1, { snapshotEveryRecords: 3 })
  t.ok(node.standalone, 'no voter list: standalone')
  await waitFor(() => node.replica.leaderReady, 'the lone voter to lead')
  await node.caughtUp()
  t.equal(node.controllerId, 1)
  for (let i = 1; i <= 5; i++) await append(node, topicRecords(`t${i}`, i, 2))
  await waitFor(() => node.image.topicCount === 5, 'five topics in the image')
  const updates = c.updates.get(1)!
  t.same(updates[0].changes, null, 'a subscriber gets the current image first, to diff whole')
  const created = updates.filter((u) => u.changes !== null).map((u) => [...u.changes!.changedTopicIds])
  t.same(created, [1, 2, 3, 4, 5].map((n) => [topicId(n)]), 'then each batch, with what it changed')
  const before = encodeSnapshot(node.image)
  await c.stop(1)
  t.ok(fs.list(join(c.dirs.get(1)!, METADATA_DIR_NAME)).some((f) => f.endsWith('.snapshot')), 'a snapshot was taken')

  const again = await c.start(1, { snapshotEveryRecords: 3 })
  await again.caughtUp()
  t.same(encodeSnapshot(again.image), before, 'the image rebuilt from the snapshot and the tail equals the one before')
  t.ok(again.imageOffset > 0)
})

t.test('three voters elect one leader; every node, an observer too, replays the same image', async (t) => {
  const c = new Cluster(t, [1, 2, 3])
  for (const id of [1, 2, 3, 4]) await c.start(id)
  t.notOk(c.nodes.get(1)!.standalone)
  await waitFor(() => c.leader() !== undefined, 'a leader')
  const leader = c.leader()!
  await waitFor(() => [...c.nodes.values()].every((n) => n.controllerId === leader.nodeId), 'every node to know the leader')
  t.equal(c.nodes.get(4)!.replica.status().voter, false, 'node 4, not in the list, is an observer')
  const end = await append(leader, topicRecords('shared', 7, 3, leader.nodeId))
  for (const n of c.nodes.values()) t.ok(await n.waitForImage(end, 10_000), `node ${n.nodeId} replayed the batch`)
  const images = [...c.nodes.values()].map((n) => encodeSnapshot(n.image))
  for (const img of images.slice(1)) t.same(img, images[0], 'the same image everywhere')
  t.equal(c.nodes.get(4)!.image.topic('shared')?.partitions, 3)
  t.equal(await c.nodes.get(2)!.waitForImage(end + 100, 50), false, 'waiting for an offset never reached times out')
})

t.test('a voter list other than the one the log started with is refused before anything opens', async (t) => {
  const c = new Cluster(t, undefined)
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

  const k = new Cluster(t, [1, 2, 3])
  const n1 = await MetadataNode.open(k.options(1))
  await n1.close()
  await t.rejects(MetadataNode.open(k.options(1, { voters: undefined })), { message: /gives no --controller-voters \(node 1 alone\), but .* was started with --controller-voters naming nodes 1, 2, 3/ })
  await t.rejects(MetadataNode.open(k.options(1, { voters: [1, 2, 4].map((id) => ({ id, url: `ws://127.0.0.1:${9000 + id}/` })) })), { message: /naming nodes 1, 2, 4, but/ })
})
