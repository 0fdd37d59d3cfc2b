// The producer's lifecycle against a real broker process: flush() and close() cover sends
// still waiting for metadata, sends waiting for metadata are bounded by the buffer, and
// options out of range are refused by name.
import t from 'tap'
import { createClient, type Client } from '../../src/client/node.js'
import { startBroker } from './broker-process.js'

const broker = await startBroker(t)

function client(t: { teardown(fn: () => unknown): void }, clientId: string): Client {
  const c = createClient({ brokers: [broker.url], clientId })
  t.teardown(() => c.close())
  return c
}

/** Sends `n` values (of `size` bytes at least) with callbacks; the counts so far. */
function sendMany(producer: Awaited<ReturnType<Client['producer']>>, topic: string, n: number, size = 0) {
  const tally = { acked: 0, failed: new Map<string, number>() }
  for (let i = 0; i < n; i++) {
    producer.send({ topic, value: `v${i}`.padEnd(size, '.') }, (err) => {
      if (err === null) tally.acked++
      else {
        const code = (err as { code?: string }).code ?? err.message
        tally.failed.set(code, (tally.failed.get(code) ?? 0) + 1)
      }
    })
  }
  return tally
}

t.test('flush() on a producer without metadata yet waits for every send made before it', async (t) => {
  const c = client(t, 'flush-fresh')
  await c.admin().createTopics([{ topic: 'flush-fresh', partitions: 2 }])
  const producer = await c.producer({ acks: 1 })
  const tally = sendMany(producer, 'flush-fresh', 1000) // all on the asynchronous path: no metadata yet
  await producer.flush()
  t.equal(tally.acked, 1000, 'every record acknowledged when flush() resolves')
  t.same([...tally.failed], [])
  await producer.close()
})

t.test('close() right after sending delivers what was sent, then refuses new sends', async (t) => {
  const c = client(t, 'close-fresh')
  await c.admin().createTopics([{ topic: 'close-fresh', partitions: 1 }])
  const producer = await c.producer({ acks: 1 })
  const tally = sendMany(producer, 'close-fresh', 1000)
  await producer.close()
  t.equal(tally.acked, 1000, 'nothing failed with CLIENT_CLOSED')
  t.same([...tally.failed], [])
  await t.rejects(producer.send({ topic: 'close-fresh', value: 'late' }), { code: 'CLIENT_CLOSED' })
  // acks=1 answers once the leader appended; 'latest' is the high watermark, which follows
  // when the append is flushed: wait for it (bounded) rather than race it.
  let end = -1
  for (const until = Date.now() + 10_000; end < 1000 && Date.now() < until; await new Promise((r) => setTimeout(r, 50))) {
    end = (await c.admin().listOffsets('close-fresh', 'latest'))[0].offset
  }
  t.ok(end >= 1000, `the records are in the log (end offset ${end})`)
})

t.test('close() with a timeout fails sends still waiting for a topic that never comes', async (t) => {
  const c = client(t, 'close-missing')
  const producer = await c.producer({ acks: 1, maxBlockMs: 60_000 })
  const tally = sendMany(producer, 'never-created', 5)
  const started = Date.now()
  await producer.close({ timeoutMs: 300 })
  t.ok(Date.now() - started < 10_000, 'close() did not wait out maxBlockMs')
  // Each waiting send fails as it wakes; one inside a metadata request fails when that answers.
  for (let i = 0; i < 100 && (tally.failed.get('CLIENT_CLOSED') ?? 0) < 5; i++) await new Promise((r) => setTimeout(r, 20))
  t.ok(Date.now() - started < 10_000, 'and every send failed soon after, not at maxBlockMs')
  t.same([...tally.failed], [['CLIENT_CLOSED', 5]])
})

