// Bad input of every kind against a real broker: each gets a typed error or a close with a
// reason; afterwards a valid request on a new connection succeeds and earlier data is intact.
import t, { type Test } from 'tap'
import { readFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import WebSocket from 'ws'
import { loadCodec, splitBatches } from '../../src/codec/index.js'
import { encodeRequest, ErrorCode } from '../../src/protocol/index.js'
import { fixCrc, rawBatch, rawRecord } from '../codec/raw-batch.js'
import { connect, startBroker, type RawClient } from './broker-process.js'

const codec = await loadCodec()
const utf8 = (s: string) => new TextEncoder().encode(s)

const broker = await startBroker(t, { args: ['--max-frame-bytes', String(2 * 1024 * 1024), '--max-batch-bytes', String(1024 * 1024), '--max-in-flight', '4'] })
const setup = await connect(broker.url)
await setup.call({ createTopics: { topics: [{ name: 'kept', partitions: 1 }] } })
const firstProduce = await setup.call({
  produce: { acks: -1, topics: [{ name: 'kept', partitions: [{ index: 0, records: codec.encodeBatch([{ value: utf8('precious') }]) }] }] },
})
t.equal(firstProduce.produce!.topics![0].partitions![0].error, null)

/** After each bad input: a new connection works and the first record is still there. */
async function stillHealthy(t: Test): Promise<void> {
  const c = await connect(broker.url)
  const r = await c.call({ fetch: { topics: [{ name: 'kept', partitions: [{ index: 0, fetchOffset: 0 }] }] } })
  const bytes = r.fetch!.topics![0].partitions![0].records!
  const values = splitBatches(bytes).flatMap(([s, e]) => {
    const b = codec.decodeBatch(bytes.subarray(s, e), { contiguous: false })
    return b.header.control ? [] : b.records.map((rec) => new TextDecoder().decode(rec.value!))
  })
  t.equal(values[0], 'precious', 'earlier data intact, new connection served')
  c.close()
}

async function producePartition(c: RawClient, records: Uint8Array, topic = 'kept', index = 0) {
  const r = await c.call({ produce: { acks: -1, topics: [{ name: topic, partitions: [{ index, records }] }] } })
  return r.produce!.topics![0].partitions![0]
}

t.test('random bytes and nonsense protobuf get typed errors; the connection stays usable', async (t) => {
  const c = await connect(broker.url)
  const replies: number[] = []
  c.ws.on('message', () => replies.push(1))
  c.ws.send(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]))
  c.ws.send(encodeRequest({ correlationId: 77 })) // valid protobuf, no API
  await new Promise((r) => setTimeout(r, 300))
  t.equal(replies.length, 2, 'each bad frame got an answer')
  const nonsense = await c.call({ fetch: { maxBytes: 4_000_000_000, topics: [{ name: 'kept', partitions: [{ index: -5, fetchOffset: -9 }] }] } })
  t.equal(nonsense.fetch!.topics![0].partitions![0].error?.code, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'a negative partition is unknown')
  const acks = await c.call({ produce: { acks: 7, topics: [{ name: 'kept', partitions: [{ index: 0, records: new Uint8Array(70) }] }] } })
  t.equal(acks.produce!.topics![0].partitions![0].error?.code, ErrorCode.INVALID_REQUIRED_ACKS)
  t.equal((await c.call({ metadata: {} })).error, null, 'the same connection still works')
  c.close()
  await stillHealthy(t)
})

t.test('text frames and oversized frames close the connection with a reason', async (t) => {
  const a = await connect(broker.url)
  a.ws.send('hello')
  t.same(await a.closed, { code: 1003, reason: 'Bitácora speaks binary protobuf frames only' })
  const b = await connect(broker.url)
  b.ws.send(new Uint8Array(3 * 1024 * 1024))
  t.equal((await b.closed).code, 1009, 'message too big')
  await stillHealthy(t)
})

