// Group records through their bytes and through the partition's state machine: what a
// coordinator reads back (records replayed, or a snapshot restored) is the group it wrote.
import t from 'tap'
import { GroupModel, names, pattern } from './model.js'
import { decodeGroupRecord, encodeGroupRecord, GroupRecordError } from '../../../src/broker/groups/record-codec.js'
import { GroupsMachine } from '../../../src/broker/groups/groups-machine.js'
import { commitOffsets } from '../../../src/broker/groups/core/offsets.js'
import { emptyGroup, type GroupState } from '../../../src/broker/groups/core/state.js'
import { replayAll } from '../../../src/broker/groups/core/records.js'
import { javaStringHash, offsetsPartitionFor, offsetsReplicationFactor } from '../../../src/broker/groups/offsets-topic.js'

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined }

/** The group without its deadlines (the coordinator's clock, never in records). */
const persisted = (g: GroupState | undefined) => g && JSON.stringify({ ...g, deadlines: undefined }, (_, v) => (v instanceof Map ? [...v] : v))

function busyGroup(): GroupModel {
  const m = new GroupModel(new Map([['orders', 4], ['payments', 2]]))
  const a = m.client(names('orders', 'payments'), 'static-a')
  const b = m.client(pattern('pay.*'))
  m.beat(a)
  m.beat(b)
  m.beat(a, { apply: false }) // a is asked to revoke: pending revocation in the records
  const c = commitOffsets(m.group, { groupId: 'g', memberId: a.memberId, memberEpoch: a.epoch, offsets: [{ topic: 'orders', partition: 2, offset: 99, leaderEpoch: 4, metadata: 'why' }] }, 1234)
  m.group = c.group
  m.records.push(...c.records)
  return m
}

t.test('every record survives its bytes', async (t) => {
  const m = busyGroup()
  t.ok(m.records.length > 8)
  const back = m.records.map((r) => decodeGroupRecord(encodeGroupRecord(r)))
  t.equal(persisted(replayAll(emptyGroup('g'), back)), persisted(m.group))
  t.throws(() => decodeGroupRecord({ key: new Uint8Array([0xff, 0xff]), value: null }), { name: 'GroupRecordError' })
  t.throws(() => decodeGroupRecord({ key: new Uint8Array(0), value: null }), /names no known group record/)
})

t.test('the state machine: applied records and a restored snapshot give the same groups; garbage is skipped', async (t) => {
  const m = busyGroup()
  const machine = new GroupsMachine(quiet)
  const applied = machine.whenApplied(m.records.length + 1, 5_000)
  const records = m.records.map((r, i) => ({ offset: i, timestamp: 0, headers: [], attributes: 0, ...encodeGroupRecord(r) }))
  machine.apply({ baseOffset: 0, nextOffset: records.length, epoch: 1, records })
  machine.apply({ baseOffset: records.length, nextOffset: records.length + 1, epoch: 1, records: [{ offset: records.length, timestamp: 0, headers: [], attributes: 0, key: new Uint8Array([1, 2, 3]), value: null }] })
  t.equal(await applied, true, 'a waiter for the last offset is woken')
  t.equal(await machine.whenApplied(10_000, 10), false, 'one for an offset never applied gives up')
  t.equal(persisted(machine.group('g')), persisted(m.group))
  const restored = new GroupsMachine(quiet)
  restored.restore(machine.snapshot(), 42)
  t.equal(restored.appliedOffset, 42)
  t.equal(persisted(restored.group('g')), persisted(m.group))
})

t.test("a group's partition is Kafka's: Java's String.hashCode, made non-negative, modulo the count", async (t) => {
  t.equal(javaStringHash('abc'), 96354)
  t.equal(javaStringHash('polygenelubricants'), -2147483648) // Integer.MIN_VALUE: Kafka's Utils.abs maps it to 0
  t.equal(offsetsPartitionFor('polygenelubricants', 50), 0)
  t.equal(offsetsPartitionFor('my-group', 50), Math.abs(javaStringHash('my-group')) % 50)
  t.same([1, 2, 3, 5].map((n) => offsetsReplicationFactor(n)), [1, 2, 3, 3], 'RF 3, fewer only on a smaller cluster')
})
