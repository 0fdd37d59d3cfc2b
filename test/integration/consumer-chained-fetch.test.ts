// The consumer's second fetch in flight per broker, chained on the broker after the first
// (after_previous / fetched_from), against real broker processes: every record once and in
// order across hundreds of answers; seeks back and forward mid-stream; and a leader move
// mid-stream on three brokers (the leader stopped while answers fetched ahead from it wait).
// A counting WebSocket wrapper proves the chained path ran (fetches marked after_previous,
// answers saying where they read from).
import t from 'tap'
import { createClient, nodeWebSocketFactory, type Client } from '../../src/client/node.js'
import type { WebSocketFactory } from '../../src/client/transport.js'
import { decodeRequest, decodeResponse } from '../../src/protocol/index.js'
import { startBroker } from './broker-process.js'
import { ProcessCluster, until } from './quorum-nodes.js'

t.setTimeout(Number(process.env.E2E_TIMEOUT_MS ?? 240_000))
const RECORDS = 20_000
const PARTITION_MAX_BYTES = 8 * 1024 // ~60 records an answer: hundreds of answers
const valueOf = (i: number) => `record ${i} ${'z'.repeat(i % 80)}`

/** Counts fetches, those sent with a chained partition, and answers saying where they read from (fetched_from). */
function countingChains() {
  let fetches = 0
  let chainedFetches = 0
  let chainedAnswers = 0
  const factory: WebSocketFactory = (url, options) => {
    const ws = nodeWebSocketFactory(url, options)
    const send = ws.send.bind(ws)
    ;(ws as unknown as { on(event: 'message', listener: (data: Buffer) => void): void }).on('message', (data) => {
      const fetch = decodeResponse(data, 1 << 30).fetch
      if (fetch?.topics?.some((tp) => tp.partitions?.some((p) => p.fetchedFrom != null))) chainedAnswers++
    })
    ws.send = (data: Uint8Array) => {
      const fetch = decodeRequest(data, 1 << 30).fetch
      if (fetch) fetches++
      if (fetch?.topics?.some((tp) => tp.partitions?.some((p) => p.afterPrevious))) chainedFetches++
      send(data)
    }
    return ws
  }
  return { factory, fetches: () => fetches, chainedFetches: () => chainedFetches, chainedAnswers: () => chainedAnswers }
}

async function produceAll(client: Client, topic: string, partition: number, n: number): Promise<number> {
  // Small batches: an answer holds a few of them, so reading takes hundreds of answers.
  const producer = await client.producer({ acks: 'all', lingerMs: 2, batchBytes: 4096 })
  let first = -1
  await new Promise<void>((resolve, reject) => {
    let done = 0
    for (let i = 0; i < n; i++) {
      producer.send({ topic, partition, value: valueOf(i) }, (err, m) => {
        if (err) return reject(err)
        if (i === 0) first = m!.offset
        if (++done === n) resolve()
      })
    }
  })
  return first
}

