// Idempotent produce against a real broker process, in raw protocol frames: producer ids from
// InitProducerId, a produce request replayed byte for byte (one copy in the log, checked with
// `bitacora log dump`), refused epochs and sequences, the state across a restart and its expiry.
import t from 'tap'
import { createClient } from '../../src/client/node.js'
import { loadCodec } from '../../src/codec/index.js'
import { decodeResponse, encodeRequest, ErrorCode, type Response } from '../../src/protocol/index.js'
import { connect, startBroker, tempDataDir, type RawClient } from './broker-process.js'
import { runCli } from './cli-process.js'
import { replicaBatches } from './replica-dumps.js'

const codec = await loadCodec()
const utf8 = (s: string) => new TextEncoder().encode(s)

function batch(producerId: number, producerEpoch: number, baseSequence: number, count = 1): Uint8Array {
  const records = Array.from({ length: count }, (_, i) => ({ value: utf8(`r${baseSequence + i}`) }))
  return codec.encodeBatch(records, { producerId, producerEpoch, baseSequence })
}

async function produce(c: RawClient, topic: string, records: Uint8Array) {
  const r = await c.call({ produce: { acks: -1, timeoutMs: 10_000, topics: [{ name: topic, partitions: [{ index: 0, records }] }] } })
  return r.produce!.topics![0].partitions![0]
}

const errorName = (p: { error?: { code?: number | null } | null }) => ErrorCode[p.error?.code ?? 0]

async function initProducerId(c: RawClient, producerId = -1, producerEpoch = -1): Promise<{ id: number; epoch: number }> {
  const r = await c.call({ initProducerId: { producerId, producerEpoch } })
  if (r.error) throw new Error(`InitProducerId: ${r.error.message}`)
  return { id: Number(r.initProducerId!.producerId), epoch: r.initProducerId!.producerEpoch ?? 0 }
}

t.test('InitProducerId: a new id per call at epoch 0; the current id and epoch get the next epoch', async (t) => {
  const broker = await startBroker(t)
  const c = await connect(broker.url)
  t.teardown(() => c.close())
  const a = await initProducerId(c)
  const b = await initProducerId(c)
  t.equal(a.epoch, 0)
  t.not(a.id, b.id, 'every call a new producer id')
  t.same(await initProducerId(c, a.id, 0), { id: a.id, epoch: 1 }, 'KIP-360: the epoch bumped')
  const bad = await c.call({ initProducerId: { producerId: a.id, producerEpoch: -1 } })
  t.equal(bad.error?.code, ErrorCode.INVALID_REQUEST, 'an id without an epoch is refused')
})

t.test('a produce request replayed byte for byte gets the same offsets, and the log holds one copy', async (t) => {
  const broker = await startBroker(t)
  const c = await connect(broker.url)
  t.teardown(() => c.close())
  await c.call({ createTopics: { topics: [{ name: 'replayed', partitions: 1 }] } })
  const { id } = await initProducerId(c)
  const before = await produce(c, 'replayed', batch(id, 0, 0, 3))
  // The same frame twice, correlation id and all, as a client's retry after a lost answer sends it.
  const frame = encodeRequest({
    correlationId: 4242,
    produce: { acks: -1, timeoutMs: 10_000, topics: [{ name: 'replayed', partitions: [{ index: 0, records: batch(id, 0, 3, 2) }] }] },
  })
  const answers: Response[] = []
  c.ws.on('message', (data) => {
    const r = decodeResponse(data as Buffer, 1 << 30)
    if (r.correlationId === 4242) answers.push(r)
  })
  c.ws.send(frame)
  c.ws.send(frame)
  await new Promise<void>((resolve) => {
    const check = () => (answers.length === 2 ? resolve() : setTimeout(check, 10))
    check()
  })
  const [first, second] = answers.map((r) => r.produce!.topics![0].partitions![0])
  t.equal(errorName(first), 'NONE')
  t.equal(errorName(second), 'NONE')
  t.equal(Number(first.baseOffset), Number(before.baseOffset) + 3, 'written after the first batch')
  t.same(second.batchBaseOffsets!.map(Number), first.batchBaseOffsets!.map(Number), 'the same offsets')
  t.equal(Number(second.baseOffset), Number(first.baseOffset))
  const batches = await replicaBatches(broker.dataDir, 'replayed', 0)
  t.same(batches.map((b) => b.split(' ')[0]).filter((r) => r !== '0..0'), ['1..3', '4..5'], 'one copy of each batch (after the leader\'s own control batch)')
})

