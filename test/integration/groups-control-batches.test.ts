// Positions over control-only batches (issue 20): a partition whose only new entries are
// control batches — here the LeaderChange marker a restarted broker's new leader epoch writes —
// must show lag 0 once its consumer has caught up, so the consumer's position and its commits
// move past the markers it skips (Kafka: the position is the last batch's last offset + 1, even
// when the fetch returned no records). Lag is the log end offset minus the committed offset,
// as `bitacora groups describe` computes it.
import t from 'tap'
import { createClient, type Client } from '../../src/client/node.js'
import { connect, startBroker, tempDataDir, type BrokerProcess } from './broker-process.js'
import { waitFor } from './group-ownership.js'

t.setTimeout(90_000)

const RECORDS = 5

async function committed(broker: BrokerProcess): Promise<number> {
  const c = await connect(broker.url)
  try {
    const r = (await c.call({ offsetFetch: { groupId: 'markers' } })).offsetFetch
    return Number(r?.topics?.find((x) => x.name === 'quiet')?.partitions?.find((p) => (p.index ?? 0) === 0)?.offset ?? -1)
  } finally {
    c.close()
  }
}

async function logEnd(client: Client): Promise<number> {
  const [end] = await client.admin().listOffsets('quiet', 'latest')
  return end.offset
}

/** A group member that auto-commits every 100 ms; what it read. */
async function member(client: Client) {
  const consumer = await client.consumer({ autoOffsetReset: 'earliest', maxWaitMs: 100 })
  consumer.subscribe(['quiet'], { groupId: 'markers', sessionTimeoutMs: 6_000, autoCommitIntervalMs: 100 })
  const read: number[] = []
  void (async () => {
    for await (const r of consumer) read.push(r.offset)
  })()
  return { consumer, read }
}

t.test('a partition that only gained a LeaderChange marker shows lag 0 once caught up', async (t) => {
  const dataDir = tempDataDir(t)
  let broker = await startBroker(t, { dataDir })
  let client = createClient({ brokers: [broker.url], clientId: 'markers' })
  const [created] = await client.admin().createTopics([{ topic: 'quiet', partitions: 1, replicationFactor: 1 }])
  t.equal(created.error, null)
  const producer = await client.producer({ acks: 'all' })
  await Promise.all(Array.from({ length: RECORDS }, (_, i) => producer.send({ topic: 'quiet', partition: 0, value: `r${i}` })))
  const first = await member(client)
  // The log already starts with the first leader's LeaderChange: the records come after it.
  const produced = await logEnd(client)
  await waitFor('the records read', () => first.read.length === RECORDS)
  await waitFor('them committed', async () => (await committed(broker)) === produced)
  await first.consumer.close()
  await client.close()

  // A restart opens a new leader epoch: its LeaderChange marker is the partition's only new entry.
  await broker.stop('SIGTERM')
  broker = await startBroker(t, { dataDir })
  client = createClient({ brokers: [broker.url], clientId: 'markers' })
  t.teardown(() => client.close())
  await waitFor('the marker to be in the log', async () => (await logEnd(client).catch(() => 0)) > produced)
  const end = await logEnd(client)
  t.equal(await committed(broker), produced, `committed ${produced}, log end ${end}: lag ${end - produced} before the consumer catches up`)

  const second = await member(client)
  await waitFor('the commit to move past the marker', async () => (await committed(broker)) === end, 20_000)
  t.equal(end - (await committed(broker)), 0, 'lag 0 once caught up')
  t.same(second.read, [], 'the marker gave the application no record')
  const consumer = second.consumer
  t.equal(consumer.position('quiet', 0), end, 'the position is past the marker')
  await consumer.close()
})
