// Restarting every node of a three-node cluster: each rebuilds its metadata image from its
// latest snapshot (taken every few records here) and the records after it, and the image equals
// the one before — topics, ids, replicas, configs — and each partition's data is still where
// the image says. One cluster for the whole file.
import t from 'tap'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { loadCodec, splitBatches } from '../../src/codec/index.js'
import { bitacora } from '../../src/protocol/index.js'
import { ProcessCluster, until } from './quorum-nodes.js'

const codec = await loadCodec()
const c = await ProcessCluster.create(t, [1, 2, 3], [1, 2, 3], ['--metadata-snapshot-records', '5'])
await c.startAll()

async function configs(id: number, topic: string): Promise<string[]> {
  const r = await c.call(id, { describeConfigs: { resources: [{ resource: { type: bitacora.ConfigResourceType.TOPIC, name: topic } }] } })
  return r.describeConfigs!.results![0].entries!.filter((e) => !e.isDefault).map((e) => `${e.name}=${e.value}`)
}

/** The values of a partition's data records, read from the node that hosts it. */
async function values(id: number, topic: string): Promise<string[]> {
  const r = await c.call(id, { fetch: { maxWaitMs: 100, topics: [{ name: topic, partitions: [{ index: 0, fetchOffset: 0 }] }] } })
  const p = r.fetch!.topics![0].partitions![0]
  if (p.error || !p.records?.length) return []
  return splitBatches(p.records, true)
    .map(([s, e]) => codec.decodeBatch(p.records!.subarray(s, e)))
    .filter((b) => !b.header.control)
    .flatMap((b) => b.records.map((x) => new TextDecoder().decode(x.value!)))
}

t.test('restart every node: the image is rebuilt from snapshot + tail and equals the one before', async (t) => {
  let controller = await c.controller([1, 2, 3])
  for (let i = 0; i < 6; i++) t.equal((await c.createTopic(controller, `topic-${i}`, 2)).error, null, `topic-${i} created`)
  t.equal((await c.call(controller, { deleteTopics: { names: ['topic-0'] } })).deleteTopics!.topics![0].error, null, 'topic-0 deleted')
  const altered = await c.call(controller, {
    alterConfigs: { resources: [{ resource: { type: bitacora.ConfigResourceType.TOPIC, name: 'topic-1' }, set: { 'retention.ms': '3600000' } }] },
  })
  t.equal(altered.alterConfigs!.results![0].error, null, 'topic-1 altered')
  const host = (await c.metadata(controller, ['topic-2'])).topics![0].partitions![0].replicas![0]
  const produced = await c.call(host, {
    produce: { acks: -1, timeoutMs: 10_000, topics: [{ name: 'topic-2', partitions: [{ index: 0, records: codec.encodeBatch(['a', 'b'].map((v) => ({ value: new TextEncoder().encode(v) }))) }] }] },
  })
  t.equal(produced.produce!.topics![0].partitions![0].error, null, `records written to topic-2/0 on node ${host}`)

  const want = await c.topics(controller)
  t.equal(want.length, 5)
  for (const id of c.ids) await until(`node ${id} to have the same image`, async () => JSON.stringify(await c.topics(id)) === JSON.stringify(want))
  for (const id of c.ids) await c.stop(id, 'SIGTERM')
  for (const id of c.ids) {
    const files = readdirSync(join(c.dataDirs.get(id)!, '__cluster_metadata-0'))
    t.ok(files.some((f) => f.endsWith('.snapshot')), `node ${id} took a snapshot of its metadata`)
  }

  await c.startAll()
  controller = await c.controller([1, 2, 3])
  for (const id of c.ids) {
    // Replaying, a node passes through earlier images (as many topics, other ones): wait for the last.
    const got = await until(`node ${id} to replay its metadata log to the image before`, async () => {
      const topics = await c.topics(id)
      return JSON.stringify(topics) === JSON.stringify(want) ? topics : null
    })
    t.same(got, want, `node ${id}: the same topics, ids and replicas`)
    t.same(await configs(id, 'topic-1'), ['retention.ms=3600000'], `node ${id}: the same configs`)
  }
  t.same(await until('topic-2/0 to serve its records again', async () => {
    const v = await values(host, 'topic-2')
    return v.length === 2 ? v : null
  }), ['a', 'b'], `node ${host} still holds topic-2/0's records`)
})

t.test('a node restarted without a quorum answers for itself as fenced, though its image shows it unfenced from before', async (t) => {
  await c.ready()
  for (const id of c.ids) await c.stop(id, 'SIGTERM')
  await c.start(1) // alone: no controller, so it cannot register again
  const self = await until('node 1 to answer Metadata', async () => ((await c.metadata(1)).brokers ?? []).find((b) => b.id === 1))
  t.equal(self.fenced, true, 'node 1 is fenced in its own answer')
  const others = ((await c.metadata(1)).brokers ?? []).filter((b) => b.id !== 1)
  t.same(others.map((b) => [b.id, b.fenced]), [[2, false], [3, false]], 'the image still shows the others as it last knew them')
  await c.start(2)
  await c.start(3)
  await c.ready()
  t.pass('registered and unfenced again once a controller is elected')
})
