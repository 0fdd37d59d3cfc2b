// Leadership through the replica manager: a new partition's preferred replica (the first listed)
// campaigns as soon as it opens, so it — not whichever replica times out first — leads the first
// epoch; and each leadership won is told to the manager's listeners (what the broker reports to
// the controller: controller/node/leader-reporter.ts). Three managers, as three brokers, on real
// files, their replicas' Raft messages passed between them in process; each replica is a voter as
// (broker id, its data directory id), as KIP-853's.
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MetadataImage } from '../../../src/metadata/image.js'
import { newTopicRecords } from '../../../src/metadata/records.js'
import { ReplicaManager, type LedPartition } from '../../../src/broker/partition/replica-manager.js'
import type { Message } from '../../../src/raft/types.js'
import { quietLog, waitFor } from '../controller/wait.js'

const TICK_MS = 10
const NODES = [1, 2, 3]
const PARTITIONS = 30
const TOPIC_ID = 'd1'.repeat(16)

const directoryOf = (node: number) => `${node}`.repeat(32)
const managers = new Map<number, ReplicaManager>()
const led = new Map<number, LedPartition[]>(NODES.map((n) => [n, []]))
for (const node of NODES) {
  const dir = mkdtempSync(join(tmpdir(), `bitacora-leaders-${node}-`))
  const send = (topicId: string, partition: number, m: Message) => void managers.get(m.to)?.replica(topicId, partition)?.receive(m)
  const m = new ReplicaManager(dir, node, TICK_MS, 60_000, quietLog, undefined, send, directoryOf(node))
  m.onLeader((l) => led.get(node)!.push(l))
  managers.set(node, m)
  t.teardown(async () => {
    await m.closeAll()
    rmSync(dir, { recursive: true, force: true })
  })
  await m.prepare()
  m.start()
}

t.test('each new partition is led by its preferred replica in the first epoch, and the leader is told', async (t) => {
  // Preferred replicas rotate over the nodes, as placement puts them.
  const replicas = Array.from({ length: PARTITIONS }, (_, p) => [0, 1, 2].map((i) => NODES[(p + i) % 3]))
  const image = MetadataImage.EMPTY.apply(newTopicRecords({ name: 'orders', id: TOPIC_ID, configs: {} }, replicas))
  await Promise.all([...managers.values()].map((m) => m.reconcile({ image, changes: null })))
  const leaderOf = (p: number) => NODES.find((n) => managers.get(n)!.replica(TOPIC_ID, p)!.isLeader)
  await waitFor(() => replicas.every((_, p) => leaderOf(p) !== undefined), 'every partition to have a leader')
  t.same(replicas.map((_, p) => leaderOf(p)), replicas.map((r) => r[0]), 'each led by its preferred replica')
  t.same(replicas.map((_, p) => managers.get(leaderOf(p)!)!.replica(TOPIC_ID, p)!.leaderEpoch), replicas.map(() => 1), 'in the first epoch: no election timed out first')
  for (const node of NODES) {
    const expected = replicas.flatMap((r, partition) => r[0] === node ? [{ topicId: TOPIC_ID, partition, leaderEpoch: 1 }] : [])
    t.same(led.get(node)!.sort((a, b) => a.partition - b.partition), expected, `node ${node}'s listeners heard of each leadership it won`)
    t.same([...managers.get(node)!.led()].sort((a, b) => a.partition - b.partition), expected, `and node ${node} lists them`)
  }
  const leader = managers.get(replicas[0][0])!.replica(TOPIC_ID, 0)!
  await waitFor(() => Object.keys(leader.status().voterDirectoryIds).length === 3, 'the leader to record every voter\'s directory id')
  t.same(leader.status().voterDirectoryIds, Object.fromEntries(NODES.map((n) => [n, directoryOf(n)])), 'each replica is a voter as (broker id, its data directory id)')
})