t.test('sends waiting for metadata hold buffer room: past the buffer and its waiters they are refused at once', async (t) => {
  const c = client(t, 'bounded-wait')
  // Room for about ten 100-byte records, and two more sends may wait for room.
  const producer = await c.producer({ acks: 1, bufferBytesMax: 1500, bufferWaitersMax: 2, maxBlockMs: 30_000 })
  const value = 'x'.repeat(100)
  const results: Array<string | number | undefined> = new Array(40) // by send index
  for (let i = 0; i < 40; i++) {
    producer.send({ topic: 'created-later', partition: 0, value }, (err, meta) => (results[i] = err ? (err as Error & { code: string }).code : meta!.offset))
  }
  await new Promise((r) => setTimeout(r, 50))
  const refused = results.filter((r) => r === 'BUFFER_FULL').length
  t.ok(refused > 0 && refused < 40, `${refused} of 40 refused with BUFFER_FULL while the topic does not exist`)
  await c.admin().createTopics([{ topic: 'created-later', partitions: 1 }])
  await producer.flush()
  const offsets = results.filter((r): r is number => typeof r === 'number')
  t.equal(offsets.length + refused, 40, 'every other send was delivered once the topic appeared')
  t.same(offsets, [...offsets].sort((a, b) => a - b), `in send order (each waited for metadata on its own): ${offsets}`)
  await producer.close()
})

t.test('flush() with the buffer full of lingering batches sends them, so sends waiting for room go through', async (t) => {
  const c = client(t, 'flush-linger')
  await c.admin().createTopics([{ topic: 'flush-linger', partitions: 1 }])
  const producer = await c.producer({ acks: 1, bufferBytesMax: 2000, lingerMs: 60_000, maxBlockMs: 20_000 })
  // More than the buffer holds: the last ones wait for room that only a sent batch gives back.
  const tally = sendMany(producer, 'flush-linger', 25, 100)
  await producer.flush()
  t.equal(tally.acked, 25)
  t.same([...tally.failed], [])
  await producer.close()
})

t.test('producer options out of range are refused, naming the option', async (t) => {
  const c = client(t, 'bad-options')
  for (const [options, name] of [
    [{ ackTimeoutMs: -1 }, 'ackTimeoutMs'],
    [{ ackTimeoutMs: 2 ** 32 }, 'ackTimeoutMs'],
    [{ lingerMs: 1.5 }, 'lingerMs'],
    [{ batchBytes: '64k' }, 'batchBytes'],
    [{ maxInFlightRequests: 0 }, 'maxInFlightRequests'],
    [{ deliveryTimeoutMs: Number.NaN }, 'deliveryTimeoutMs'],
  ] as const) {
    await t.rejects(c.producer(options as never), { code: 'INVALID_ARGUMENT', message: new RegExp(`option ${name} must be an integer`) }, JSON.stringify(options))
  }
})

t.test('frames sent back to back from one reused buffer, and frames queued behind the in-flight limit, arrive intact', async (t) => {
  // A broker allowing 2 requests in flight: the producer's other requests wait in the
  // connection's queue (their own bytes), while those sent at once share its frame scratch
  // and the encoded batches reuse settled batches' buffers (src/client/frame-scratch.ts,
  // batch-spares.ts). Every value distinct, so a frame overwritten too early shows.
  const narrow = await startBroker(t, { args: ['--max-in-flight', '2'] })
  const c = createClient({ brokers: [narrow.url], clientId: 'reuse' })
  t.teardown(() => c.close())
  await c.admin().createTopics([{ topic: 'reuse', partitions: 3 }])
  const producer = await c.producer({ acks: 1, batchBytes: 4096, requestBytesMax: 8192, maxInFlightRequests: 5, lingerMs: 0, deliveryTimeoutMs: 15_000 })
  const N = 20_000
  const acks = await Promise.all(Array.from({ length: N }, (_, i) => producer.send({ topic: 'reuse', key: `k${i % 101}`, value: `value ${i} ${'y'.repeat(i % 300)}` })))
  await producer.close()
  const consumer = await c.consumer({ autoOffsetReset: 'earliest', maxWaitMs: 200 })
  consumer.assign([0, 1, 2].map((partition) => ({ topic: 'reuse', partition })))
  const seen = new Map<string, string>()
  const deadline = Date.now() + 60_000
  for await (const r of consumer.records()) {
    seen.set(`${r.partition}/${r.offset}`, new TextDecoder().decode(r.value!))
    if (seen.size >= N || Date.now() > deadline) break
  }
  consumer.close()
  const wrong = acks.filter((a, i) => seen.get(`${a.partition}/${a.offset}`) !== `value ${i} ${'y'.repeat(i % 300)}`)
  t.equal(seen.size, N, 'every record consumed')
  t.equal(wrong.length, 0, 'each acknowledged offset holds exactly the value sent')
})