t.test('one broker: every record once and in order across hundreds of chained answers; seeks back and forward mid-stream', async (t) => {
  const broker = await startBroker(t)
  const counted = countingChains()
  const client = createClient({ brokers: [broker.url], clientId: 'chained', webSocketFactory: counted.factory })
  t.teardown(() => client.close())
  const topic = 'chained'
  await client.admin().createTopics([{ topic, partitions: 2 }])
  const base = [await produceAll(client, topic, 0, RECORDS), await produceAll(client, topic, 1, RECORDS)]

  const consumer = await client.consumer({ autoOffsetReset: 'earliest', maxWaitMs: 100, partitionMaxBytes: PARTITION_MAX_BYTES })
  consumer.assign([{ topic, partition: 0 }, { topic, partition: 1 }])
  const read: number[][] = [[], []]
  let wrongValue = 0
  let seekBackAt = -1
  let seekForwardAt = -1
  for await (const batch of consumer.batches()) {
    // Cheap per record (lengths; every 97th value decoded), so the reader keeps up and the
    // fetches run chained rather than waiting for it.
    for (let i = 0; i < batch.count; i++) {
      const n = batch.offset(i) - base[batch.partition]
      if (batch.valueLength(i) !== valueOf(n).length || (n % 97 === 0 && new TextDecoder().decode(batch.value(i)!) !== valueOf(n))) wrongValue++
      read[batch.partition].push(n)
    }
    const r0 = read[0]
    // Partition 0, mid-stream: back to a quarter (while fetches run ahead of the position), then,
    // once past half again, forward to three quarters.
    if (seekBackAt < 0 && r0.length >= RECORDS / 2) {
      seekBackAt = r0.length
      consumer.seek(topic, 0, base[0] + RECORDS / 4)
    } else if (seekBackAt >= 0 && seekForwardAt < 0 && r0.at(-1)! >= RECORDS / 2) {
      seekForwardAt = r0.length
      consumer.seek(topic, 0, base[0] + (3 * RECORDS) / 4)
    }
    if (read[1].length >= RECORDS && r0.at(-1) === RECORDS - 1 && seekForwardAt >= 0) break
  }
  t.equal(wrongValue, 0, 'every value has the length written at its offset (and every 97th its bytes)')
  t.same(read[1], Array.from({ length: RECORDS }, (_, i) => i), 'partition 1: every record once, in order')
  const r0 = read[0]
  t.same(r0.slice(0, seekBackAt), Array.from({ length: seekBackAt }, (_, i) => i), 'partition 0 before the seek back: in order')
  const afterBack = r0.slice(seekBackAt, seekForwardAt)
  t.same(afterBack, Array.from({ length: afterBack.length }, (_, i) => RECORDS / 4 + i), 'after the seek back: from the offset sought, in order, nothing skipped')
  const afterForward = r0.slice(seekForwardAt)
  t.same(afterForward, Array.from({ length: RECORDS / 4 }, (_, i) => (3 * RECORDS) / 4 + i), 'after the seek forward: from the offset sought to the end, once')
  t.ok(counted.chainedFetches() > 10, `fetches went out chained (${counted.chainedFetches()} of ${counted.fetches()}; none before chaining)`)
  t.ok(counted.chainedAnswers() > 100, `hundreds of answers (${counted.chainedAnswers()}), every one saying where it read from`)
})

t.test('three brokers: the leader stopped mid-stream, the consumer goes on at the new leader, every record once and in order', async (t) => {
  const c = await ProcessCluster.create(t, [1, 2, 3])
  await c.startAll()
  const counted = countingChains()
  const client = createClient({ brokers: c.ids.map((id) => c.url(id)), clientId: 'chained-move', webSocketFactory: counted.factory })
  t.teardown(() => client.close())
  const topic = 'chained-move'
  const [created] = await client.admin().createTopics([{ topic, partitions: 1, replicationFactor: 3 }])
  t.equal(created.error, null)
  const base = await produceAll(client, topic, 0, RECORDS)
  const leaderOf = async (ask: number) => {
    const p = (await c.metadata(ask, [topic])).topics?.[0]?.partitions?.[0]
    return p && (p.leaderId ?? -1) >= 0 ? p.leaderId! : null
  }
  const before = await until('the partition to have a leader', () => leaderOf(c.ids[0]))

  const consumer = await client.consumer({ autoOffsetReset: 'earliest', maxWaitMs: 100, partitionMaxBytes: PARTITION_MAX_BYTES })
  consumer.assign([{ topic, partition: 0 }])
  const read: number[] = []
  let chainedBeforeMove = 0
  for await (const batch of consumer.batches()) {
    for (let i = 0; i < batch.count; i++) read.push(batch.offset(i) - base)
    if (chainedBeforeMove === 0 && read.length >= RECORDS / 3) {
      chainedBeforeMove = counted.chainedAnswers()
      // Answers fetched ahead from the old leader wait while it stops (a controlled shutdown:
      // leadership moves to a follower).
      await c.stop(before, 'SIGTERM')
    }
    if (read.length >= RECORDS) break
  }
  const survivor = c.ids.find((id) => id !== before)!
  const after = await leaderOf(survivor)
  t.not(after, before, `the leader moved from ${before} to ${after}`)
  t.same(read, Array.from({ length: RECORDS }, (_, i) => i), 'every record once, in order, across the move')
  t.ok(chainedBeforeMove > 0, `answers said where they read from before the move (${chainedBeforeMove}; none before chaining)`)
  t.ok(counted.chainedFetches() > 0, `fetches went out chained (${counted.chainedFetches()} of ${counted.fetches()})`)
  t.ok(counted.chainedAnswers() > chainedBeforeMove, 'and at the new leader after it')
})
