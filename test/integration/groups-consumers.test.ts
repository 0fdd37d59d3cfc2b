// Consumer groups with real clients against a real broker process: two, then three consumers
// share a 6-partition topic, then one leaves. Ownership is tracked from the members' own
// onAssigned / onRevoked callbacks: no partition is ever owned by two at once, and once stable
// each partition has exactly one owner. Records produced meanwhile are all read, none twice:
// positions committed on a revocation carry over to the partition's next owner.
import t from 'tap'
import { createClient, type Consumer, type ConsumerRecord } from '../../src/client/node.js'
import { startBroker } from './broker-process.js'

const WAIT_MS = 30_000
const PARTITIONS = 6

async function waitFor(what: string, cond: () => boolean): Promise<void> {
  const deadline = Date.now() + WAIT_MS
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

t.test('two then three consumers share six partitions; never two owners at once', async (t) => {
  const broker = await startBroker(t)
  const admin = createClient({ brokers: [broker.url], clientId: 'groups-admin' })
  t.teardown(() => admin.close())
  const [created] = await admin.admin().createTopics([{ topic: 'orders', partitions: PARTITIONS, replicationFactor: 1 }])
  t.equal(created.error, null)

  const owner = new Map<number, string>()
  const violations: string[] = []
  const seen = new Map<string, string>() // `${partition}:${offset}` -> consumer
  const duplicates: string[] = []
  const consumers = new Map<string, Consumer>()
  const owned = (name: string) => [...owner.values()].filter((o) => o === name).length

  async function join(name: string): Promise<void> {
    const client = createClient({ brokers: [broker.url], clientId: name })
    t.teardown(() => client.close())
    const consumer = await client.consumer({ autoOffsetReset: 'earliest', maxWaitMs: 100 })
    consumers.set(name, consumer)
    consumer.subscribe(['orders'], {
      groupId: 'billing', clientId: name, sessionTimeoutMs: 10_000, autoCommitIntervalMs: 200,
      onAssigned: (ps) => {
        for (const { partition } of ps) {
          const current = owner.get(partition)
          if (current !== undefined) violations.push(`${name} was given orders-${partition} while ${current} owned it`)
          owner.set(partition, name)
        }
      },
      onRevoked: (ps) => {
        for (const { partition } of ps) {
          if (owner.get(partition) !== name) violations.push(`${name} gave up orders-${partition}, owned by ${owner.get(partition)}`)
          owner.delete(partition)
        }
      },
    })
    void (async () => {
      for await (const r of consumer.records() as AsyncGenerator<ConsumerRecord>) {
        if (owner.get(r.partition) !== name) violations.push(`${name} read orders-${r.partition}@${r.offset} it does not own`)
        if (seen.has(`${r.partition}:${r.offset}`)) duplicates.push(`orders-${r.partition}@${r.offset} read by ${seen.get(`${r.partition}:${r.offset}`)} and ${name}`)
        seen.set(`${r.partition}:${r.offset}`, name)
      }
    })().catch((err: unknown) => violations.push(`${name}'s iterator failed: ${(err as Error).message}`))
  }

  const producer = await admin.producer({ acks: 'all' })
  t.teardown(() => producer.close())
  const produce = (n: number) => Promise.all(Array.from({ length: n }, (_, i) => producer.send({ topic: 'orders', partition: i % PARTITIONS, value: `r${i}` })))

  await join('a')
  await waitFor('a to own all six', () => owned('a') === PARTITIONS)
  await produce(60)
  await waitFor('a to read the first 60', () => seen.size === 60)
  await join('b')
  await waitFor('a and b to own three each', () => owned('a') === 3 && owned('b') === 3)
  await join('c')
  await waitFor('a, b and c to own two each', () => owned('a') === 2 && owned('b') === 2 && owned('c') === 2)
  await produce(60)
  await waitFor('all 120 records read', () => seen.size === 120)
  t.same(new Set(seen.values()), new Set(['a', 'b', 'c']), 'every member read some')
  await consumers.get('c')!.close() // leaves the group: its two partitions go to a and b
  await waitFor('a and b to own three each again', () => owned('a') === 3 && owned('b') === 3 && owned('c') === 0)
  await produce(60)
  await waitFor('all 180 records read', () => seen.size === 180)
  t.same(duplicates, [], 'no record read twice: positions committed on each revocation carry over to the next owner')
  t.same(violations, [], 'no partition was ever owned (or read) by two members at once')
  await Promise.all([consumers.get('a')!.close(), consumers.get('b')!.close()])
})
