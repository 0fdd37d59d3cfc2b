// The client's high-throughput paths against a real broker process: send(record, callback)
// (no promise per record) with requests that carry several batches per partition, the
// synchronous send path keeping order behind sends still waiting for metadata, and the
// consumer's batch-level reads (count / value(i) / ...) over pipelined fetches, with a seek
// in the middle dropping what was fetched ahead, and answers dropped otherwise (a break out of
// batches(), a corrupt batch) fetched again instead of leaving their partition behind for good.
import t from 'tap'
import { createClient, nodeWebSocketFactory, type Consumer, type RecordMetadata } from '../../src/client/node.js'
import type { WebSocketFactory, WebSocketMessageLike } from '../../src/client/transport.js'
import { splitBatches } from '../../src/codec/index.js'
import { decodeRequest, decodeResponse } from '../../src/protocol/index.js'
import { startBroker } from './broker-process.js'

t.setTimeout(Number(process.env.E2E_TIMEOUT_MS ?? 240_000))
const PARTITIONS = 3
const RECORDS = 60_000
const utf8 = new TextEncoder()
const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b))

function recordFor(i: number) {
  return {
    key: i % 9 === 0 ? null : `k${i % 101}`,
    value: i % 13 === 0 ? null : `value ${i} ${'y'.repeat(i % 40)}`,
    headers: i % 6 === 0 ? [{ key: 'i', value: utf8.encode(String(i)) }] : undefined,
    timestamp: 1_700_000_000_000 + i,
  }
}

const broker = await startBroker(t)

t.test('callback sends: each record settles once, offsets follow send order per partition, batches come back through the batch API', async (t) => {
  const topic = 'fast-callbacks'
  const requests = countingProduceBatches()
  const client = createClient({ brokers: [broker.url], clientId: 'fast-producer', webSocketFactory: requests.factory })
  t.teardown(() => client.close())
  await client.admin().createTopics([{ topic, partitions: PARTITIONS }])
  // Small batches and a generous request size: a backlog leaves several batches per partition per request.
  const producer = await client.producer({ acks: 1, batchBytes: 4096, requestBytesMax: 256 * 1024, lingerMs: 2 })
  const meta: Array<RecordMetadata | undefined> = new Array(RECORDS)
  let calls = 0
  let errors = 0
  await new Promise<void>((resolve) => {
    for (let i = 0; i < RECORDS; i++) {
      producer.send({ topic, ...recordFor(i) }, (err, m) => {
        calls++
        if (err) errors++
        else meta[i] = m
        if (calls === RECORDS) resolve()
      })
    }
  })
  t.equal(calls, RECORDS, 'every callback called')
  t.equal(errors, 0)
  const next = new Map<number, number>()
  let outOfOrder = 0
  for (let i = 0; i < RECORDS; i++) {
    const m = meta[i]!
    // A partition's log opens with its leader's LeaderChange marker: its first record's offset is not 0.
    if (next.has(m.partition) && m.offset !== next.get(m.partition)) outOfOrder++
    next.set(m.partition, m.offset + 1)
  }
  t.equal(outOfOrder, 0, "each partition's offsets run one after another in send order")
  t.ok(requests.mostBatchesPerPartition() >= 2, `a produce request carried several batches of one partition (at most ${requests.mostBatchesPerPartition()})`)

  const consumer = await client.consumer({ autoOffsetReset: 'earliest', maxWaitMs: 100, partitionMaxBytes: 16 * 1024 })
  consumer.assign(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition })))
  const byPlace = new Map<string, number>()
  meta.forEach((m, i) => byPlace.set(`${m!.partition}/${m!.offset}`, i))
  let seen = 0
  let mismatches = 0
  let objectsDisagree = 0
  let batches = 0
  for await (const batch of consumer.batches()) {
    batches++
    for (let i = 0; i < batch.count; i++) {
      const want = recordFor(byPlace.get(`${batch.partition}/${batch.offset(i)}`) ?? -1)
      const headers = batch.headers(i).map((h) => [h.key, text(h.value)])
      if (text(batch.key(i)) !== want.key || text(batch.value(i)) !== want.value || batch.timestamp(i) !== want.timestamp ||
        JSON.stringify(headers) !== JSON.stringify((want.headers ?? []).map((h) => [h.key, text(h.value)])) ||
        batch.valueLength(i) !== (batch.value(i)?.length ?? -1)) mismatches++
    }
    const r = batch.records[batch.count - 1]
    if (r.offset !== batch.offset(batch.count - 1) || text(r.value) !== text(batch.value(batch.count - 1)) || r.partition !== batch.partition) objectsDisagree++
    seen += batch.count
    if (seen >= RECORDS) break
  }
  consumer.close()
  t.equal(seen, RECORDS, 'every record once')
  t.equal(mismatches, 0, 'keys, values, timestamps and headers read through the batch API match what was sent')
  t.equal(objectsDisagree, 0, 'batch.records agrees with the accessors')
  t.ok(batches > 20, `many (pipelined) fetches: ${batches} batches`)
})

