// Delivery semantics of a consumer group (issue 20), with members in their own processes
// (fixtures/group-member.mjs, the client README's two patterns) and a real broker:
// - at-least-once (process, then commit): a member SIGKILLed after processing a record but
//   before committing it leaves that record to its successor, which processes it again; none
//   is lost.
// - at-most-once (commit, then process): a member SIGKILLed after committing a record but
//   before processing it never has it processed by anyone; none is processed twice.
// - a consumer with autoCommit off that closes commits nothing it was not asked to.
import t, { type Test } from 'tap'
import { createClient } from '../../src/client/node.js'
import { startBroker, type BrokerProcess } from './broker-process.js'
import { startMember, type MemberProcess } from './group-children.js'
import { waitFor } from './group-ownership.js'

t.setTimeout(120_000)

const RECORDS = 20
/** The member is stopped for good at its 8th record (offset 7), between processing and committing it. */
const STALL_AT = 8
const SESSION_MS = 4_000

async function topicWithRecords(broker: BrokerProcess, topic: string): Promise<void> {
  const client = createClient({ brokers: [broker.url], clientId: 'delivery-setup' })
  const [created] = await client.admin().createTopics([{ topic, partitions: 1, replicationFactor: 1 }])
  if (created.error) throw created.error
  const producer = await client.producer({ acks: 'all' })
  await Promise.all(Array.from({ length: RECORDS }, (_, i) => producer.send({ topic, partition: 0, value: `payment ${i}` })))
  await client.close()
}

const offsets = (m: MemberProcess, kind: 'processed' | 'committed') => m.of(kind).map((e) => e.offset!)

/** The first member stalls at STALL_AT and is SIGKILLed; its successor (same group) reads on to the end. */
async function killThenSucceed(t: Test, topic: string, mode: 'after' | 'before'): Promise<{ first: MemberProcess; second: MemberProcess }> {
  const broker = await startBroker(t)
  await topicWithRecords(broker, topic)
  const spec = { url: broker.url, topic, groupId: `${topic}-group`, sessionTimeoutMs: SESSION_MS, mode }
  const first = startMember(t, { ...spec, name: 'first', stallAt: STALL_AT })
  await waitFor('the first member to stall', () => first.of('stalled').length === 1, 60_000)
  await first.kill()
  const second = startMember(t, { ...spec, name: 'second' })
  await waitFor('the successor to reach the end', () => offsets(second, 'processed').includes(RECORDS - 1), 60_000)
  return { first, second }
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i)

t.test('at-least-once: killed after processing, before committing: the successor processes that record again', async (t) => {
  const { first, second } = await killThenSucceed(t, 'alo', 'after')
  t.same(offsets(first, 'processed'), range(0, STALL_AT), 'the first member processed offsets 0..7')
  t.same(offsets(first, 'committed'), range(1, STALL_AT), 'and committed through 7 (the next to read), not 8')
  t.same(offsets(second, 'processed'), range(STALL_AT - 1, RECORDS), 'its successor starts at offset 7: processed again')
  const all = [...offsets(first, 'processed'), ...offsets(second, 'processed')]
  t.same([...new Set(all)].sort((a, b) => a - b), range(0, RECORDS), 'no record lost')
  t.same(all.filter((o, i) => all.indexOf(o) !== i), [STALL_AT - 1], 'exactly the uncommitted record processed twice')
})

t.test('at-most-once: killed after committing, before processing: that record is lost, none is processed twice', async (t) => {
  const { first, second } = await killThenSucceed(t, 'amo', 'before')
  t.same(offsets(first, 'committed'), range(1, STALL_AT + 1), 'the first member committed through 8')
  t.same(offsets(first, 'processed'), range(0, STALL_AT - 1), 'and processed 0..6: offset 7 was committed, not processed')
  t.same(offsets(second, 'processed'), range(STALL_AT, RECORDS), 'its successor starts at offset 8')
  const all = [...offsets(first, 'processed'), ...offsets(second, 'processed')]
  t.equal(new Set(all).size, all.length, 'no record processed twice')
  t.same(range(0, RECORDS).filter((o) => !all.includes(o)), [STALL_AT - 1], 'the one committed but unprocessed record is lost')
})

t.test('with autoCommit off, close() commits nothing', async (t) => {
  const broker = await startBroker(t)
  await topicWithRecords(broker, 'manual')
  const client = createClient({ brokers: [broker.url], clientId: 'manual' })
  t.teardown(() => client.close())
  const readAll = async (commitAt?: number) => {
    const consumer = await client.consumer({ autoOffsetReset: 'earliest', maxWaitMs: 100 })
    consumer.subscribe(['manual'], { groupId: 'manual', autoCommit: false, sessionTimeoutMs: SESSION_MS })
    const read: number[] = []
    for await (const r of consumer) {
      read.push(r.offset)
      if (r.offset + 1 === commitAt) await consumer.commit([{ topic: 'manual', partition: 0, offset: commitAt }])
      if (r.offset === RECORDS - 1) break
    }
    await consumer.close()
    return read
  }
  t.same(await readAll(5), range(0, RECORDS), 'the first consumer reads everything, commits offset 5 only')
  t.same(await readAll(), range(5, RECORDS), 'the next one starts at the commit: close() committed nothing more')
})
