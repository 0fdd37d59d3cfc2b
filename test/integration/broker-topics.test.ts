// Topics on disk and their size limits: every legal name works (partition directories are
// named by topic id), data directories of the name-keyed layout are migrated on open, and a
// topic's max.message.bytes interacts with the broker's --max-batch-bytes as in Kafka.
import t from 'tap'
import { existsSync, readdirSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { loadCodec, splitBatches } from '../../src/codec/index.js'
import { bitacora, ErrorCode } from '../../src/protocol/index.js'
import { connect, startBroker, type RawClient } from './broker-process.js'

const codec = await loadCodec()
const hex = (id: Uint8Array) => Buffer.from(id).toString('hex')

async function createTopic(c: RawClient, name: string, partitions = 1, configs: Record<string, string> = {}) {
  return (await c.call({ createTopics: { topics: [{ name, partitions, configs }] } })).createTopics!.topics![0]
}

async function produce(c: RawClient, topic: string, records: Uint8Array) {
  const r = await c.call({ produce: { acks: -1, timeoutMs: 10_000, topics: [{ name: topic, partitions: [{ index: 0, records }] }] } })
  return r.produce!.topics![0].partitions![0]
}

/** The data records of partition 0, once the (restarted) leader serves them. */
async function values(c: RawClient, topic: string, want: number): Promise<string[]> {
  let out: string[] = []
  for (const deadline = Date.now() + 20_000; out.length < want && Date.now() < deadline; ) {
    const p = (await c.call({ fetch: { maxWaitMs: 200, topics: [{ name: topic, partitions: [{ index: 0, fetchOffset: 0 }] }] } })).fetch!.topics![0].partitions![0]
    if (p.error || !p.records?.length) continue
    out = splitBatches(p.records, true)
      .map(([s, e]) => codec.decodeBatch(p.records!.subarray(s, e)))
      .filter((b) => !b.header.control)
      .flatMap((b) => b.records.map((r) => new TextDecoder().decode(r.value!)))
  }
  return out
}

t.test('every legal topic name fits on disk; partition directories are named by topic id', async (t) => {
  const broker = await startBroker(t)
  const c = await connect(broker.url)
  const longest = 'a'.repeat(249)
  const created = await createTopic(c, longest, 12)
  t.equal(created.error, null, 'a 249-character name with 12 partitions')
  const id = hex(created.topicId!)
  const dirs = readdirSync(broker.dataDir).filter((d) => d.startsWith(id)).sort()
  t.same(dirs, Array.from({ length: 12 }, (_, p) => `${id}-${p}`).sort())
  t.equal((await produce(c, longest, codec.encodeBatch([{ value: new TextEncoder().encode('x') }]))).error, null, 'and takes writes')
  t.equal((await createTopic(c, 'b'.repeat(250))).error?.code, ErrorCode.INVALID_TOPIC_EXCEPTION, '250 characters are refused')
  const before = readdirSync(broker.dataDir).length
  t.equal((await createTopic(c, 'c'.repeat(250), 10)).error?.code, ErrorCode.INVALID_TOPIC_EXCEPTION)
  t.equal(readdirSync(broker.dataDir).length, before, 'a refused topic leaves no directory')
  const deleted = await c.call({ deleteTopics: { names: [longest] } })
  t.equal(deleted.deleteTopics!.topics![0].error, null)
  t.same(readdirSync(broker.dataDir).filter((d) => d.startsWith(id)), [], 'deleting it removes its directories')
  c.close()
})

t.test('a data directory of the name-keyed layout is migrated on open, its records intact', async (t) => {
  const first = await startBroker(t)
  const c = await connect(first.url)
  const created = await createTopic(c, 'legacy.topic', 1)
  t.equal((await produce(c, 'legacy.topic', codec.encodeBatch(['a', 'b'].map((v) => ({ value: new TextEncoder().encode(v) }))))).error, null)
  c.close()
  await first.stop('SIGTERM')
  const id = hex(created.topicId!)
  renameSync(join(first.dataDir, `${id}-0`), join(first.dataDir, `legacy.topic-0.${id}`)) // the layout before topic-id names

  const second = await startBroker(t, { dataDir: first.dataDir })
  t.ok(existsSync(join(first.dataDir, `${id}-0`)), 'renamed to the topic-id layout')
  t.notOk(existsSync(join(first.dataDir, `legacy.topic-0.${id}`)))
  const c2 = await connect(second.url)
  t.same(await values(c2, 'legacy.topic', 2), ['a', 'b'], 'records intact')
  c2.close()
})

t.test("max.message.bytes: the broker's --max-batch-bytes is the default, a topic may set more up to the frame limit, errors say which bit", async (t) => {
  const broker = await startBroker(t, { args: ['--max-batch-bytes', '100000'] })
  const c = await connect(broker.url)
  const batch = (bytes: number) => codec.encodeBatch([{ value: new Uint8Array(bytes) }])
  await createTopic(c, 'plain')
  await createTopic(c, 'roomy', 1, { 'max.message.bytes': '8000000' })

  const refused = await produce(c, 'plain', batch(150_000))
  t.equal(refused.error?.code, ErrorCode.MESSAGE_TOO_LARGE)
  t.match(refused.error?.message, /over the broker's --max-batch-bytes \(100000\)/, 'names the broker setting')
  t.equal((await produce(c, 'roomy', batch(1_500_000))).error, null, 'a topic with a larger max.message.bytes takes a 1.5 MB batch')
  const tooBig = await produce(c, 'roomy', batch(8_100_000))
  t.match(tooBig.error?.message, /over topic "roomy"'s max.message.bytes \(8000000\)/, 'names the topic config')

  const overFrame = await createTopic(c, 'huge', 1, { 'max.message.bytes': String(40 * 1024 * 1024) })
  t.equal(overFrame.error?.code, ErrorCode.INVALID_CONFIG)
  t.match(overFrame.error?.message, /--max-frame-bytes/)

  const resource = { type: bitacora.ConfigResourceType.TOPIC, name: 'plain' }
  const described = (await c.call({ describeConfigs: { resources: [{ resource, keys: ['max.message.bytes'] }] } })).describeConfigs!
  t.same(described.results![0].entries!.map((e) => [e.value, e.isDefault]), [['100000', true]], "the default shown is the broker's")
  c.close()
})
