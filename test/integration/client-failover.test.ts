// What a failover looks like to an application: a three-node cluster of real broker processes,
// a consumer and an acks=all producer on a partition whose leader moves (its broker restarted:
// a new leader epoch), and no user code for any of it. Every send resolves, every acknowledged
// record is read back once at the offset its acknowledgement gave, in order, and the consumer
// goes on from its position; the same when the leader's broker is stopped (SIGSTOP) past its
// lease, fenced, and continued. Also: the client spreads its Metadata and admin calls over the
// brokers and asks a broker that just failed last.
import t, { type Test } from 'tap'
import { createClient, type Client } from '../../src/client/node.js'
import { ProcessCluster, until } from './quorum-nodes.js'

const PRODUCE_INTERVAL_MS = 4 // a throttled producer: a few hundred records a second
const RECORDS_BEFORE = 150
const RECORDS_AFTER = 150

function clientOf(t: { teardown(fn: () => unknown): void }, c: ProcessCluster, clientId: string): Client {
  const client = createClient({ brokers: c.ids.map((id) => c.url(id)), clientId })
  t.teardown(() => client.close())
  return client
}

async function partitionLeader(c: ProcessCluster, topic: string, ask: number): Promise<{ leader: number; epoch: number } | null> {
  const p = (await c.metadata(ask, [topic])).topics?.[0]?.partitions?.[0]
  return p && (p.leaderId ?? -1) >= 0 ? { leader: p.leaderId!, epoch: p.leaderEpoch ?? -1 } : null
}

interface Acked {
  offset: number
  value: string
}

/**
 * A throttled acks=all producer and a consumer on partition 0 of `topic`; `disrupt` runs once
 * RECORDS_BEFORE records are acknowledged, and the load goes on until RECORDS_AFTER more are.
 * Then: every send resolved, every acknowledged record was read back once at the offset its
 * acknowledgement gave, in send order, and the consumer never failed nor read an offset twice.
 */
async function underLoad(t: Test, client: Client, topic: string, disrupt: (acked: readonly Acked[]) => Promise<void>): Promise<void> {
  // maxInFlightRequests 1: a retried batch cannot land after a later one, so acknowledged
  // records keep their send order (as Kafka without idempotence).
  const producer = await client.producer({ acks: 'all', lingerMs: 0, maxInFlightRequests: 1 })
  const consumer = await client.consumer({ autoOffsetReset: 'earliest', maxWaitMs: 100 })
  consumer.assign([{ topic, partition: 0 }])
  const read: Acked[] = []
  let consumerError: unknown = null
  const consuming = (async () => {
    for await (const r of consumer) read.push({ offset: r.offset, value: new TextDecoder().decode(r.value!) })
  })().catch((err: unknown) => void (consumerError = err))

  const acked: Acked[] = []
  const ackedAt: number[] = []
  const failed: unknown[] = []
  const sends: Array<Promise<void>> = []
  let sent = 0
  let producing = true
  const producing$ = (async () => {
    while (producing) {
      const value = `r${sent++}`
      sends.push(producer.send({ topic, value }).then((m) => {
        acked.push({ offset: m.offset, value })
        ackedAt.push(Date.now())
      }, (err: unknown) => void failed.push(err)))
      await new Promise((resolve) => setTimeout(resolve, PRODUCE_INTERVAL_MS))
    }
  })()

  await until(`${RECORDS_BEFORE} acknowledged records`, async () => acked.length >= RECORDS_BEFORE)
  await until('the consumer to have read some', async () => read.length > 0)
  const ackedBefore = acked.length
  await disrupt(acked)
  await until(`${RECORDS_AFTER} more acknowledged records`, async () => acked.length >= ackedBefore + RECORDS_AFTER, 60_000)
  producing = false
  await producing$
  await Promise.all(sends)
  let pauseMs = 0
  for (let i = 1; i < ackedAt.length; i++) pauseMs = Math.max(pauseMs, ackedAt[i] - ackedAt[i - 1])
  t.comment(`the producer's longest pause between acknowledgements: ${pauseMs} ms`) // a figure for the report, not a bound
  t.same(failed, [], 'every send resolved')
  t.equal(acked.length, sent, 'every record sent was acknowledged')

  const last = acked.reduce((m, a) => Math.max(m, a.offset), -1)
  await until('the consumer to read past the last acknowledged record', async () => {
    if (consumerError !== null) throw consumerError
    return read.length > 0 && read[read.length - 1].offset >= last
  }, 60_000)
  consumer.close()
  await consuming
  t.equal(consumerError, null, 'the consumer iterated on through the failover')

  const offsets = read.map((r) => r.offset)
  t.ok(offsets.every((o, i) => i === 0 || o > offsets[i - 1]), 'the consumer read each offset once, in order: it resumed at its position')
  const byOffset = new Map(read.map((r) => [r.offset, r.value]))
  const wrong = acked.filter((a) => byOffset.get(a.offset) !== a.value)
  t.same(wrong, [], 'every acknowledged record was read back at the offset its acknowledgement gave')
  const ackedInOffsetOrder = [...acked].sort((a, b) => a.offset - b.offset).map((a) => Number(a.value.slice(1)))
  t.ok(ackedInOffsetOrder.every((n, i) => i === 0 || n > ackedInOffsetOrder[i - 1]), 'acknowledged records are in send order')
}