t.test('refused: an older epoch, a gap, an unknown producer past sequence 0, a negative sequence, a producer id never handed out; nothing appended', async (t) => {
  const broker = await startBroker(t)
  const c = await connect(broker.url)
  t.teardown(() => c.close())
  await c.call({ createTopics: { topics: [{ name: 'refusals', partitions: 1 }] } })
  const { id } = await initProducerId(c)
  t.equal(errorName(await produce(c, 'refusals', batch(id, 0, 0, 2))), 'NONE')
  const bumped = await initProducerId(c, id, 0)
  t.equal(errorName(await produce(c, 'refusals', batch(id, bumped.epoch, 0))), 'NONE', 'the bumped epoch starts at 0')
  const before = await replicaBatches(broker.dataDir, 'refusals', 0)
  t.equal(errorName(await produce(c, 'refusals', batch(id, 0, 2))), 'INVALID_PRODUCER_EPOCH')
  t.equal(errorName(await produce(c, 'refusals', batch(id, bumped.epoch, 5))), 'OUT_OF_ORDER_SEQUENCE_NUMBER')
  const other = await initProducerId(c)
  t.equal(errorName(await produce(c, 'refusals', batch(other.id, 0, 7))), 'UNKNOWN_PRODUCER_ID')
  t.equal(errorName(await produce(c, 'refusals', batch(other.id, 0, -3))), 'INVALID_RECORD')
  // An id beyond every block the controller handed out (blocks are 1,000 ids): forged, whatever its sequence.
  const forged = other.id + 1_000_000
  const refused = await produce(c, 'refusals', batch(forged, 0, 0))
  t.equal(errorName(refused), 'INVALID_PRODUCER_ID_MAPPING', 'a producer id no broker was given')
  t.match(refused.error?.message, new RegExp(`producer id ${forged} was never handed out`))
  const bump = await c.call({ initProducerId: { producerId: forged, producerEpoch: 0 } })
  t.equal(bump.error?.code, ErrorCode.INVALID_PRODUCER_ID_MAPPING, 'and InitProducerId gives it no epoch')
  t.same(await replicaBatches(broker.dataDir, 'refusals', 0), before, 'nothing refused was appended')
})

t.test('producer state survives a restart, and an idle producer expires: UNKNOWN_PRODUCER_ID, then a new epoch goes on', async (t) => {
  const dataDir = tempDataDir(t)
  const args = ['--producer-id-expiration-ms', '1500']
  let broker = await startBroker(t, { dataDir, args })
  let c = await connect(broker.url)
  await c.call({ createTopics: { topics: [{ name: 'kept', partitions: 1 }] } })
  const { id } = await initProducerId(c)
  const written = await produce(c, 'kept', batch(id, 0, 0, 4))
  c.close()
  await broker.stop('SIGKILL')
  broker = await startBroker(t, { dataDir, args })
  c = await connect(broker.url)
  t.teardown(() => c.close())
  // A retry right after the restart: the state was rebuilt from the log (the leader may still be opening: retry until it answers).
  let retry = await produce(c, 'kept', batch(id, 0, 0, 4))
  for (let i = 0; i < 100 && errorName(retry) !== 'NONE'; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    retry = await produce(c, 'kept', batch(id, 0, 0, 4))
  }
  t.same(retry.batchBaseOffsets!.map(Number), written.batchBaseOffsets!.map(Number), 'still a duplicate after the restart')
  t.equal(errorName(await produce(c, 'kept', batch(id, 0, 4))), 'NONE')
  // Idle past the expiration, the producer is forgotten: a retry of its last batch (a duplicate
  // while it is known, so asking changes nothing) then gets UNKNOWN_PRODUCER_ID.
  let answer = 'NONE'
  const deadline = Date.now() + 10_000
  while (answer === 'NONE' && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    answer = errorName(await produce(c, 'kept', batch(id, 0, 4)))
  }
  t.equal(answer, 'UNKNOWN_PRODUCER_ID')
  const again = await initProducerId(c, id, 0)
  t.equal(errorName(await produce(c, 'kept', batch(id, again.epoch, 0))), 'NONE', 're-initialised, it writes again')
})

