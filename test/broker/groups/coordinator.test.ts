// The coordinator shell's writes against a stand-in replica of its one __consumer_offsets
// partition (appends decoded and applied to the groups at commit): the offsets topic's
// max.message.bytes bounds every batch, an atomic step too large is refused whole naming what to
// raise, DeleteGroups and expiry split what does not fit, with one commit wait per write.
import t, { type Test } from 'tap'
import { randomUUID } from 'node:crypto'
import { loadCodec, type Codec } from '../../../src/codec/index.js'
import type { MetadataImage, TopicImage } from '../../../src/metadata/image.js'
import type { TopicConfigs } from '../../../src/metadata/topic-config.js'
import { ErrorCode } from '../../../src/protocol/index.js'
import { consumerGroupHeartbeat } from '../../../src/broker/api/consumer-group-heartbeat.js'
import { deleteGroups, describeGroups } from '../../../src/broker/api/groups-admin.js'
import { offsetCommit } from '../../../src/broker/api/offset-commit.js'
import { offsetFetch } from '../../../src/broker/api/offset-fetch.js'
import { batchLimit } from '../../../src/broker/api/topic-limits.js'
import { GroupCoordinator } from '../../../src/broker/groups/coordinator.js'
import type { GroupsMachine } from '../../../src/broker/groups/groups-machine.js'
import { OFFSETS_TOPIC } from '../../../src/broker/groups/offsets-topic.js'
import { decodeGroupRecord } from '../../../src/broker/groups/record-codec.js'
import type { Logger } from '../../../src/broker/log.js'
import type { CommittedBatch } from '../../../src/broker/partition/state-machine.js'
import { ReplicaError } from '../../../src/broker/partition/replica-error.js'
import type { PartitionReplica } from '../../../src/broker/partition/replica.js'

const BATCH_BYTES_MAX = 8_192

/** The leader replica of the offsets topic's only partition: batches apply to the groups when committed() is awaited. */
class StandInReplica {
  readonly isLeader = true
  readonly leaderId = 1
  readonly leaderReady = true
  readonly leaderEpoch = 1
  highWatermark = 0
  /** Every batch appended, and how many commit waits there were. */
  readonly appended: Uint8Array[] = []
  commitWaits = 0
  /** Appends after this many refuse (leadership lost); those before still commit. */
  failAfter = Infinity
  private end = 0
  private readonly pending: CommittedBatch[] = []

  constructor(
    private readonly codec: Codec,
    private readonly machine: () => GroupsMachine,
  ) {}

  get appliedOffset(): number {
    return this.machine().appliedOffset
  }

  async appendValidated(batch: Uint8Array) {
    if (this.appended.length >= this.failAfter) {
      this.commit(this.end) // what was appended commits under the next leader
      throw new ReplicaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, 'this broker does not lead the partition')
    }
    const { records } = this.codec.decodeBatch(batch, { contiguous: false })
    const baseOffset = this.end
    this.end += records.length
    this.pending.push({ baseOffset, nextOffset: this.end, epoch: this.leaderEpoch, records: records.map((r, i) => ({ ...r, offset: baseOffset + i })) })
    this.appended.push(batch)
    return { firstOffset: baseOffset, lastOffset: this.end - 1, nextOffset: this.end, maxTimestamp: 0, batches: 1, bytes: batch.length }
  }

  async committed(offset: number): Promise<void> {
    this.commitWaits++
    this.commit(offset)
  }

  private commit(offset: number): void {
    while (this.pending.length > 0 && this.pending[0].baseOffset < offset) this.machine().apply(this.pending.shift()!)
    this.highWatermark = Math.max(this.highWatermark, offset)
  }
}