t.test('a seek while fetches run ahead: reading resumes exactly at the offset sought', async (t) => {
  const topic = 'fast-seek'
  const client = createClient({ brokers: [broker.url], clientId: 'fast-seek' })
  t.teardown(() => client.close())
  await client.admin().createTopics([{ topic, partitions: 1 }])
  const producer = await client.producer({ acks: 1 })
  const acked = await Promise.all(Array.from({ length: 20_000 }, (_, i) => producer.send({ topic, value: String(i) })))
  const base = acked[0].offset // after the partition's LeaderChange marker
  t.same(acked.map((m) => m.offset - base), Array.from({ length: 20_000 }, (_, i) => i))
  const consumer = await client.consumer({ autoOffsetReset: 'earliest', maxWaitMs: 100, partitionMaxBytes: 8 * 1024 })
  consumer.assign([{ topic, partition: 0 }])
  const offsets: number[] = []
  let sought = false
  let wrongValues = 0
  for await (const batch of consumer.batches()) {
    for (let i = 0; i < batch.count; i++) {
      offsets.push(batch.offset(i) - base)
      if (text(batch.value(i)) !== String(batch.offset(i) - base)) wrongValues++
    }
    if (!sought && offsets.length > 5000) {
      sought = true
      offsets.push(-1)
      consumer.seek(topic, 0, base + 1234)
    }
    if (offsets.length > 5000 + 1 + (20_000 - 1234)) break
  }
  consumer.close()
  t.equal(wrongValues, 0, 'each record has the value sent for its offset')
  const cut = offsets.indexOf(-1)
  const before = offsets.slice(0, cut)
  const after = offsets.slice(cut + 1)
  t.same(before, Array.from({ length: before.length }, (_, i) => i), 'in order before the seek')
  t.same(after.slice(0, 3), [1234, 1235, 1236], 'the first records after the seek are the ones sought')
  t.same(after, Array.from({ length: after.length }, (_, i) => 1234 + i), 'and then every offset once, in order, to the end')
})

t.test('sends behind one that waits for metadata keep their order; failures reach callbacks, never synchronously', async (t) => {
  const topic = 'fast-order'
  const client = createClient({ brokers: [broker.url], clientId: 'fast-order' })
  t.teardown(() => client.close())
  await client.admin().createTopics([{ topic, partitions: 1 }])
  const producer = await client.producer({ acks: 1 })
  // The producer has no metadata for the topic yet: the first send waits for it, and the
  // synchronous path must not let the later ones overtake it.
  const results = await Promise.all(Array.from({ length: 2000 }, (_, i) => producer.send({ topic, partition: 0, value: String(i) })))
  t.same(results.map((m) => m.offset - results[0].offset), Array.from({ length: 2000 }, (_, i) => i))
  let sync = true
  const failure = new Promise<Error | null>((resolve) => producer.send({ topic, partition: 5, value: 'x' }, (err) => resolve(err)))
  sync = false
  const err = await failure
  t.equal(sync, false)
  t.match(err, { code: 'INVALID_ARGUMENT' }, 'a partition that does not exist')
  await t.rejects(producer.send({ topic, partition: 5, value: 'x' }), { code: 'INVALID_ARGUMENT' }, 'the promise form rejects')
  let called = false
  producer.send({ topic: '', value: 'x' }, () => (called = true))
  t.equal(called, false, 'an invalid record is reported after send() returns')
  await new Promise((r) => setImmediate(r))
  t.equal(called, true)
})