t.test('a partition whose leader moves: the producer retries, the consumer resumes, no user code', async (t) => {
  const c = await ProcessCluster.create(t, [1, 2, 3])
  await c.startAll()
  const client = clientOf(t, c, 'failover')
  const [created] = await client.admin().createTopics([{ topic: 'moves', partitions: 1 }])
  t.equal(created.error, null)
  const before = await until('the partition to have a leader', () => partitionLeader(c, 'moves', 1))

  await underLoad(t, client, 'moves', async (acked) => {
    await c.stop(before.leader, 'SIGTERM')
    const lastBeforeStop = Math.max(...acked.map((a) => a.offset))
    // Offset lookups across the failover (connection refused, then NOT_LEADER_OR_FOLLOWER or
    // OFFSET_NOT_AVAILABLE while the restarted leader's epoch commits) are retried, not thrown.
    const latestAcross = client.admin().listOffsets('moves', 'latest')
    const resetAcross = client.consumer({ autoOffsetReset: 'latest' }).then(async (late) => {
      late.assign([{ topic: 'moves', partition: 0 }])
      for await (const r of late) return r.offset // resolves the position, then reads what comes next
      return -1
    })
    await c.start(before.leader)
    const after = await until('a new leader epoch', async () => {
      const l = await partitionLeader(c, 'moves', before.leader)
      return l !== null && l.epoch > before.epoch ? l : null
    })
    t.ok(after.epoch > before.epoch, `the leader epoch moved from ${before.epoch} to ${after.epoch}`)
    const [latest] = await latestAcross
    t.ok(latest.offset > lastBeforeStop, `listOffsets(latest) across the failover resolved past the last acknowledged record (${latest.offset})`)
    t.ok((await resetAcross) > lastBeforeStop, 'a consumer reset to latest across the failover reads on from there')
  })
})

t.test('a leader stopped past its lease is fenced, then resumes in a new epoch: the same, with no user code', async (t) => {
  // Short leases so the stop outlasts one quickly; requests to the stopped broker time out in 5 s.
  const c = await ProcessCluster.create(t, [1, 2, 3], [1, 2, 3], ['--broker-heartbeat-interval-ms', '500', '--broker-session-timeout-ms', '3000'])
  await c.startAll()
  const client = createClient({ brokers: c.ids.map((id) => c.url(id)), clientId: 'stopped', requestTimeoutMs: 5_000 })
  t.teardown(() => client.close())
  const [created] = await client.admin().createTopics([{ topic: 'stops', partitions: 1 }])
  t.equal(created.error, null)
  const before = await until('the partition to have a leader', () => partitionLeader(c, 'stops', 1))
  const others = c.ids.filter((id) => id !== before.leader)

  await underLoad(t, client, 'stops', async () => {
    c.signal(before.leader, 'SIGSTOP')
    let stopped = true
    t.teardown(() => void (stopped && c.signal(before.leader, 'SIGCONT')))
    await until(`broker ${before.leader} to be fenced`, async () => (await c.brokers(others[0])).includes(`${before.leader} fenced`), 60_000)
    c.signal(before.leader, 'SIGCONT')
    stopped = false
    const after = await until('the partition to lead again in a new epoch', async () => {
      const l = await partitionLeader(c, 'stops', others[0])
      return l !== null && l.epoch > before.epoch ? l : null
    }, 60_000)
    t.ok(after.epoch > before.epoch, `the leader epoch moved from ${before.epoch} to ${after.epoch}`)
  })
})

t.test('Metadata and admin calls spread over the brokers, and a broker that failed is asked last', async (t) => {
  const c = await ProcessCluster.create(t, [1, 2, 3])
  await c.startAll()
  const client = clientOf(t, c, 'spread')
  for (const id of c.ids) await client.cluster.brokerAt(c.url(id)).connect()
  const picked = async (n: number) => {
    const urls = new Set<string>()
    for (let i = 0; i < n; i++) urls.add((await client.cluster.anyBroker()).url)
    return urls
  }
  t.equal((await picked(30)).size, 3, 'every connected broker is picked (it used to be the first connected one, always)')

  client.cluster.brokerAt(c.url(1)).reportFailure() // as a timed-out Metadata request reports it
  t.notOk((await picked(30)).has(c.url(1)), 'not while its back-off lasts')

  await c.stop(2, 'SIGKILL')
  await until('the client to see broker 2 gone', async () => !client.cluster.brokerAt(c.url(2)).isConnected)
  await client.cluster.brokerAt(c.url(2)).connect().catch(() => undefined) // refused: it backs off
  t.notOk((await picked(30)).has(c.url(2)), 'a broker that is down is not picked')
  const [topic] = await client.admin().createTopics([{ topic: 'spread', partitions: 1 }])
  t.equal(topic.error, null, 'admin calls go on')
})