async function setup(t: Test) {
  const codec = await loadCodec()
  const logs: { level: string; msg: string; fields?: Record<string, unknown> }[] = []
  const log: Logger = {
    info: (msg, fields) => logs.push({ level: 'info', msg, fields }),
    warn: (msg, fields) => logs.push({ level: 'warn', msg, fields }),
    error: (msg, fields) => logs.push({ level: 'error', msg, fields }),
  }
  const configs: { value: TopicConfigs } = { value: {} }
  const offsets = { name: OFFSETS_TOPIC, id: 'f'.repeat(32), partitions: 1, partitionStates: [{ replicas: [1], leader: 1, leaderEpoch: 1, isr: [1] }], get configs() { return configs.value } }
  const orders = { name: 'orders', id: 'e'.repeat(32), partitions: 400, partitionStates: Array.from({ length: 400 }, () => ({ replicas: [1], leader: 1, leaderEpoch: 1, isr: [1] })), configs: {} }
  const image = {
    topic: (name: string) => [offsets, orders].find((x) => x.name === name),
    topics: [offsets, orders],
    brokers: [{ brokerId: 1, url: 'ws://127.0.0.1:1', fenced: false }],
  } as unknown as MetadataImage
  let machine: GroupsMachine | undefined
  const replica = new StandInReplica(codec, () => machine!)
  let nowMs = 1_000_000
  const coordinator = new GroupCoordinator({
    brokerId: 1, image: () => image, codec, log,
    replicas: { replica: () => replica as unknown as PartitionReplica },
    clusterNodes: () => 1,
    createOffsetsTopic: async () => null,
    writeLimit: () => batchLimit(OFFSETS_TOPIC, configs.value, { batchBytesMax: BATCH_BYTES_MAX, frameBytesMax: 1 << 20 }),
    now: () => nowMs,
  })
  machine = coordinator.stateMachineFor(offsets as unknown as TopicImage, 0)!.machine as GroupsMachine
  t.teardown(() => coordinator.close())
  const expireAll = () => (coordinator as unknown as { expireAll(): Promise<void> }).expireAll()
  return { coordinator, codec, replica, logs, configs, machine, expireAll, advance: (ms: number) => (nowMs += ms) }
}

const join = (c: GroupCoordinator, groupId: string, sessionTimeoutMs = 10_000) =>
  consumerGroupHeartbeat(c, { groupId, memberId: randomUUID(), memberEpoch: 0, subscription: { topicNames: ['orders'] }, sessionTimeoutMs, clientId: 'test' }, '127.0.0.1')

/** Commits offset 1 of `count` partitions of orders from outside the membership, a commit per `per` partitions. */
async function commitMany(c: GroupCoordinator, groupId: string, count: number, per: number) {
  for (let from = 0; from < count; from += per) {
    const partitions = Array.from({ length: Math.min(per, count - from) }, (_, i) => ({ index: from + i, offset: 1, leaderEpoch: -1, metadata: '' }))
    const r = await offsetCommit(c, { groupId, memberId: '', memberEpoch: -1, topics: [{ name: 'orders', partitions }] })
    if (r.error?.code) throw new Error(`commit refused: ${r.error.message}`)
  }
}

t.test('a group with more offsets than one write holds is deleted in several batches, its own tombstone last', async (t) => {
  const { coordinator, replica, codec } = await setup(t)
  await commitMany(coordinator, 'many', 400, 50)
  t.equal((await offsetFetch(coordinator, { groupId: 'many' })).topics?.[0]?.partitions?.length, 400)
  replica.appended.length = 0
  replica.commitWaits = 0
  const deleted = await deleteGroups(coordinator, { groupIds: ['many'] })
  t.same('results' in deleted && deleted.results?.map((r) => r.error?.code ?? 0), [0], 'deleted')
  t.ok(replica.appended.length > 1, `the tombstones took ${replica.appended.length} batches`)
  t.ok(replica.appended.every((b) => b.length <= BATCH_BYTES_MAX), 'each within the limit')
  t.equal(replica.commitWaits, 1, 'appended in order, one wait for the commit')
  const last = replica.appended[replica.appended.length - 1]
  const lastRecords = codec.decodeBatch(last, { contiguous: false }).records
  t.equal(decodeGroupRecord(lastRecords[lastRecords.length - 1] as { key: Uint8Array; value: Uint8Array | null }).kind, 'group', 'the group\'s own tombstone is in the last batch')
  const described = await describeGroups(coordinator, { groupIds: ['many'] })
  t.equal('groups' in described && described.groups?.[0]?.error?.code, ErrorCode.GROUP_ID_NOT_FOUND)
})

t.test('a delete cut short by a lost leadership leaves a group a second delete finishes', async (t) => {
  const { coordinator, replica, machine } = await setup(t)
  await commitMany(coordinator, 'cut', 400, 50)
  replica.failAfter = replica.appended.length + 1 // a batch of tombstones, then the leadership moves
  const first = await deleteGroups(coordinator, { groupIds: ['cut'] })
  t.equal('results' in first && first.results?.[0]?.error?.code, ErrorCode.NOT_COORDINATOR, 'the first delete fails half-way (retriable)')
  const left = machine.group('cut')
  t.ok(left !== undefined && left.offsets.size > 0 && left.offsets.size < 400, `the group is there with fewer offsets (${left?.offsets.size})`)
  replica.failAfter = Infinity
  const second = await deleteGroups(coordinator, { groupIds: ['cut'] })
  t.same('results' in second && second.results?.map((r) => r.error?.code ?? 0), [0], 'a second delete finishes it')
  t.equal(machine.group('cut'), undefined)
})