/** Produces `perPartition` records to each partition of a new topic; resolves with each partition's first offset. */
async function fill(client: ReturnType<typeof createClient>, topic: string, partitions: number, perPartition: number): Promise<number[]> {
  await client.admin().createTopics([{ topic, partitions }])
  const producer = await client.producer({ acks: 1 })
  const sent = await Promise.all(Array.from({ length: partitions * perPartition }, (_, i) => producer.send({ topic, partition: i % partitions, value: `p${i % partitions} ${Math.floor(i / partitions)}` })))
  await producer.close()
  return Array.from({ length: partitions }, (_, p) => Math.min(...sent.filter((m) => m.partition === p).map((m) => m.offset)))
}

/** Reads batches until partition p has delivered want[p] records (or `ms` pass): the values each delivered, in order. */
async function readAll(consumer: Consumer, want: number[], ms: number, onError?: (err: Error) => void) {
  const values = want.map(() => [] as string[])
  const done = () => values.every((v, p) => v.length >= want[p])
  const deadline = Date.now() + ms
  const timer = setTimeout(() => consumer.close(), ms) // ends a wait in batches() with nothing to deliver
  try {
    while (!done() && Date.now() < deadline) {
      try {
        for await (const batch of consumer.batches()) {
          for (let i = 0; i < batch.count; i++) values[batch.partition].push(text(batch.value(i))!)
          if (done()) break
        }
      } catch (err) {
        if (!onError) throw err
        onError(err as Error)
      }
    }
  } finally {
    clearTimeout(timer)
  }
  return values
}

const expected = (partitions: number, perPartition: number) =>
  Array.from({ length: partitions }, (_, p) => Array.from({ length: perPartition }, (_, i) => `p${p} ${i}`))

t.test('leaving batches() after one batch of a multi-partition answer, then iterating again, delivers every partition', async (t) => {
  const topic = 'fast-break'
  const client = createClient({ brokers: [broker.url], clientId: 'fast-break' })
  t.teardown(() => client.close())
  await fill(client, topic, 2, 100)
  const consumer = await client.consumer({ autoOffsetReset: 'earliest', maxWaitMs: 100 })
  consumer.assign([{ topic, partition: 0 }, { topic, partition: 1 }])
  // "Read some, stop, continue later": the first answer carries both partitions; one is taken.
  const first: string[] = []
  let from = -1
  for await (const batch of consumer.batches()) {
    from = batch.partition
    for (let i = 0; i < batch.count; i++) first.push(text(batch.value(i))!)
    break
  }
  t.equal(first.length, 100, `one partition's batch taken (partition ${from})`)
  const other = 1 - from
  const rest = await readAll(consumer, from === 0 ? [0, 100] : [100, 0], 10_000)
  // The other partition's batch was dropped with the break: it must come again.
  t.same(rest[other], expected(2, 100)[other], `partition ${other} is delivered, every record once, in order`)
  t.same(rest[from], [], `partition ${from} delivers nothing twice`)
})

