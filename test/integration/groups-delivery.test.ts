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

/** The records' offsets, in order (the log starts with the leader's LeaderChange marker, so not at 0). */
async function topicWithRecords(broker: BrokerProcess, topic: string): Promise<number[]> {
  const client = createClient({ brokers: [broker.url], clientId: 'delivery-setup' })
  const [created] = await client.admin().createTopics([{ topic, partitions: 1, replicationFactor: 1 }])
  if (created.error) throw created.error
  const producer = await client.producer({ acks: 'all' })
  const acks = await Promise.all(Array.from({ length: RECORDS }, (_, i) => producer.send({ topic, partition: 0, value: `payment ${i}` })))
  await client.close()
  return acks.map((a) => a.offset)
}

const offsets = (m: MemberProcess, kind: 'processed' | 'committed') => m.of(kind).map((e) => e.offset!)

/** The first member stalls at STALL_AT and is SIGKILLed; its successor (same group) reads on to the end. */
async function killThenSucceed(t: Test, topic: string, mode: 'after' | 'before'): Promise<{ first: MemberProcess; second: MemberProcess; sent: number[] }> {
  const broker = await startBroker(t)
  const sent = await topicWithRecords(broker, topic)
  const spec = { url: broker.url, topic, groupId: `${topic}-group`, sessionTimeoutMs: SESSION_MS, mode }
  const first = startMember(t, { ...spec, name: 'first', stallAt: STALL_AT })
  await waitFor('the first member to stall', () => first.of('stalled').length === 1, 60_000)
  await first.kill()
  const second = startMember(t, { ...spec, name: 'second' })
  await waitFor('the successor to reach the end', () => offsets(second, 'processed').includes(sent.at(-1)!), 60_000)
  return { first, second, sent }
}

const after = (offsets: number[]) => offsets.map((o) => o + 1)
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b)

t.test('at-least-once: killed after processing, before committing: the successor processes that record again', async (t) => {
  const { first, second, sent } = await killThenSucceed(t, 'alo', 'after')
  t.same(offsets(first, 'processed'), sent.slice(0, STALL_AT), 'the first member processed the first 8 records')
  t.same(offsets(first, 'committed'), after(sent.slice(0, STALL_AT - 1)), 'and committed the first 7, not the 8th')
  t.same(offsets(second, 'processed'), sent.slice(STALL_AT - 1), 'its successor starts at the 8th: processed again')
  const all = [...offsets(first, 'processed'), ...offsets(second, 'processed')]
  t.same(sorted([...new Set(all)]), sent, 'no record lost')
  t.same(all.filter((o, i) => all.indexOf(o) !== i), [sent[STALL_AT - 1]], 'exactly the uncommitted record processed twice')
})

t.test('at-most-once: killed after committing, before processing: that record is lost, none is processed twice', async (t) => {
  const { first, second, sent } = await killThenSucceed(t, 'amo', 'before')
  t.same(offsets(first, 'committed'), after(sent.slice(0, STALL_AT)), 'the first member committed the first 8 records')
  t.same(offsets(first, 'processed'), sent.slice(0, STALL_AT - 1), 'and processed 7: the 8th was committed, not processed')
  t.same(offsets(second, 'processed'), sent.slice(STALL_AT), 'its successor starts at the 9th')
  const all = [...offsets(first, 'processed'), ...offsets(second, 'processed')]
  t.equal(new Set(all).size, all.length, 'no record processed twice')
  t.same(sent.filter((o) => !all.includes(o)), [sent[STALL_AT - 1]], 'the one committed but unprocessed record is lost')
})

t.test('with autoCommit off, close() commits nothing', async (t) => {
  const broker = await startBroker(t)
  const sent = await topicWithRecords(broker, 'manual')
  const client = createClient({ brokers: [broker.url], clientId: 'manual' })
  t.teardown(() => client.close())
  const readAll = async (commitAt?: number) => {
    const consumer = await client.consumer({ autoOffsetReset: 'earliest', maxWaitMs: 100 })
    consumer.subscribe(['manual'], { groupId: 'manual', autoCommit: false, sessionTimeoutMs: SESSION_MS })
    const read: number[] = []
    for await (const r of consumer) {
      read.push(r.offset)
      if (r.offset + 1 === commitAt) await consumer.commit([{ topic: 'manual', partition: 0, offset: commitAt }])
      if (r.offset === sent.at(-1)) break
    }
    await consumer.close()
    return read
  }
  t.same(await readAll(sent[5]), sent, 'the first consumer reads everything, commits past the 5th record only')
  t.same(await readAll(), sent.slice(5), 'the next one starts at the commit: close() committed nothing more')
})