t.test('an atomic step too large is refused whole, with the limit the offsets topic has and what to raise', async (t) => {
  const { coordinator, replica, configs } = await setup(t)
  const partitions = Array.from({ length: 300 }, (_, index) => ({ index, offset: 1, leaderEpoch: -1, metadata: 'm' }))
  const before = replica.appended.length
  const big = await offsetCommit(coordinator, { groupId: 'big', memberId: '', memberEpoch: -1, topics: [{ name: 'orders', partitions }] })
  t.equal(big.error?.code, ErrorCode.INVALID_COMMIT_OFFSET_SIZE)
  t.match(big.error?.message, /nothing was written to __consumer_offsets: the request's 300 group records go in one write \(all or nothing\), and a \d+-byte batch is over the broker's --max-batch-bytes \(8192\).*raise --max-batch-bytes\. A commit is written whole: commit fewer partitions at once, or with shorter metadata/)
  t.equal(replica.appended.length, before, 'nothing appended')
  configs.value = { 'max.message.bytes': '65536' } // AlterConfigs on __consumer_offsets
  const taken = await offsetCommit(coordinator, { groupId: 'big', memberId: '', memberEpoch: -1, topics: [{ name: 'orders', partitions }] })
  t.notOk(taken.error?.code, 'the topic\'s max.message.bytes is the limit: the same commit is taken')
  configs.value = { 'max.message.bytes': '1024' }
  const small = await offsetCommit(coordinator, { groupId: 'big', memberId: '', memberEpoch: -1, topics: [{ name: 'orders', partitions: partitions.slice(0, 100) }] })
  t.match(small.error?.message, /over topic "__consumer_offsets"'s max.message.bytes \(1024\); raise it/, 'a lower one refuses, naming it')
})

t.test('expiry: every group in one batch when it fits; a mass departure too large for one still removes every member', async (t) => {
  const { coordinator, replica, machine, expireAll, advance } = await setup(t)
  for (const g of ['a', 'b', 'c']) for (let i = 0; i < 2; i++) t.notOk((await join(coordinator, g)).error?.code)
  advance(11_000)
  replica.appended.length = 0
  replica.commitWaits = 0
  await expireAll()
  t.equal(replica.appended.length, 1, 'three groups expired in one batch')
  t.equal(replica.commitWaits, 1)
  t.ok(['a', 'b', 'c'].every((g) => machine.group(g)?.members.size === 0), 'every member removed')

  for (let i = 0; i < 150; i++) t.equal((await join(coordinator, 'crowd', 30_000)).error?.code, undefined)
  advance(31_000)
  replica.appended.length = 0
  replica.commitWaits = 0
  await expireAll()
  t.equal(machine.group('crowd')?.members.size, 0, 'all 150 removed in one check')
  t.ok(replica.appended.length > 1 && replica.appended.every((b) => b.length <= BATCH_BYTES_MAX), `in ${replica.appended.length} batches within the limit`)
  t.equal(replica.commitWaits, 1, 'with one wait for the commit')
})

t.test('a member whose removal alone is too large: an error once, the member kept, removed once the limit is raised', async (t) => {
  const { coordinator, logs, configs, machine, expireAll, advance } = await setup(t)
  t.notOk((await join(coordinator, 'g')).error?.code)
  advance(11_000)
  configs.value = { 'max.message.bytes': '100' } // below what one member's removal takes
  for (let i = 0; i < 3; i++) {
    await expireAll()
    advance(500)
  }
  const errors = logs.filter((l) => l.level === 'error')
  t.equal(errors.length, 1, 'logged once, not every check')
  t.match(errors[0], { msg: /cannot be removed/, fields: { group: 'g', expired: 1, error: /max.message.bytes \(100\); raise it/ } })
  t.equal(machine.group('g')?.members.size, 1, 'the member stays until then')
  configs.value = {}
  await expireAll()
  t.equal(machine.group('g')?.members.size, 0, 'raised: removed at the next check')
})
