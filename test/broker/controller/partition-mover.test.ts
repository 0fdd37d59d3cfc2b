// A partition move carried out by the brokers' PartitionMovers (controller/node/partition-mover.ts)
// over real replicas: four replica managers, as four brokers, on real files, their Raft messages
// passed in process, and the controller's completion decided by the real decision
// (decisions/reassignment.ts) over one shared image. A partition on {1,2,3} led by 1 moves to
// {2,3,4}: the new replica opens as an observer and copies the log, is added, broker 1 hands
// leadership over and is removed, and only once the controller recorded the end does broker 1
// delete its directory.
import t from 'tap'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadCodec } from '../../../src/codec/index.js'
import { completeReassignment } from '../../../src/broker/controller/decisions/reassignment.js'
import { ControllerState } from '../../../src/broker/controller/decisions/state.js'
import { PartitionMover } from '../../../src/broker/controller/node/partition-mover.js'
import { partitionDir } from '../../../src/broker/partition/partition-dir.js'
import { ReplicaManager } from '../../../src/broker/partition/replica-manager.js'
import { MetadataImage, type MetadataRecord } from '../../../src/metadata/image.js'
import { newTopicRecords } from '../../../src/metadata/records.js'
import { uuidHex } from '../../../src/metadata/uuid.js'
import { ErrorCode, type bitacora, type ResponseProps } from '../../../src/protocol/index.js'
import type { Message } from '../../../src/raft/types.js'
import { quietLog, waitFor } from './wait.js'

const TICK_MS = 10
const NODES = [1, 2, 3, 4]
const TOPIC_ID = 'e2'.repeat(16)
const CONFIG = { leaseMs: 9_000, defaultPartitions: 1, defaultReplicationFactor: 3, partitionsPerTopicMax: 10, topicsMax: 10, producerIdBlockSize: 1_000 }

const managers = new Map<number, ReplicaManager>()
const dataDirs = new Map<number, string>()
let image = MetadataImage.EMPTY.apply(newTopicRecords({ name: 'orders', id: TOPIC_ID, configs: {} }, [[1, 2, 3]]))
let logEnd = 0
const completions: string[] = []

/** The active controller, in process: the completion decided over the shared image, which every broker then reconciles with. */
async function decideCompletion(body: bitacora.ICompleteReassignmentRequest): Promise<ResponseProps> {
  const state = ControllerState.elected(CONFIG, image, 0, 0)
  const req = { topicId: uuidHex(body.topicId!), partition: body.partition!, leader: body.brokerId!, leaderEpoch: body.leaderEpoch!, voters: body.voters! }
  const d = completeReassignment(state, req, { nowMs: 0, logEnd: logEnd++, newUuid: () => '' })
  completions.push(`${body.brokerId}: ${d.ok ? 'completed' : ErrorCode[d.error.code]}`)
  if (!d.ok) return { error: { code: d.error.code, message: d.error.message } }
  await publish(d.records)
  return { completeReassignment: {} }
}

async function publish(records: readonly MetadataRecord[]): Promise<void> {
  image = image.apply(records)
  await Promise.all([...managers.values()].map((m) => m.reconcile({ image, changes: null })))
}

for (const node of NODES) {
  const dir = mkdtempSync(join(tmpdir(), `bitacora-mover-${node}-`))
  dataDirs.set(node, dir)
  const send = (topicId: string, partition: number, m: Message) => void managers.get(m.to)?.replica(topicId, partition)?.receive(m)
  const m = new ReplicaManager(dir, node, TICK_MS, 60_000, quietLog, undefined, send, `${node}`.repeat(32))
  managers.set(node, m)
  const mover = new PartitionMover({
    brokerId: node, image: () => image, replica: (topicId, p) => m.replica(topicId, p), log: quietLog,
    controller: { send: (_api, body) => decideCompletion(body) },
  })
  t.teardown(async () => {
    mover.close()
    await m.closeAll()
    rmSync(dir, { recursive: true, force: true })
  })
  await m.prepare()
  m.start()
  mover.start()
}

t.test('a partition moves from {1,2,3} to {2,3,4} one voter at a time; broker 1 deletes its replica only after the end is recorded', async (t) => {
  await publish([])
  const replica = (node: number) => managers.get(node)!.replica(TOPIC_ID, 0)
  await waitFor(() => replica(1)?.leaderReady === true, 'broker 1, the preferred replica, to lead')
  const codec = await loadCodec()
  for (let i = 0; i < 50; i++) await replica(1)!.appendValidated(codec.encodeBatch([{ key: null, value: new TextEncoder().encode(`record-${i}`) }]))
  const written = replica(1)!.status().logEnd

  await publish([{ type: 'partitionReassignment', topicId: TOPIC_ID, partition: 0, replicas: [2, 3, 4, 1], adding: [4], removing: [1] }])
  const observer = replica(4)!
  t.ok(observer !== undefined, 'broker 4 hosts a replica of the partition being moved')
  t.equal(observer.status().voter, false, 'as an observer: the leader has not added it yet')

  await waitFor(() => image.topicById(TOPIC_ID)!.partitionStates[0].reassignment === undefined, 'the move to be recorded as over', 30_000)
  await Promise.all([...managers.values()].map((m) => m.reconciled()))
  t.same(image.topicById(TOPIC_ID)!.partitionStates[0].replicas, [2, 3, 4], 'the controller recorded the target')
  const leader = [2, 3, 4].map(replica).find((r) => r?.isLeader)!
  t.ok(leader !== undefined, 'a broker of the target leads')
  t.same([...leader.status().voters].sort(), [2, 3, 4], 'its voters are the target')
  t.ok(leader.highWatermark >= written, 'the log written before the move is committed under the new voters')
  t.ok(observer.status().voter, 'broker 4 is a voter now')
  await waitFor(() => observer.status().logEnd >= written, 'broker 4 to hold the log written before the move')
  t.equal(replica(1), undefined, 'broker 1 no longer hosts the partition')
  t.notOk(existsSync(partitionDir(dataDirs.get(1)!, TOPIC_ID, 0)), 'and its directory is gone')
  t.ok(completions.at(-1)?.endsWith('completed'), `completed once (${completions.join('; ')})`)
})

t.test('a partition of one replica moves to another broker: the new one is added, the old one hands over and leaves', async (t) => {
  const single = 'f3'.repeat(16)
  await publish(newTopicRecords({ name: 'single', id: single, configs: {} }, [[3]]))
  const replica = (node: number) => managers.get(node)!.replica(single, 0)
  await waitFor(() => replica(3)?.leaderReady === true, 'broker 3, its only replica, to lead')
  const codec = await loadCodec()
  await replica(3)!.appendValidated(codec.encodeBatch([{ key: null, value: new TextEncoder().encode('only') }]))
  const written = replica(3)!.status().logEnd
  await publish([{ type: 'partitionReassignment', topicId: single, partition: 0, replicas: [1, 3], adding: [1], removing: [3] }])
  await waitFor(() => image.topicById(single)!.partitionStates[0].reassignment === undefined, 'the move to be recorded as over', 30_000)
  await Promise.all([...managers.values()].map((m) => m.reconciled()))
  t.same(image.topicById(single)!.partitionStates[0].replicas, [1])
  const moved = replica(1)!
  await waitFor(() => moved.leaderReady, 'broker 1 to lead it alone')
  t.same(moved.status().voters, [1])
  t.ok(moved.highWatermark >= written, 'with the record written before the move committed')
  t.equal(replica(3), undefined, 'broker 3 no longer hosts it')
  t.notOk(existsSync(partitionDir(dataDirs.get(3)!, single, 0)))
})