t.test('the client: a producer whose state expired while idle bumps its epoch on its own and goes on, each record once and in order', async (t) => {
  const expirationMs = 1000
  const broker = await startBroker(t, { args: ['--producer-id-expiration-ms', String(expirationMs)] })
  const client = createClient({ brokers: [broker.url], clientId: 'expiry' })
  t.teardown(() => client.close())
  await client.admin().createTopics([{ topic: 'idle', partitions: 1 }])
  const producer = await client.producer({ lingerMs: 0 }) // idempotent: the default with acks all
  const sent = async (from: number, n: number) => Promise.all(Array.from({ length: n }, (_, i) => producer.send({ topic: 'idle', partition: 0, value: `v${from + i}` })))
  const before = await sent(0, 50)
  // Idle for twice the expiration (the scenario, not a wait for a result): the leader forgets the producer.
  await new Promise((resolve) => setTimeout(resolve, 2 * expirationMs))
  const after = await sent(50, 50)
  await producer.close()
  const offsets = [...before, ...after].map((m) => m.offset)
  t.same(offsets, [...offsets].sort((a, b) => a - b), 'acknowledged at rising offsets, in send order')
  const dump = await runCli(['log', 'dump', broker.dataDir, '--topic', 'idle', '-p', '0', '--json', '--records'])
  const lines = dump.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>)
  const values = lines.filter((l) => l.type === 'record').map((l) => String(l.value)).filter((v) => /^v\d+$/.test(v)) // not the control records
  t.same(values, Array.from({ length: 100 }, (_, i) => `v${i}`), 'every record once, in send order')
  const epochs = [...new Set(lines.filter((l) => l.type === 'batch' && Number(l.producerId) >= 0).map((l) => Number(l.producerEpoch)))]
  t.same(epochs, [0, 1], 'the batches after the expiry carry the bumped epoch')
})

t.test('snapshots at segment rolls: after a SIGKILL the restarted broker folds only the log past the newest, and still knows every retry', async (t) => {
  const dataDir = tempDataDir(t)
  let broker = await startBroker(t, { dataDir })
  let c = await connect(broker.url)
  await c.call({ createTopics: { topics: [{ name: 'rolled', partitions: 1, configs: { 'segment.bytes': '4096' } }] } })
  const { id } = await initProducerId(c)
  // Batches of two ~900-byte records: two fit a 4096-byte segment, a third rolls it. Ten batches
  // roll at the 3rd, 5th, 7th and 9th (each followed by a snapshot); the 10th is the tail past the newest.
  const big = (seq: number) => codec.encodeBatch([0, 1].map((i) => ({ value: utf8(`r${seq + i}-${'x'.repeat(900)}`) })), { producerId: id, producerEpoch: 0, baseSequence: seq })
  const written = []
  for (let i = 0; i < 10; i++) {
    const r = await produce(c, 'rolled', big(2 * i))
    t.equal(errorName(r), 'NONE', `batch ${i} written`)
    written.push(Number(r.batchBaseOffsets![0]))
  }
  c.close()
  await broker.stop('SIGKILL')
  broker = await startBroker(t, { dataDir })
  c = await connect(broker.url)
  t.teardown(() => c.close())
  let retry = await produce(c, 'rolled', big(18))
  for (let i = 0; i < 100 && errorName(retry) !== 'NONE'; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    retry = await produce(c, 'rolled', big(18))
  }
  t.same(retry.batchBaseOffsets!.map(Number), [written[9]], 'the last batch is still a duplicate after the crash')
  t.same((await produce(c, 'rolled', big(10))).batchBaseOffsets!.map(Number), [written[5]], 'and one from before the newest snapshot')
  // The one data partition (the metadata log keeps no producer state): its line at the restart.
  const lines = broker.stderr().split('\n').filter((l) => l.includes('producer state from a snapshot')).map((l) => JSON.parse(l) as { snapshotEnd: number; logEnd: number })
  t.same(lines.map((l) => l.snapshotEnd), [written[9]], 'the state came from the snapshot at the 9th batch\'s end')
  t.ok(lines.every((l) => l.logEnd > l.snapshotEnd), 'only the log past it was folded')
  t.equal(errorName(await produce(c, 'rolled', big(20))), 'NONE', 'the producer goes on')
})