/** A transport that reads the produce requests it sends: the most batches one partition had in one. */
/** Counts what produce requests carry, and the most of them awaiting an answer at once. */
function countingProduceBatches() {
  let most = 0
  let requests = 0
  let batches = 0
  let mostOutstanding = 0
  const factory: WebSocketFactory = (url, options) => {
    const ws = nodeWebSocketFactory(url, options)
    const send = ws.send.bind(ws)
    const outstanding = new Set<number>() // correlation ids are per connection
    ;(ws as unknown as { on(event: 'message', listener: (data: Buffer) => void): void }).on('message', (data) => {
      outstanding.delete(decodeResponse(data, 1 << 30).correlationId)
    })
    ws.send = (data: Uint8Array) => {
      const request = decodeRequest(data, 1 << 30)
      const produce = request.produce
      if (produce) {
        requests++
        outstanding.add(request.correlationId)
        mostOutstanding = Math.max(mostOutstanding, outstanding.size)
      }
      for (const p of (produce?.topics ?? []).flatMap((tp) => tp.partitions ?? [])) {
        const n = splitBatches(p.records!).length
        most = Math.max(most, n)
        batches += n
      }
      send(data)
    }
    return ws
  }
  return { factory, mostBatchesPerPartition: () => most, requests: () => requests, batches: () => batches, mostOutstanding: () => mostOutstanding }
}

t.test('while a request is in flight, small batches wait for its answer (within their linger) and leave together', async (t) => {
  const topic = 'fast-coalesce'
  const counted = countingProduceBatches()
  const client = createClient({ brokers: [broker.url], clientId: 'fast-coalesce', webSocketFactory: counted.factory })
  t.teardown(() => client.close())
  await client.admin().createTopics([{ topic, partitions: 1 }])
  // Batches of a few records, sent a few at a time with the event loop turning between (so the
  // sender runs and answers arrive): each fills, and so is ready, long before its 10 s linger,
  // and all of them together are far from half a request (requestBytesMax 1 MiB).
  const producer = await client.producer({ acks: 'all', batchBytes: 600, lingerMs: 10_000 })
  const sent: Array<Promise<RecordMetadata>> = []
  const started = Date.now()
  for (let burst = 0; burst < 400; burst++) {
    for (let i = 0; i < 10; i++) sent.push(producer.send({ topic, value: `burst ${burst} record ${i} ${'z'.repeat(60)}` }))
    await new Promise((r) => setImmediate(r))
  }
  await producer.flush() // the last batch is not full: it would linger
  const acks = await Promise.all(sent)
  const elapsed = Date.now() - started
  t.equal(acks.length, 4000, 'every record acknowledged')
  t.equal(counted.mostOutstanding(), 1, 'a request went only once the one before it was answered, not into a free slot of the five')
  t.ok(counted.requests() < counted.batches() / 4, `${counted.batches()} batches in ${counted.requests()} requests`)
  t.ok(elapsed < 8_000, `answers, not the linger, sent them (${elapsed} ms in all)`)
  await producer.close()

  // With lingerMs 0 nothing waits: requests go while others are in flight. (Not idempotent: an
  // idempotent producer has at most 5 batches of a partition in flight, and on this one
  // partition the first request takes all 5.)
  const eager = countingProduceBatches()
  const eagerClient = createClient({ brokers: [broker.url], clientId: 'fast-coalesce-eager', webSocketFactory: eager.factory })
  t.teardown(() => eagerClient.close())
  const eagerProducer = await eagerClient.producer({ acks: 'all', batchBytes: 600, lingerMs: 0, idempotent: false })
  const eagerSent: Array<Promise<RecordMetadata>> = []
  for (let burst = 0; burst < 400; burst++) {
    for (let i = 0; i < 10; i++) eagerSent.push(eagerProducer.send({ topic, value: `eager ${burst} ${i}` }))
    await new Promise((r) => setImmediate(r))
  }
  t.equal((await Promise.all(eagerSent)).length, 4000)
  t.ok(eager.mostOutstanding() > 1, `with lingerMs 0, up to ${eager.mostOutstanding()} requests were in flight at once`)
  await eagerProducer.close()
})

