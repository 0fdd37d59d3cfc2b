// The Sender of an idempotent producer against fake brokers that answer as a leader does: every
// produce entry is checked and folded by the broker's own producer state (producer-state.ts
// checkEntry, with its window of remembered batches) over one partition log that the brokers
// share, as replication makes them share it; the test says when each request is answered. So a
// duplicate the Sender causes shows up in that log. (test/integration/idempotent-failover.test.ts
// runs the same paths against broker processes.)
import t, { type Test } from 'tap'
import { RecordAccumulator } from '../../src/client/accumulator.js'
import { RetryPolicy } from '../../src/client/backoff.js'
import { Cluster } from '../../src/client/cluster.js'
import type { BrokerConnectionOptions } from '../../src/client/broker.js'
import type { FrameEncoder } from '../../src/client/connection.js'
import { Idempotence } from '../../src/client/idempotence.js'
import type { RecordMetadata } from '../../src/client/records.js'
import { Sender } from '../../src/client/sender.js'
import { checkEntry, ProducerStateTable, type ProducerBatchHeader } from '../../src/broker/partition/producer-state.js'
import { PRODUCER_BATCHES_KEPT } from '../../src/broker/partition/limits.js'
import { loadCodec, readBatchHeader, splitBatches } from '../../src/codec/index.js'
import { bitacora, decodeRequest, ErrorCode } from '../../src/protocol/index.js'

const codec = await loadCodec()
type PartitionResult = bitacora.ProduceResponse.IPartitionResult
/** The retry back-off: long enough for the test to queue batches behind a retry, on a busy machine too. */
const BACKOFF_MS = 200

/** The partition's log as its replicas hold it: what the leader appends, checked as replica.ts appendProduced does. */
class PartitionLog {
  private readonly producers = new ProducerStateTable(86_400_000, 0)
  private end = 0
  /** Every batch appended, in log order. */
  readonly written: Array<{ epoch: number; sequence: number; offset: number }> = []

  append(headers: readonly ProducerBatchHeader[]): PartitionResult {
    const verdict = checkEntry(this.producers, headers, 0)
    if (verdict.kind === 'refused') return { index: 0, error: { code: verdict.code, message: verdict.message } }
    const offsets = verdict.duplicates.map((d) => d.baseOffset)
    for (const h of headers.slice(verdict.firstNew)) {
      offsets.push(this.end)
      this.producers.appended(h, this.end, 0)
      this.written.push({ epoch: h.producerEpoch, sequence: h.baseSequence, offset: this.end })
      this.end += h.recordCount
    }
    return { index: 0, baseOffset: offsets[0], batchBaseOffsets: offsets }
  }
}

interface Produced {
  broker: number
  /** The partition entry's batches (t/0: every test writes to it alone). */
  headers: ProducerBatchHeader[]
  answered: boolean
  answer(result: PartitionResult): void
}

/**
 * A Sender for topic t, partition 0, whose leader is broker 1 until `moveLeader`; brokers 1 and 2
 * say in their handshakes that they remember `remembered` batches per producer (null: no
 * handshake yet). Each record is its own batch.
 */
