// The Node client against a real broker process: 25,000 records (E2E_RECORDS) in each codec produced with
// acks=all and consumed back exactly (keys on Kafka's partitions, headers, null values), and
// everything acknowledged still there after the broker is SIGKILLed and restarted.
import t from 'tap'
import { createClient, partitionForKey, type ConsumerRecord } from '../../src/client/node.js'
import { startBroker } from './broker-process.js'

const RECORDS = Number(process.env.E2E_RECORDS ?? 25_000)
// E2E_RECORDS=100000 (400,000 records through one broker): about 90 s on a busy 2-core machine.
t.setTimeout(Number(process.env.E2E_TIMEOUT_MS ?? 360_000))
const PARTITIONS = 3
const utf8 = new TextEncoder()
const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b))

/** Record i: a key on most (null on every 7th), a null value on every 11th, a header on every 5th. */
function recordFor(i: number) {
  return {
    key: i % 7 === 0 ? null : `user-${i % 997}`,
    value: i % 11 === 0 ? null : `event ${i} ${'x'.repeat(i % 50)}`,
    headers: i % 5 === 0 ? [{ key: 'seq', value: utf8.encode(String(i)) }, { key: 'empty', value: null }] : [],
  }
}

async function consumeAll(url: string, topic: string, expected: number): Promise<ConsumerRecord[]> {
  const client = createClient({ brokers: [url], clientId: 'e2e-consumer' })
  const consumer = await client.consumer({ autoOffsetReset: 'earliest', maxWaitMs: 200 })
  consumer.assign(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition })))
  const out: ConsumerRecord[] = []
  const deadline = Date.now() + 120_000
  for await (const r of consumer.records()) {
    // Copy what we keep: record fields are views into fetch frames.
    out.push({ ...r, key: r.key?.slice() ?? null, value: r.value?.slice() ?? null, headers: r.headers.map((h) => ({ key: h.key, value: h.value?.slice() ?? null })) })
    if (out.length >= expected || Date.now() > deadline) break
  }
  consumer.close()
  await client.close()
  return out
}

const broker = await startBroker(t)

for (const compression of ['none', 'gzip', 'lz4', 'snappy', 'zstd'] as const) {
  t.test(`${RECORDS} records with ${compression}: produced with acks=all, consumed back exactly`, async (t) => {
    const topic = `e2e-${compression}`
    const client = createClient({ brokers: [broker.url], clientId: 'e2e-producer' })
    await client.admin().createTopics([{ topic, partitions: PARTITIONS }])
    const producer = await client.producer({ acks: 'all', compression, lingerMs: 5 })
    const acked = await Promise.all(Array.from({ length: RECORDS }, (_, i) => producer.send({ topic, ...recordFor(i) })))
    await producer.close()
    await client.close()
    t.equal(acked.length, RECORDS)
    let misplaced = 0
    acked.forEach((m, i) => {
      const key = recordFor(i).key
      if (key !== null && m.partition !== partitionForKey(utf8.encode(key), PARTITIONS)) misplaced++
    })
    t.equal(misplaced, 0, 'every keyed record landed on murmur2(key) % partitions')

    const consumed = await consumeAll(broker.url, topic, RECORDS)
    t.equal(consumed.length, RECORDS, 'every record came back once')
    // Index what the producer was told, then check each consumed record against it.
    const sentAt = new Map<string, number>()
    acked.forEach((m, i) => sentAt.set(`${m.partition}/${m.offset}`, i))
    let mismatches = 0
    const lastOffset = new Map<number, number>()
    for (const r of consumed) {
      const i = sentAt.get(`${r.partition}/${r.offset}`)
      const want = i === undefined ? undefined : recordFor(i)
      const headersOk = want !== undefined && JSON.stringify(r.headers.map((h) => [h.key, text(h.value)])) === JSON.stringify(want.headers.map((h) => [h.key, text(h.value)]))
      if (want === undefined || text(r.key) !== want.key || text(r.value) !== want.value || !headersOk) mismatches++
      if ((lastOffset.get(r.partition) ?? -1) >= r.offset) mismatches++
      lastOffset.set(r.partition, r.offset)
    }
    t.equal(mismatches, 0, 'keys, values, null values, headers and per-partition order all match')
  })
}

t.test('everything acknowledged with acks=all survives SIGKILL', async (t) => {
  const own = await startBroker(t)
  const topic = 'crash'
  const client = createClient({ brokers: [own.url], clientId: 'crash-producer' })
  await client.admin().createTopics([{ topic, partitions: PARTITIONS }])
  const producer = await client.producer({ acks: 'all', compression: 'lz4' })
  const count = Math.min(RECORDS, 20_000)
  await Promise.all(Array.from({ length: count }, (_, i) => producer.send({ topic, ...recordFor(i) })))
  await own.stop('SIGKILL')
  await client.close().catch(() => undefined)
  const restarted = await startBroker(t, { dataDir: own.dataDir })
  const consumed = await consumeAll(restarted.url, topic, count)
  t.equal(consumed.length, count, 'every acknowledged record is readable after the crash')
  t.same(new Set(consumed.map((r) => text(r.value))), new Set(Array.from({ length: count }, (_, i) => recordFor(i).value)))
})