t.test('leaving the record iterator in the middle of a batch, then iterating again, resumes at the next record', async (t) => {
  const topic = 'fast-records-break'
  const client = createClient({ brokers: [broker.url], clientId: 'fast-records-break' })
  t.teardown(() => client.close())
  const [first] = await fill(client, topic, 1, 100) // sent together: a few batches of many records
  const consumer = await client.consumer({ autoOffsetReset: 'earliest', maxWaitMs: 100 })
  consumer.assign([{ topic, partition: 0 }])
  const seen: string[] = []
  for await (const r of consumer) {
    seen.push(text(r.value)!)
    if (seen.length === 3) break
  }
  t.equal(consumer.position(topic, 0), first + 3, 'the position is the record after the last one handed out')
  const stop = setTimeout(() => consumer.close(), 10_000) // records lost would otherwise be waited for
  for await (const r of consumer) {
    seen.push(text(r.value)!)
    if (seen.length === 100) break
  }
  clearTimeout(stop)
  consumer.close()
  t.same(seen, expected(1, 100)[0], 'every record once, in order')
})

// A real broker never serves a corrupt batch (its reads verify CRCs), so the transport flips a
// byte of the first fetch response that carries records: partition 0's last batch then fails
// its CRC on arrival. Partition 1's records in the same response are healthy.
function corruptingFirstFetch(): { factory: WebSocketFactory; corrupted: () => boolean } {
  let corrupted = false
  const factory: WebSocketFactory = (url, options) => {
    const ws = nodeWebSocketFactory(url, options)
    const onmessage = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(ws), 'onmessage')!
    Object.defineProperty(ws, 'onmessage', {
      get: () => onmessage.get!.call(ws),
      set: (handler: ((e: WebSocketMessageLike) => void) | null) => onmessage.set!.call(ws, handler && ((e: WebSocketMessageLike) => {
        const bytes = e.data as Uint8Array
        const res = decodeResponse(bytes, 1 << 30)
        const parts = res.fetch?.topics?.flatMap((tp) => tp.partitions ?? []) ?? []
        const p0 = parts.find((p) => (p.index ?? 0) === 0)?.records
        if (!corrupted && p0 && p0.length > 0 && parts.some((p) => p.index === 1 && (p.records?.length ?? 0) > 0)) {
          corrupted = true
          p0[p0.length - 1] ^= 0xff // a view into the frame: the delivered bytes change
        }
        handler({ data: bytes })
      })),
    })
    return ws
  }
  return { factory, corrupted: () => corrupted }
}

t.test('a corrupt batch in an answer: the error names it, the other partitions are delivered, and a consumer that goes on reads everything', async (t) => {
  const topic = 'fast-corrupt'
  const producing = createClient({ brokers: [broker.url], clientId: 'fast-corrupt-producer' })
  t.teardown(() => producing.close())
  await fill(producing, topic, 2, 100)
  const tap = corruptingFirstFetch()
  const client = createClient({ brokers: [broker.url], clientId: 'fast-corrupt', webSocketFactory: tap.factory })
  t.teardown(() => client.close())
  const consumer = await client.consumer({ autoOffsetReset: 'earliest', maxWaitMs: 100 })
  consumer.assign([{ topic, partition: 0 }, { topic, partition: 1 }])
  const errors: Error[] = []
  const values = await readAll(consumer, [100, 100], 10_000, (err) => errors.push(err))
  t.ok(tap.corrupted(), 'a response carrying both partitions was corrupted')
  t.equal(errors.length, 1, 'one error')
  t.match(errors[0], { code: 'BATCH_BAD_CRC', message: /fast-corrupt\/0 at offset \d+: .*seek past the batch/ })
  // The corruption was in transit: fetched again from its position, partition 0 reads clean.
  t.same(values, expected(2, 100), 'both partitions delivered, every record once, in order')
})