function harness(t: Test, remembered: number | null = PRODUCER_BATCHES_KEPT) {
  let leader = 1
  const produced: Produced[] = []
  const inits: bitacora.IInitProducerIdRequest[] = []
  const outcomes: Array<{ err?: Error; meta?: RecordMetadata }> = []
  const handshake = remembered === null ? undefined : { protocolVersion: 1, brokerId: 1, clusterId: 'c', maxFrameBytes: 1 << 24, maxInFlightRequests: 64, producerBatchesRemembered: remembered }
  const brokerFor = (id: number) => ({
    handshake,
    reportFailure: () => undefined,
    request: async (api: string, body: bitacora.IInitProducerIdRequest) => {
      if (api !== 'initProducerId') throw new Error(`unexpected ${api}`)
      inits.push(body)
      return Number(body.producerId) < 0 ? { producerId: 7, producerEpoch: 0 } : { producerId: body.producerId, producerEpoch: (body.producerEpoch ?? 0) + 1 }
    },
    requestFrame: (api: string, encode: FrameEncoder) => new Promise<bitacora.IProduceResponse>((resolve) => {
      if (api !== 'produce') throw new Error(`unexpected ${api}`)
      const request = decodeRequest(encode(1, (n) => new Uint8Array(n)), 1 << 24).produce!
      if (request.topics!.length * request.topics![0].partitions!.length !== 1) throw new Error('a request for t/0 alone was expected')
      const records = request.topics![0].partitions![0].records!
      const headers = splitBatches(records).map(([at]) => readBatchHeader(records, at))
      const p: Produced = {
        broker: id,
        headers: headers.map((h) => ({ producerId: h.producerId, producerEpoch: h.producerEpoch, baseSequence: h.baseSequence, recordCount: h.recordCount })),
        answered: false,
        answer: (result) => {
          p.answered = true
          resolve({ topics: [{ name: 't', partitions: [result] }] })
        },
      }
      produced.push(p)
    }),
  })
  const brokers = new Map([[1, brokerFor(1)], [2, brokerFor(2)]])
  const cluster = {
    now: () => Date.now(),
    brokerById: (id: number) => brokers.get(id),
    handshakeOf: (id: number) => brokers.get(id)?.handshake,
    anyBroker: async () => brokers.get(1),
    refreshTopics: async () => undefined,
    metadata: {
      leaderOf: () => leader,
      leaderEpochOf: () => -1,
      isStale: () => false,
      markStale: () => undefined,
      applyLeaderHint: () => false, // the hint names the leader the cache has already: back-off, then the retry
      brokerList: () => [],
    },
  } as unknown as Cluster
  const accumulator = new RecordAccumulator({ batchBytes: 1024, lingerMs: 0, deliveryTimeoutMs: 60_000 })
  const idempotence = new Idempotence()
  const sender = new Sender(accumulator, cluster, codec, {
    acks: -1, ackTimeoutMs: 30_000, requestTimeoutMs: 30_000, compression: 'none', requestBytesMax: 1 << 20, inFlightMax: 5, idempotence,
  }, new RetryPolicy({ initialMs: BACKOFF_MS, maxMs: BACKOFF_MS, jitter: 0 }), { batchDrained: () => undefined, batchSettled: () => undefined })
  t.teardown(() => sender.stop())
  return {
    produced, inits, outcomes, idempotence, accumulator,
    moveLeader: (to: number) => (leader = to),
    /** `count` records, one batch each, sent now; their outcomes land in `outcomes` in send order. */
    send(count: number): void {
      for (let i = 0; i < count; i++) {
        const n = outcomes.length
        outcomes.push({})
        const { batch } = accumulator.append('t', 0, 10, Date.now())
        batch.add(null, new Uint8Array([n & 0xff]), [], Date.now(), (err, meta) => (outcomes[n] = err ? { err } : { meta }))
        batch.closed = true
      }
      sender.wake()
    },
  }
}

