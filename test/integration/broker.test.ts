// A real broker process, driven over the raw protocol: admin, produce with every acks mode,
// fetch, list offsets, configs, restarts (clean and SIGKILL).
import t from 'tap'
import { loadCodec, splitBatches, type DecodedRecord } from '../../src/codec/index.js'
import { bitacora, decodeResponse, encodeRequest, ErrorCode } from '../../src/protocol/index.js'
import { connect, startBroker, type RawClient } from './broker-process.js'
import { PRODUCER_BATCHES_KEPT } from '../../src/broker/partition/limits.js'

const codec = await loadCodec()
const utf8 = (s: string) => new TextEncoder().encode(s)
const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b))

async function createTopic(c: RawClient, name: string, partitions = 1, configs: Record<string, string> = {}) {
  const r = await c.call({ createTopics: { topics: [{ name, partitions, configs }] } })
  return r.createTopics!.topics![0]
}

async function produce(c: RawClient, topic: string, index: number, records: Uint8Array, acks = -1) {
  const r = await c.call({ produce: { acks, timeoutMs: 10_000, topics: [{ name: topic, partitions: [{ index, records }] }] } })
  return r.produce!.topics![0].partitions![0]
}

/** Waits until the partition's leader is ready (after a restart its HW must pass a new epoch). */
async function latestOffset(c: RawClient, topic: string, index: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const r = await c.call({ listOffsets: { topics: [{ name: topic, partitions: [{ index, timestamp: -1 }] }] } })
    const p = r.listOffsets!.topics![0].partitions![0]
    if (p.error === null) return p.offset!
    if (p.error?.code !== ErrorCode.OFFSET_NOT_AVAILABLE && p.error?.code !== ErrorCode.NOT_LEADER_OR_FOLLOWER) {
      throw new Error(`list offsets failed: ${p.error?.message}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`partition ${topic}-${index} never became ready`)
}

/** Waits until the high watermark reaches `end`: acks=1 and acks=0 answer before it covers their batch. */
async function highWatermarkReaches(c: RawClient, topic: string, index: number, end: number): Promise<void> {
  const deadline = Date.now() + 20_000
  while ((await latestOffset(c, topic, index)) < end) {
    if (Date.now() > deadline) throw new Error(`the high watermark of ${topic}-${index} did not reach ${end} in 20 s`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** Every data record (control batches skipped) from `offset` up to the high watermark. */
async function fetchAll(c: RawClient, topic: string, index: number, offset = 0): Promise<DecodedRecord[]> {
  const out: DecodedRecord[] = []
  for (let guard = 0; guard < 1000; guard++) {
    const r = await c.call({ fetch: { maxWaitMs: 0, topics: [{ name: topic, partitions: [{ index, fetchOffset: offset }] }] } })
    const p = r.fetch!.topics![0].partitions![0]
    if (p.error) throw new Error(`fetch failed: ${p.error.message}`)
    if (p.records!.length === 0) return out
    for (const [start, end] of splitBatches(p.records!, true)) {
      const batch = await codec.decodeBatchAsync(p.records!.subarray(start, end), { contiguous: false })
      if (!batch.header.control) out.push(...batch.records.filter((rec) => rec.offset >= offset))
      offset = batch.header.nextOffset
    }
  }
  throw new Error('fetchAll did not reach the high watermark')
}

t.test('requests before the handshake are refused with HANDSHAKE_REQUIRED', async (t) => {
  const broker = await startBroker(t)
  const c = await connect(broker.url, { handshake: false })
  t.equal((await c.call({ metadata: {} })).error?.code, ErrorCode.HANDSHAKE_REQUIRED)
  const hs = (await c.call({ handshake: { protocolVersion: 1, clientId: 't' } })).handshake!
  t.equal(hs.protocolVersion, 1)
  t.ok(hs.maxFrameBytes! > 1024 * 1024, 'the broker announces its frame limit')
  t.equal(hs.producerBatchesRemembered, PRODUCER_BATCHES_KEPT, 'and how many batches per idempotent producer its partitions remember')
  t.ok(hs.apis!.some((a) => a.api === 'produce'))
  t.equal((await c.call({ metadata: {} })).error, null)
  c.close()
})

t.test('topic administration', async (t) => {
  const broker = await startBroker(t)
  const c = await connect(broker.url)
  const created = await createTopic(c, 'orders', 3, { 'retention.ms': '3600000' })
  t.equal(created.error, null)
  t.equal(created.topicId!.length, 16)
  t.equal((await createTopic(c, 'orders')).error?.code, ErrorCode.TOPIC_ALREADY_EXISTS)
  t.equal((await createTopic(c, 'bad name!')).error?.code, ErrorCode.INVALID_TOPIC_EXCEPTION)
  t.equal((await createTopic(c, 'x', 0, { 'retention.ms': 'soon' })).error?.code, ErrorCode.INVALID_CONFIG)
  t.equal((await createTopic(c, 'y', 1, { 'no.such.config': '1' })).error?.code, ErrorCode.INVALID_CONFIG)
  const rf = await c.call({ createTopics: { topics: [{ name: 'z', partitions: 1, replicationFactor: 3 }] } })
  t.equal(rf.createTopics!.topics![0].error?.code, ErrorCode.INVALID_REPLICATION_FACTOR)

  const md = (await c.call({ metadata: { topics: ['orders', 'missing'] } })).metadata!
  t.equal(md.topics![0].partitions!.length, 3)
  t.ok(md.topics![0].partitions!.every((p) => p.leaderId === 0 && p.leaderEpoch! >= 1), 'every partition elected its leader')
  t.equal(md.topics![1].error?.code, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)

  const resource = { type: bitacora.ConfigResourceType.TOPIC, name: 'orders' }
  const described = (await c.call({ describeConfigs: { resources: [{ resource, keys: ['retention.ms', 'cleanup.policy'] }] } })).describeConfigs!
  t.same(described.results![0].entries!.map((e) => [e.name, e.value, e.isDefault]), [['retention.ms', '3600000', false], ['cleanup.policy', 'delete', true]])
  const altered = (await c.call({ alterConfigs: { resources: [{ resource, set: { 'cleanup.policy': 'compact' }, reset: ['retention.ms'] }] } })).alterConfigs!
  t.equal(altered.results![0].error, null)
  const after = (await c.call({ describeConfigs: { resources: [{ resource, keys: ['retention.ms', 'cleanup.policy'] }] } })).describeConfigs!
  t.same(after.results![0].entries!.map((e) => e.value), ['604800000', 'compact'])
  const badAlter = (await c.call({ alterConfigs: { resources: [{ resource, set: { 'cleanup.policy': 'shred' } }] } })).alterConfigs!
  t.equal(badAlter.results![0].error?.code, ErrorCode.INVALID_CONFIG)

  const deleted = (await c.call({ deleteTopics: { names: ['orders', 'missing'] } })).deleteTopics!
  t.equal(deleted.topics![0].error, null)
  t.equal(deleted.topics![1].error?.code, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
  t.equal((await c.call({ metadata: { topics: ['orders'] } })).metadata!.topics![0].error?.code, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
  const recreated = await createTopic(c, 'orders', 1)
  t.equal(recreated.error, null, 'a deleted topic can be created again')
  t.same(await fetchAll(c, 'orders', 0), [], 'and starts empty')
  c.close()
})

t.test('produce with acks 0, 1 and all; fetch and list offsets', async (t) => {
  const broker = await startBroker(t)
  const c = await connect(broker.url)
  await createTopic(c, 'events', 2)
  const T = Date.now() + 60_000 // after the partition's LeaderChange batch
  const batch = (values: string[], timestamp = T) =>
    codec.encodeBatch(values.map((v, i) => ({ key: utf8(`k${i}`), value: utf8(v), timestamp: timestamp + i, headers: [{ key: 'h', value: null }] })))
  const all = await produce(c, 'events', 1, batch(['a', 'b']), -1)
  t.equal(all.error, null)
  const one = await produce(c, 'events', 1, batch(['c'], T + 4_000), 1)
  t.equal(one.baseOffset, all.baseOffset! + 2, 'offsets continue')
  // acks=0 gets no response: send it, then prove it landed with a later acks=all.
  c.ws.send((await import('../../src/protocol/index.js')).encodeRequest({
    correlationId: 999_999, produce: { acks: 0, topics: [{ name: 'events', partitions: [{ index: 1, records: batch(['d'], T + 5_000) }] }] },
  }))
  const last = await produce(c, 'events', 1, batch(['e'], T + 6_000), -1)
  t.equal(last.baseOffset, one.baseOffset! + 2, 'the acks=0 batch was appended in order')

  for (const compression of ['gzip', 'lz4', 'snappy'] as const) {
    const compressed = await codec.encodeBatchAsync([{ value: utf8(compression), timestamp: T + 7_000 }], { compression })
    t.equal((await produce(c, 'events', 0, compressed)).error, null, `${compression} batch accepted`)
  }
  t.same((await fetchAll(c, 'events', 0)).map((r) => text(r.value)), ['gzip', 'lz4', 'snappy'], 'compressed batches stored and served as sent')

  const records = await fetchAll(c, 'events', 1)
  t.same(records.map((r) => text(r.value)), ['a', 'b', 'c', 'd', 'e'])
  t.same(records[0].headers.map((h) => [h.key, h.value]), [['h', null]])
  t.same((await fetchAll(c, 'events', 1, records[3].offset)).map((r) => text(r.value)), ['d', 'e'], 'a fetch mid-log starts at its offset')

  const lo = (await c.call({
    listOffsets: { topics: [{ name: 'events', partitions: [{ index: 1, timestamp: -2 }, { index: 1, timestamp: -1 }, { index: 1, timestamp: T + 4_000 }, { index: 1, timestamp: T + 99_999 }] }] },
  })).listOffsets!.topics![0].partitions!
  t.equal(lo[0].offset, 0, 'earliest')
  t.equal(lo[1].offset, records[4].offset + 1, 'latest is the high watermark')
  t.equal(lo[2].offset, records[2].offset, 'by timestamp: the first record at or after it')
  t.equal(lo[3].offset, -1, 'no record that late')

  const hw = lo[1].offset!
  const beyond = (await c.call({ fetch: { topics: [{ name: 'events', partitions: [{ index: 1, fetchOffset: hw + 10 }] }] } })).fetch!
  t.equal(beyond.topics![0].partitions![0].error?.code, ErrorCode.OFFSET_OUT_OF_RANGE)
  c.close()
})

t.test('produce requests on one connection append in the order they arrived, however long each takes to validate', async (t) => {
  const broker = await startBroker(t)
  const c = await connect(broker.url)
  await createTopic(c, 'ordered', 1)
  const T = Date.now() + 60_000
  // A: twelve gzip batches (each validated through the platform's asynchronous decompressor);
  // B and C: one uncompressed batch each, validated at once. Sent back to back, not awaited.
  const gz = await Promise.all(Array.from({ length: 12 }, (_, i) => codec.encodeBatchAsync([{ value: utf8(`a${i}`), timestamp: T }], { compression: 'gzip' })))
  const a = new Uint8Array(gz.reduce((n, b) => n + b.length, 0))
  gz.reduce((at, b) => (a.set(b, at), at + b.length), 0)
  const results = await Promise.all([
    produce(c, 'ordered', 0, a, 1),
    produce(c, 'ordered', 0, codec.encodeBatch([{ value: utf8('b'), timestamp: T }]), 1),
    produce(c, 'ordered', 0, codec.encodeBatch([{ value: utf8('c'), timestamp: T }]), 1),
  ])
  t.same(results.map((r) => r.error), [null, null, null])
  t.ok(results[0].baseOffset! < results[1].baseOffset! && results[1].baseOffset! < results[2].baseOffset!, `offsets in arrival order: ${results.map((r) => r.baseOffset)}`)
  await highWatermarkReaches(c, 'ordered', 0, results[2].baseOffset! + 1)
  const values = (await fetchAll(c, 'ordered', 0)).map((r) => text(r.value))
  t.same(values, [...gz.map((_, i) => `a${i}`), 'b', 'c'])
  c.close()
})

t.test("one connection's slow validation holds up neither another connection's produce nor its own other partitions", async (t) => {
  const broker = await startBroker(t)
  const slow = await connect(broker.url)
  const quick = await connect(broker.url)
  await createTopic(slow, 'crowded', 2)
  const T = Date.now() + 60_000
  // Highly compressible gzip batches: a small frame that takes long to decompress and check.
  const gz = await codec.encodeBatchAsync(Array.from({ length: 100 }, () => ({ value: new Uint8Array(100 * 1024), timestamp: T })), { compression: 'gzip' })
  const heavy = new Uint8Array(gz.length * 8)
  for (let i = 0; i < 8; i++) heavy.set(gz, i * gz.length)
  const tiny = (v: string) => codec.encodeBatch([{ value: utf8(v), timestamp: T }])
  const answered: string[] = []
  const send = (name: string, c: RawClient, index: number, records: Uint8Array) =>
    produce(c, 'crowded', index, records, 1).then((r) => (answered.push(name), r))
  const heavyResult = send('heavy', slow, 0, heavy)
  await new Promise((r) => setTimeout(r, 30)) // the heavy request is being validated
  const results = await Promise.all([
    heavyResult,
    send('other partition', slow, 1, tiny('other partition')),
    send('other connection', quick, 0, tiny('other connection')),
  ])
  t.same(results.map((r) => r.error), [null, null, null])
  t.same(answered.slice(-1), ['heavy'], `the quick ones were answered first: ${answered}`)
  t.ok(results[2].baseOffset! < results[0].baseOffset!, "the other connection's batch was appended before the one still validating")
  // acks=1 answers before the high watermark covers the batch: wait for it before reading.
  await highWatermarkReaches(quick, 'crowded', 0, results[0].baseOffset! + 800)
  t.same((await fetchAll(quick, 'crowded', 0)).map((r) => (r.value!.length > 100 ? 'heavy' : text(r.value))), ['other connection', ...Array(800).fill('heavy')])
  slow.close()
  quick.close()
})

t.test('a long-poll fetch returns as soon as data arrives', async (t) => {
  const broker = await startBroker(t)
  const c = await connect(broker.url)
  await createTopic(c, 'poll')
  const hw = await latestOffset(c, 'poll', 0)
  const started = Date.now()
  const pending = c.call({ fetch: { maxWaitMs: 20_000, minBytes: 1, topics: [{ name: 'poll', partitions: [{ index: 0, fetchOffset: hw }] }] } })
  await new Promise((r) => setTimeout(r, 200))
  const producer = await connect(broker.url)
  await produce(producer, 'poll', 0, codec.encodeBatch([{ value: utf8('wake') }]))
  const p = (await pending).fetch!.topics![0].partitions![0]
  t.ok(p.records!.length > 0, 'the parked fetch got the new batch')
  t.ok(Date.now() - started < 10_000, 'long before its max wait')
  c.close()
  producer.close()
})

t.test("fetch answers a slow reader has not taken keep their bytes while other connections fetch", async (t) => {
  // The broker reads fetches into reused buffers and writes each answer's frame in place
  // (src/broker/partition/read-buffers.ts): a buffer must not be reused while its answer waits to be sent.
  const broker = await startBroker(t)
  const c = await connect(broker.url)
  await createTopic(c, 'held')
  await latestOffset(c, 'held', 0)
  for (let i = 0; i < 40; i++) await produce(c, 'held', 0, codec.encodeBatch([{ value: new Uint8Array(100 * 1024).fill(i) }])) // acks=all: below the high watermark
  const fetchOne = (offset: number) => ({ fetch: { topics: [{ name: 'held', partitions: [{ index: 0, fetchOffset: offset, partitionMaxBytes: 1 }] }] } })
  const batches: Array<{ offset: number; bytes: Uint8Array }> = []
  const end = await latestOffset(c, 'held', 0)
  for (let offset = end - 40; offset < end; offset++) {
    const records = (await c.call(fetchOne(offset))).fetch!.topics![0].partitions![0].records!
    t.equal(splitBatches(records, true).length, 1)
    batches.push({ offset, bytes: Uint8Array.from(records) })
  }

  const slow = await connect(broker.url)
  const socket = (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket
  const answers: Buffer[] = []
  slow.ws.on('message', (d: Buffer) => answers.push(d))
  const asked = Array.from({ length: 200 }, (_, i) => batches[i % batches.length])
  asked.forEach((b, i) => slow.ws.send(encodeRequest({ correlationId: 10_000 + i, ...fetchOne(b.offset) })))
  socket.pause()
  await new Promise((r) => setTimeout(r, 1000))
  t.ok(answers.length < 100, `the slow reader really stopped reading (${answers.length} of 200 answers read)`)
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < batches.length; i++) await c.call(fetchOne(batches[(i + round * 7) % batches.length].offset))
  }
  socket.resume()
  for (let i = 0; i < 300 && answers.length < 200; i++) await new Promise((r) => setTimeout(r, 50))
  t.equal(answers.length, 200, 'every fetch answered once the reader resumed')
  const wrong = answers.filter((a) => {
    try {
      const r = decodeResponse(a, 1 << 30)
      const records = r.fetch?.topics?.[0]?.partitions?.[0]?.records
      const want = asked[r.correlationId - 10_000]
      return want === undefined || !records || Buffer.compare(Buffer.from(records), Buffer.from(want.bytes)) !== 0
    } catch {
      return true // overwritten past decoding
    }
  })
  t.equal(wrong.length, 0, 'every answer holds exactly the batch it asked for')
  c.close()
  slow.close()
})

t.test('everything acknowledged with acks=all survives SIGKILL and a restart', async (t) => {
  const first = await startBroker(t)
  const c = await connect(first.url)
  await createTopic(c, 'durable', 2)
  const expected: string[] = []
  for (let i = 0; i < 50; i++) {
    const values = Array.from({ length: 20 }, (_, j) => `r${i}-${j}`)
    const r = await produce(c, 'durable', i % 2, codec.encodeBatch(values.map((v) => ({ value: utf8(v) }))), -1)
    t.equal(r.error, null)
    if (i % 2 === 0) expected.push(...values)
  }
  await first.stop('SIGKILL')
  const second = await startBroker(t, { dataDir: first.dataDir })
  const c2 = await connect(second.url)
  await latestOffset(c2, 'durable', 0)
  const got = await fetchAll(c2, 'durable', 0)
  t.same(got.map((r) => text(r.value)), expected, 'partition 0 intact after SIGKILL')
  const more = await produce(c2, 'durable', 0, codec.encodeBatch([{ value: utf8('after') }]))
  t.equal(more.error, null, 'and writable at once')
  await second.stop('SIGTERM')
  const third = await startBroker(t, { dataDir: first.dataDir })
  const c3 = await connect(third.url)
  await latestOffset(c3, 'durable', 0)
  t.same((await fetchAll(c3, 'durable', 0)).map((r) => text(r.value)), [...expected, 'after'], 'and after a clean restart')
  c2.close()
  c3.close()
})

t.test('retention and compaction run on their own below the high watermark', async (t) => {
  const broker = await startBroker(t, { args: ['--log-cleanup-interval-ms', '200'] })
  const c = await connect(broker.url)
  const segment = { 'segment.bytes': '4096' }
  await createTopic(c, 'short', 1, { ...segment, 'retention.bytes': '8192' })
  await createTopic(c, 'table', 1, { ...segment, 'cleanup.policy': 'compact' })
  for (let i = 0; i < 40; i++) {
    await produce(c, 'short', 0, codec.encodeBatch([{ value: new Uint8Array(1000).fill(i) }]))
    await produce(c, 'table', 0, codec.encodeBatch([{ key: utf8(`k${i % 4}`), value: utf8(`v${i}`) }, { key: utf8('pad'), value: new Uint8Array(500) }]))
  }
  const earliest = async (topic: string) =>
    (await c.call({ listOffsets: { topics: [{ name: topic, partitions: [{ index: 0, timestamp: -2 }] }] } })).listOffsets!.topics![0].partitions![0].offset!
  for (let i = 0; i < 100 && (await earliest('short')) === 0; i++) await new Promise((r) => setTimeout(r, 100))
  t.ok((await earliest('short')) > 0, 'retention.bytes deleted the oldest segments')
  let table: DecodedRecord[] = []
  for (let i = 0; i < 100; i++) {
    table = await fetchAll(c, 'table', 0)
    if (table.length < 80) break
    await new Promise((r) => setTimeout(r, 100))
  }
  t.ok(table.length < 80, `compaction removed superseded records (${table.length} of 80 left)`)
  const latest = new Map(table.map((r) => [text(r.key), text(r.value)]))
  t.same([latest.get('k0'), latest.get('k1'), latest.get('k2'), latest.get('k3')], ['v36', 'v37', 'v38', 'v39'], 'the latest value of every key survives')
  c.close()
})