t.test('unknown topics and partitions', async (t) => {
  const c = await connect(broker.url)
  const batch = codec.encodeBatch([{ value: utf8('x') }])
  t.equal((await producePartition(c, batch, 'nope')).error?.code, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
  t.equal((await producePartition(c, batch, 'kept', 9)).error?.code, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
  c.close()
  await stillHealthy(t)
})

t.test('corrupt and malformed batches are refused, nothing is appended', async (t) => {
  const c = await connect(broker.url)
  const good = codec.encodeBatch([{ value: utf8('a') }, { value: utf8('b') }])
  const badCrc = good.slice()
  badCrc[good.length - 1] ^= 0xff
  t.equal((await producePartition(c, badCrc)).error?.code, ErrorCode.CORRUPT_MESSAGE, 'bad CRC')
  const malformed = rawBatch([...rawRecord({ offsetDelta: 0 }), 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0, 0], { count: 2, lastOffsetDelta: 1 })
  t.equal((await producePartition(c, malformed)).error?.code, ErrorCode.INVALID_RECORD, 'valid CRC over a malformed records section')
  const truncated = good.subarray(0, good.length - 5)
  t.equal((await producePartition(c, truncated)).error?.code, ErrorCode.INVALID_RECORD, 'truncated batch')
  const control = codec.encodeBatch([{ key: new Uint8Array(4), value: null }], { control: true })
  t.equal((await producePartition(c, control)).error?.code, ErrorCode.INVALID_RECORD, 'producers may not write control batches')
  const magic = good.slice()
  magic[16] = 1
  fixCrc(magic)
  t.equal((await producePartition(c, magic)).error?.code, ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT, 'old message format')
  const big = codec.encodeBatch([{ value: new Uint8Array(1100 * 1024) }])
  t.equal((await producePartition(c, big)).error?.code, ErrorCode.MESSAGE_TOO_LARGE, 'batch over max.message.bytes')
  const lo = await c.call({ listOffsets: { topics: [{ name: 'kept', partitions: [{ index: 0, timestamp: -1 }] }] } })
  t.equal(lo.listOffsets!.topics![0].partitions![0].offset, 2, 'none of them was appended')
  c.close()
  await stillHealthy(t)
})

t.test('a compression bomb is refused before it is inflated', async (t) => {
  // 64 MiB of zeros in one record: a ~64 KiB gzip payload over the 32 MiB decompression limit.
  const record = rawRecord({ offsetDelta: 0, value: [] })
  const section = new Uint8Array(64 * 1024 * 1024)
  section.set(record)
  const bomb = rawBatch(gzipSync(section, { level: 9 }), { count: 1, lastOffsetDelta: 0, attributes: 1 })
  const c = await connect(broker.url)
  t.equal((await producePartition(c, bomb)).error?.code, ErrorCode.MESSAGE_TOO_LARGE)
  c.close()
  await stillHealthy(t)
})

t.test('too many requests in flight on one connection', async (t) => {
  const c = await connect(broker.url)
  const parked = Array.from({ length: 4 }, () =>
    c.call({ fetch: { maxWaitMs: 1500, minBytes: 1 << 20, topics: [{ name: 'kept', partitions: [{ index: 0, fetchOffset: 2 }] }] } }),
  )
  const refused = await c.call({ metadata: {} })
  t.equal(refused.error?.code, ErrorCode.TOO_MANY_IN_FLIGHT)
  await Promise.all(parked)
  t.equal((await c.call({ metadata: {} })).error, null, 'served again once the parked fetches answered')
  c.close()
})

t.test('page origins: localhost admitted, others refused with 403', async (t) => {
  const local = await connect(broker.url, { origin: 'http://localhost:5173' })
  t.equal((await local.call({ metadata: {} })).error, null)
  local.close()
  const status = await new Promise<number>((resolve) => {
    const ws = new WebSocket(broker.url, { origin: 'https://evil.example' })
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
    ws.on('error', () => undefined)
  })
  t.equal(status, 403)
})

t.teardown(() => setup.close())

t.test('a client that stops reading is back-pressured, not buffered without bound', async (t) => {
  // Its own broker, with the default in-flight limit (the shared one allows 4).
  const wide = await startBroker(t)
  const c = await connect(wide.url)
  await c.call({ createTopics: { topics: [{ name: 'wide', partitions: 1 }] } })
  for (let i = 0; i < 3; i++) {
    const r = await producePartition(c, codec.encodeBatch([{ value: new Uint8Array(900 * 1024).fill(i) }]), 'wide')
    t.equal(r.error, null)
  }
  const rssMiB = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${wide.child.pid}/status`, 'utf8'))![1]) / 1024
  const before = rssMiB()
  // 200 fetches of ~1.8 MiB each (360 MiB of answers), then stop reading.
  const socket = (c.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket
  let answered = 0
  let answerBytes = 0
  c.ws.on('message', (d: Buffer) => { answered++; answerBytes += d.length })
  for (let i = 0; i < 200; i++) {
    c.ws.send(encodeRequest({ correlationId: 10_000 + i, fetch: { maxBytes: 2 * 1024 * 1024, topics: [{ name: 'wide', partitions: [{ index: 0, fetchOffset: 0 }] }] } }))
  }
  socket.pause()
  await new Promise((r) => setTimeout(r, 3000))
  const grown = rssMiB() - before
  t.ok(answered < 50, `the client really stopped reading (${answered} answers read)`)
  t.ok(grown < 150, `broker memory grew ${grown.toFixed(0)} MiB while the client did not read (unbounded: ~360 MiB)`)
  const other = await connect(wide.url)
  t.equal((await other.call({ metadata: {} })).error, null, 'other connections are served meanwhile')
  other.close()
  socket.resume()
  for (let i = 0; i < 300 && answered < 200; i++) await new Promise((r) => setTimeout(r, 100))
  t.equal(answered, 200, 'once it reads again, every fetch is answered')
  t.ok(answerBytes > 300 * 1024 * 1024, `answers totalled ${(answerBytes / 1048576).toFixed(0)} MiB`)
  c.close()
})