async function until(what: string, check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** The window: batches of a partition in flight, and batches per producer the leader remembers. */
const W = PRODUCER_BATCHES_KEPT
/** The batches leader 2 acknowledges while b0 is out: b1..b(LAST). */
const LAST = 2 * (W - 1)

/**
 * Review finding 1's failover, through its first four steps: b0 goes to leader 1, which appends
 * it (and replicates it), then stalls; leader 2 takes over and acknowledges b1..b(2W-2) (the
 * window bounds batches in flight, so they keep going while b0 is out); b0's request ends
 * without an answer of leader 1's (here a NOT_LEADER_OR_FOLLOWER, as the request abandoned after
 * LeaderMoved is) and b0 waits out its back-off to go again to leader 2, which remembers only
 * the last W of them. Returns with b0 waiting to go again.
 */
async function stalledFirstBatch(t: Test) {
  const h = harness(t)
  const log = new PartitionLog()
  h.send(1)
  await until('b0 sent to broker 1', () => h.produced.length === 1)
  const stuck = h.produced[0]
  t.same([stuck.broker, stuck.headers.map((x) => x.baseSequence)], [1, [0]])
  log.append(stuck.headers) // appended and replicated; the answer never comes
  h.moveLeader(2)
  for (const first of [1, W]) {
    h.send(W - 1)
    await until(`b${first}.. sent`, () => h.produced.length === (first === 1 ? 2 : 3))
    const p = h.produced[h.produced.length - 1]
    t.same([p.broker, p.headers.map((x) => x.baseSequence)], [2, Array.from({ length: W - 1 }, (_, i) => first + i)], `${W - 1} more while b0 is out: ${W} in flight`)
    p.answer(log.append(p.headers))
    await until('acknowledged', () => h.outcomes.slice(first, first + W - 1).every((o) => o.meta !== undefined))
  }
  t.same(h.outcomes.slice(1).map((o) => o.meta?.offset), Array.from({ length: LAST }, (_, i) => i + 1), `b1..b${LAST} at offsets 1..${LAST}`)
  stuck.answer({ index: 0, error: { code: ErrorCode.NOT_LEADER_OR_FOLLOWER, message: 'not the leader' }, leaderHint: 2, leaderHintEpoch: 2 })
  await until('b0 back in the queue, backing off', () => h.accumulator.batchCount === 1)
  return { h, log }
}

t.test('a retried batch the new leader forgot, after later ones were acknowledged: settled as written (offset -1), no bump, not sent again', async (t) => {
  const { h, log } = await stalledFirstBatch(t)
  await until('b0 sent again', () => h.produced.length === 4)
  const retry = h.produced[3]
  t.same([retry.broker, retry.headers.map((x) => [x.producerEpoch, x.baseSequence])], [2, [[0, 0]]], 'b0 again, alone, as it was')
  const refusal = log.append(retry.headers)
  t.equal(refusal.error?.code, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, `the leader remembers b${LAST - W + 1}..b${LAST} only: a gap`)
  retry.answer(refusal)
  await sleep(BACKOFF_MS + 100) // a bump (InitProducerId, at most one per back-off) and b0 again would come within this
  for (const p of h.produced.filter((p) => !p.answered)) p.answer(log.append(p.headers)) // as the leader would
  await until('b0 settled', () => h.outcomes[0].meta !== undefined || h.outcomes[0].err !== undefined)
  t.same(h.outcomes[0], { meta: { topic: 't', partition: 0, offset: -1 } }, 'written, at an offset nobody can tell')
  t.equal(h.inits.length, 1, 'no epoch bump')
  t.equal(h.produced.length, 4, 'nothing sent again')
  t.same(log.written.map((w) => [w.epoch, w.sequence]), Array.from({ length: LAST + 1 }, (_, i) => [0, i]), `b0..b${LAST}, each once`)
  t.ok(h.idempotence.ready)
})

t.test('a retried batch goes without the new batches queued behind it, whose sequences would leave a gap in its entry', async (t) => {
  // Review finding 5: b0 (sequence 0) goes again while b(LAST+1).. wait behind it, new, numbered
  // LAST+1.. once they leave. In one partition entry the broker refuses them all, b0 included, as
  // INVALID_RECORD (checkEntry: "do not follow each other"), which is not retriable.
  const { h, log } = await stalledFirstBatch(t)
  h.send(3) // queued behind b0, which backs off
  await until('b0 sent again', () => h.produced.length >= 4)
  await sleep(20) // the Sender sends all it may before an answer
  t.same(h.produced.slice(3).map((p) => p.headers.map((x) => x.baseSequence)), [[0], [LAST + 1, LAST + 2, LAST + 3]],
    'b0 alone; the new batches together, in a request of their own')
  for (let round = 0; round < 10 && h.outcomes.some((o) => o.meta === undefined && o.err === undefined); round++) {
    for (const p of h.produced.filter((p) => !p.answered)) p.answer(log.append(p.headers)) // in the order they came, as the leader would
    await sleep(BACKOFF_MS + 100) // a retry after the back-off, if any
  }
  t.same(h.outcomes.map((o) => o.err?.message), h.outcomes.map(() => undefined), 'none failed')
  t.same(h.outcomes.slice(LAST + 1).map((o) => o.meta?.offset), [LAST + 1, LAST + 2, LAST + 3])
  t.equal(h.outcomes[0].meta?.offset, -1)
  t.same(log.written.map((w) => [w.epoch, w.sequence]), Array.from({ length: LAST + 4 }, (_, i) => [0, i]), 'each batch once, in order')
  t.equal(h.inits.length, 1)
})

for (const [remembered, expected, what] of [
  [5, 5, "a leader that remembers 5 (Kafka's)"],
  [PRODUCER_BATCHES_KEPT, PRODUCER_BATCHES_KEPT, `a leader that remembers ${PRODUCER_BATCHES_KEPT}`],
  [null, 5, 'a leader not connected yet (no handshake: 5)'],
] as const) {
  t.test(`at most as many of a partition's batches in flight as its leader remembers: ${what}`, async (t) => {
    const h = harness(t, remembered)
    const log = new PartitionLog()
    const total = 3 * expected + 2
    h.send(total)
    let inFlightMax = 0
    while (h.outcomes.some((o) => o.meta === undefined && o.err === undefined)) {
      await until('a request', () => h.produced.some((p) => !p.answered))
      await sleep(5) // the Sender sends all it may before the answer
      const out = h.produced.filter((p) => !p.answered)
      inFlightMax = Math.max(inFlightMax, out.reduce((n, p) => n + p.headers.length, 0))
      for (const p of out) p.answer(log.append(p.headers))
      await sleep(1)
    }
    t.equal(inFlightMax, expected)
    t.same(h.outcomes.map((o) => o.meta?.offset), Array.from({ length: total }, (_, i) => i), 'every batch once, in order')
  })
}

t.test('a Sender run after its cluster closed throws nothing out of its timer (the leader\'s handshake is a lookup); the batch waits', async (t) => {
  // Review finding 7: the drain asks how many batches the leader remembers. brokerById would
  // create the Broker, and once the cluster is closed it throws CLIENT_CLOSED synchronously, out
  // of the Sender's timer callback: an uncaught exception.
  const cluster = new Cluster({ brokers: ['ws://127.0.0.1:9'], connection: {} as BrokerConnectionOptions, metadataMaxAgeMs: 60_000 })
  cluster.metadata.update({
    brokers: [{ id: 1, url: 'ws://127.0.0.1:9/' }],
    topics: [{ name: 't', topicId: new Uint8Array(16), partitions: [{ index: 0, leaderId: 1, leaderEpoch: 1, replicas: [1], inSyncReplicas: [1] }] }],
  }, Date.now())
  cluster.close()
  const accumulator = new RecordAccumulator({ batchBytes: 1024, lingerMs: 0, deliveryTimeoutMs: 60_000 })
  const sender = new Sender(accumulator, cluster, codec, {
    acks: -1, ackTimeoutMs: 30_000, requestTimeoutMs: 30_000, compression: 'none', requestBytesMax: 1 << 20, inFlightMax: 5, idempotence: new Idempotence(),
  }, new RetryPolicy(), { batchDrained: () => undefined, batchSettled: () => undefined })
  t.teardown(() => sender.stop())
  const thrown: unknown[] = []
  const onUncaught = (err: unknown) => thrown.push(err)
  process.prependListener('uncaughtException', onUncaught)
  t.teardown(() => process.removeListener('uncaughtException', onUncaught))
  const { batch } = accumulator.append('t', 0, 10, Date.now())
  batch.add(null, new Uint8Array([1]), [], Date.now(), () => undefined)
  batch.closed = true
  sender.wake()
  await sleep(50)
  t.same(thrown, [], 'nothing thrown out of the send loop')
  t.equal(accumulator.batchCount, 1, 'the batch waits (no producer id: InitProducerId fails on the closed cluster)')
  t.equal(cluster.handshakeOf(1), undefined, 'the lookup: no handshake known, and no throw')
  t.throws(() => cluster.brokerById(1), { code: 'CLIENT_CLOSED' }, 'unlike brokerById')
})
