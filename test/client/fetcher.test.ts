// The fetcher's pipelining and its bounds, with the broker replaced at its one I/O boundary
// (Broker.request) so that answers arrive exactly when the test says: the next fetch leaves
// when an answer arrives (from where it ends), never more than one fetch is in flight per
// broker that does not chain fetches (two, the second chained, to one that does: the tests at
// the end), at most two answers wait to be handed out, and answers are handed out in order; and
// an answer that is lost (fails validation, or crosses another broker's) never leaves the
// partition fetching past its position. (test/integration/client-fast-paths.test.ts runs the
// same paths against a real broker.)
import t from 'tap'
import { RetryPolicy } from '../../src/client/backoff.js'
import type { Cluster } from '../../src/client/cluster.js'
import { Consumer } from '../../src/client/consumer.js'
import { Fetcher, type PartitionState } from '../../src/client/fetcher.js'
import { MetadataCache, type LeaderHint } from '../../src/client/metadata.js'
import { loadCodec, readBatchHeader } from '../../src/codec/index.js'
import { bitacora, ErrorCode } from '../../src/protocol/index.js'

const codec = await loadCodec()

interface Asked {
  fetchOffset: number
  afterPrevious: boolean
  /** With `fetchedFrom`, the answer of a broker that chains fetches; without, of one that does not. */
  answer: (records: Uint8Array, fetchedFrom?: number) => void
}

function harness() {
  const asked: Asked[] = []
  let inFlight = 0
  let inFlightMax = 0
  const broker = {
    request: (_api: string, body: bitacora.IFetchRequest) =>
      new Promise<bitacora.IFetchResponse>((resolve) => {
        inFlightMax = Math.max(inFlightMax, ++inFlight)
        const p = body.topics![0].partitions![0]
        asked.push({
          fetchOffset: p.fetchOffset!,
          afterPrevious: p.afterPrevious === true,
          answer: (records, fetchedFrom) => {
            inFlight--
            resolve({ topics: [{ name: 't', partitions: [{ index: 0, error: null, highWatermark: 1000, records, ...(fetchedFrom === undefined ? {} : { fetchedFrom }) }] }] })
          },
        })
      }),
  }
  const cluster = {
    now: () => Date.now(),
    brokerById: () => broker,
    ensureTopics: async () => undefined,
    metadata: { leaderOf: () => 1, leaderEpochOf: () => -1, needsRefresh: () => false, topic: () => undefined, markStale: () => undefined, applyLeaderHint: () => false },
  } as unknown as Cluster
  const fetcher = new Fetcher(cluster, codec, new RetryPolicy(), { maxWaitMs: 100, minBytes: 1, maxBytes: 1 << 20, requestTimeoutMs: 1000, apiTimeoutMs: 60_000 })
  return { fetcher, asked, inFlightMax: () => inFlightMax }
}

const batch = (from: number, n: number) => codec.encodeBatch(Array.from({ length: n }, (_, i) => ({ value: new TextEncoder().encode(String(from + i)), timestamp: 1 })), { baseOffset: from })
const settle = () => new Promise((resolve) => setImmediate(resolve))

/** next() until it hands something out (it may also return early, empty, after a wake-up). */
async function nextAnswer(fetcher: Fetcher, s: PartitionState, first?: Promise<unknown>) {
  let got = (first ? await first : await fetcher.next([s])) as Awaited<ReturnType<Fetcher['next']>>
  for (let i = 0; got.length === 0 && i < 10; i++) got = await fetcher.next([s])
  return got
}

/**
 * Brokers 1 and 2 answering through `brokerFor`; the client's view of leaders is `leaderOf`,
 * moved by `applyLeaderHint` (a NOT_LEADER_OR_FOLLOWER answer's hint).
 */
function twoBrokers(
  brokerFor: (id: number) => unknown,
  leaderOf: (topic: string, partition: number) => number,
  applyLeaderHint: (topic: string, partition: number, hint: LeaderHint) => boolean,
): Cluster {
  const brokers = new Map([[1, brokerFor(1)], [2, brokerFor(2)]])
  return {
    now: () => Date.now(),
    brokerById: (id: number) => brokers.get(id),
    ensureTopics: async () => undefined,
    metadata: { leaderOf, leaderEpochOf: () => -1, applyLeaderHint, needsRefresh: () => false, topic: () => undefined, markStale: () => undefined },
  } as unknown as Cluster
}

function state(position: number): PartitionState {
  return { topic: 't', partition: 0, position, fetchPosition: null, reset: null, generation: 0, retryAt: 0, failures: 0, maxBytes: 1 << 20 }
}

t.test('the next fetch leaves when an answer arrives, from where it ends; one in flight, two waiting at most', async (t) => {
  const { fetcher, asked, inFlightMax } = harness()
  const s = state(0)
  const first = fetcher.next([s])
  await settle()
  t.same(asked.map((a) => a.fetchOffset), [0])
  asked[0].answer(batch(0, 10))
  const got = await first
  t.same([got[0].fromOffset, got[0].nextOffset, got[0].count], [0, 10, 10])
  t.same(asked.map((a) => a.fetchOffset), [0, 10], 'the next fetch went out on arrival, at offset 10')
  t.equal(s.fetchPosition, 10)

  // The application takes nothing more for a while: answers pile up, bounded.
  asked[1].answer(batch(10, 10))
  await settle()
  t.same(asked.map((a) => a.fetchOffset), [0, 10, 20], 'nothing was waiting: one more goes out')
  asked[2].answer(batch(20, 10))
  await settle()
  t.equal(asked.length, 3, 'two answers wait: no further fetch until one is taken')
  t.equal(inFlightMax(), 1, 'never two fetches in flight to one broker')

  s.position = 10 // what the consumer does as it hands out an answer
  const second = await fetcher.next([s])
  t.same([second[0].fromOffset, second[0].nextOffset], [10, 20], 'answers come out in the order they arrived')
  t.same(asked.map((a) => a.fetchOffset), [0, 10, 20, 30], 'taking an answer made room: the held-back fetch left at once, from the fetch position')
  s.position = 20
  const third = await fetcher.next([s])
  t.same([third[0].fromOffset, third[0].nextOffset], [20, 30])
  t.equal(asked.length, 4, 'one fetch in flight already: none more')
  s.position = 30
  const fourth = fetcher.next([s])
  await settle()
  t.equal(asked.length, 4, 'next() with nothing waiting waits for the fetch in flight')
  asked[3].answer(new Uint8Array(0))
  const empty = await nextAnswer(fetcher, s, fourth)
  t.same([empty[0].count, empty[0].fromOffset, empty[0].nextOffset], [0, 30, 30], 'an empty answer: no records, the position stays')
})

t.test('a seek or reset clears the fetch position: the next fetch asks for the position', async (t) => {
  const { fetcher, asked } = harness()
  const s = state(5)
  const first = fetcher.next([s])
  await settle()
  asked[0].answer(batch(5, 5))
  await first
  t.equal(s.fetchPosition, 10)
  // A seek (Consumer.seek) bumps the generation and clears fetchPosition; the fetch that went
  // out on arrival is now stale and starts no other when it answers.
  s.generation++
  s.fetchPosition = null
  s.position = 7
  fetcher.interrupt()
  asked[1].answer(batch(10, 5))
  await settle()
  t.equal(asked.length, 2, 'the stale answer started no fetch')
  t.equal(s.fetchPosition, null, 'nor moved the fetch position')
  const stale = await fetcher.next([s])
  t.equal(stale[0].generation, 0, 'it is handed out marked with the old generation (the consumer drops it)')
  const next = fetcher.next([s])
  await settle()
  t.equal(asked[2].fetchOffset, 7)
  asked[2].answer(batch(5, 5))
  const fresh = await nextAnswer(fetcher, s, next)
  t.same([fresh[0].fromOffset, fresh[0].offset(0), fresh[0].count, fresh[0].generation], [7, 7, 3, 1], 'records below the position are skipped')
})

t.test('an answer that fails validation: next() throws, and the partition is fetched again from its position, not past the answer', async (t) => {
  const { fetcher, asked } = harness()
  const s = state(0)
  const bad = batch(0, 10)
  bad[bad.length - 1] ^= 0xff // a flipped bit: CRC mismatch
  const first = fetcher.next([s])
  await settle()
  asked[0].answer(bad)
  await t.rejects(first, { code: 'BATCH_BAD_CRC', message: /t\/0 at offset 0: .*seek past the batch to skip it/ })
  t.same(asked.map((a) => a.fetchOffset), [0, 10], 'the next fetch went out on arrival, before validation')
  t.same([s.position, s.fetchPosition, s.generation], [0, null, 1], 'the fetch position is back at the position; what was fetched past it is stale')
  asked[1].answer(batch(10, 10))
  const again = fetcher.next([s])
  await settle()
  t.same(asked.map((a) => a.fetchOffset), [0, 10, 0], 'the stale answer is dropped and the partition asked for at its position')
  asked[2].answer(batch(0, 10))
  const stale = await nextAnswer(fetcher, s, again)
  t.same([stale[0].fromOffset, stale[0].generation], [10, 0], 'the answer fetched past it comes out stale (the consumer drops it)')
  const got = await nextAnswer(fetcher, s)
  t.same([got[0].fromOffset, got[0].count, got[0].generation], [0, 10, 1], 'then the partition from its position')
})

// Answers of two brokers crossing during a leader move, through the consumer. Real brokers
// cannot be made to finish validating in a chosen order, so the brokers are replaced at
// Broker.request and the codec's asynchronous (gzip) validation waits for the test's word.
t.test('answers of two brokers handed out out of order across a leader move: the partition fetches again from its position, nothing is lost', async (t) => {
  let leader = 1
  const asked: Array<{ broker: number; fetchOffset: number; answered: boolean; answer: (p: bitacora.FetchResponse.IPartitionData) => void }> = []
  const brokerFor = (id: number) => ({
    request: (_api: string, body: bitacora.IFetchRequest) =>
      new Promise<bitacora.IFetchResponse>((resolve) => {
        const entry = {
          broker: id, fetchOffset: body.topics![0].partitions![0].fetchOffset!, answered: false,
          answer: (p: bitacora.FetchResponse.IPartitionData) => {
            entry.answered = true
            resolve({ topics: [{ name: 't', partitions: [{ index: 0, error: null, highWatermark: 30, ...p }] }] })
          },
        }
        asked.push(entry)
      }),
  })
  const cluster = twoBrokers(brokerFor, () => leader, (_topic, _partition, { leaderId: hint }) => (hint !== leader && hint > 0 ? ((leader = hint), true) : false))
  let release!: () => void
  const gate = new Promise<void>((resolve) => (release = resolve))
  const slowGzip = Object.create(codec, {
    indexBatchAsync: { value: async (...args: Parameters<typeof codec.indexBatchAsync>) => (await gate, codec.indexBatchAsync(...args)) },
  }) as typeof codec
  const consumer = new Consumer(cluster, slowGzip, { maxWaitMs: 100 }, 1000)
  consumer.assign([{ topic: 't', partition: 0 }])
  consumer.seek('t', 0, 0)
  const log = [await codec.encodeBatchAsync(Array.from({ length: 10 }, (_, i) => ({ value: new TextEncoder().encode(String(i)), timestamp: 1 })), { baseOffset: 0, compression: 'gzip' }), batch(10, 10), batch(20, 10)]
  const from = (offset: number) => Buffer.concat(log.filter((b) => readBatchHeader(b).nextOffset > offset))
  const delivered: number[] = []
  const reading = (async () => {
    for await (const b of consumer.batches()) {
      for (let i = 0; i < b.count; i++) delivered.push(b.offset(i))
      if (delivered.length >= 30) break
    }
  })()
  const ask = async (broker: number, fetchOffset: number) => {
    for (let i = 0; i < 1000; i++) {
      const a = asked.find((x) => !x.answered && x.broker === broker && x.fetchOffset === fetchOffset)
      if (a) return a
      await settle()
    }
    throw new Error(`no fetch to broker ${broker} at ${fetchOffset}; asked ${JSON.stringify(asked)}`)
  }
  ;(await ask(1, 0)).answer({ records: log[0] }) // gzip: validated asynchronously, held at the gate
  ;(await ask(1, 10)).answer({ error: { code: ErrorCode.NOT_LEADER_OR_FOLLOWER }, leaderHint: 2 }) // pipelined; the leader moved
  ;(await ask(2, 10)).answer({ records: from(10) }) // the new leader's answer is validated at once: handed out first
  for (let i = 0; i < 10; i++) await settle()
  release()
  // From here on both brokers answer every fetch from the log (nothing past its end: empty, after a pause).
  const answering = setInterval(() => {
    for (const a of asked.filter((x) => !x.answered)) {
      if (a.fetchOffset < 30) a.answer({ records: from(a.fetchOffset) })
      else if (!a.answered) setTimeout(() => !a.answered && a.answer({ records: new Uint8Array(0) }), 20)
    }
  }, 1)
  const timeout = setTimeout(() => consumer.close(), 5000)
  await reading
  clearTimeout(timeout)
  clearInterval(answering)
  consumer.close()
  t.same(delivered, Array.from({ length: 30 }, (_, i) => i), 'every offset once, in order')
})

t.test('a failed batch fetched ahead is thrown when its partition reaches it, after the good answers before it', async (t) => {
  const { fetcher, asked } = harness()
  const s = state(0)
  const first = fetcher.next([s])
  await settle()
  asked[0].answer(batch(0, 10))
  s.position = (await first)[0].nextOffset
  await settle()
  asked[1].answer(batch(10, 10)) // waits to be handed out
  await settle()
  const bad = batch(20, 10)
  bad[bad.length - 1] ^= 0xff
  asked[2].answer(bad) // fetched ahead, fails its CRC
  for (let i = 0; i < 5; i++) await settle()
  const good = await fetcher.next([s])
  t.same([good[0].fromOffset, good[0].nextOffset, good[0].generation], [10, 20, 0], 'the intact answer comes out first, not the error')
  s.position = 20
  await t.rejects(fetcher.next([s]), { code: 'BATCH_BAD_CRC', message: /t\/0 at offset 20/ }, 'then the error, at the position it names')
  t.same([s.position, s.fetchPosition], [20, null], 'nothing before it was skipped; the partition is fetched again from there')
})

t.test('while one broker keeps answers coming, a partition whose leader moved to another broker is fetched there', async (t) => {
  const leaders = new Map([[0, 1], [1, 1]]) // the truth
  const known = new Map(leaders) // the client's metadata
  const asked = new Map([[1, 0], [2, 0]])
  const brokerFor = (id: number) => ({
    request: async (_api: string, body: bitacora.IFetchRequest) => {
      asked.set(id, asked.get(id)! + 1)
      await new Promise((r) => setTimeout(r, 2))
      const partitions = body.topics![0].partitions!.map((p) =>
        leaders.get(p.index!) !== id
          ? { index: p.index, error: { code: ErrorCode.NOT_LEADER_OR_FOLLOWER }, leaderHint: leaders.get(p.index!) }
          : { index: p.index, error: null, highWatermark: 1e9, records: batch(p.fetchOffset!, 10) })
      return { topics: [{ name: 't', partitions }] }
    },
  })
  const cluster = twoBrokers(brokerFor, (_t, p) => known.get(p)!, (_t, p, { leaderId: hint }) => (hint > 0 && known.get(p) !== hint ? (known.set(p, hint), true) : false))
  const consumer = new Consumer(cluster, codec, { maxWaitMs: 100 }, 1000)
  consumer.assign([{ topic: 't', partition: 0 }, { topic: 't', partition: 1 }])
  consumer.seek('t', 0, 0)
  consumer.seek('t', 1, 0)
  const delivered = [0, 0]
  setTimeout(() => leaders.set(1, 2), 100)
  const stop = setTimeout(() => consumer.close(), 5000)
  for await (const b of consumer.batches()) {
    delivered[b.partition] += b.count
    if (delivered[1] >= 300) break
    await new Promise((r) => setTimeout(r, 5)) // the application's work: broker 1's next answer is always in by now
  }
  clearTimeout(stop)
  consumer.close()
  t.ok(delivered[1] >= 300, `partition 1 kept being read after its leader moved (${delivered[1]} records; broker 2 asked ${asked.get(2)} times)`)
})

t.test('a fetch fenced by a newer leader epoch goes again at once, carrying that epoch, from the same position', async (t) => {
  // The real metadata cache; the broker replaced at Broker.request, as above.
  const metadata = new MetadataCache(60_000)
  metadata.update({
    brokers: [{ id: 1, url: 'ws://127.0.0.1:1/' }],
    topics: [{ name: 't', topicId: new Uint8Array(16).fill(1), partitions: [{ index: 0, leaderId: 1, leaderEpoch: 3 }] }],
  }, Date.now())
  const asked: Array<{ fetchOffset: number; epoch: number | null | undefined; answer: (p: bitacora.FetchResponse.IPartitionData) => void }> = []
  const broker = {
    request: (_api: string, body: bitacora.IFetchRequest) =>
      new Promise<bitacora.IFetchResponse>((resolve) => {
        const p = body.topics![0].partitions![0]
        asked.push({ fetchOffset: p.fetchOffset!, epoch: p.currentLeaderEpoch, answer: (a) => resolve({ topics: [{ name: 't', partitions: [{ index: 0, error: null, highWatermark: 10, ...a }] }] }) })
      }),
  }
  const cluster = { now: () => Date.now(), brokerById: () => broker, ensureTopics: async () => undefined, metadata } as unknown as Cluster
  // A back-off would outlast the test: only a redirect goes again in time.
  const fetcher = new Fetcher(cluster, codec, new RetryPolicy({ initialMs: 60_000, maxMs: 60_000 }), { maxWaitMs: 100, minBytes: 1, maxBytes: 1 << 20, requestTimeoutMs: 1000, apiTimeoutMs: 120_000 })
  const s = state(5)
  const first = fetcher.next([s])
  await settle()
  t.same(asked.map((a) => [a.fetchOffset, a.epoch]), [[5, 3]], 'the fetch carries the epoch the cache knows')
  asked[0].answer({ error: { code: ErrorCode.FENCED_LEADER_EPOCH }, leaderHint: 1, leaderHintEpoch: 4 })
  t.same(await first, [], 'nothing to hand out')
  const second = fetcher.next([s])
  await settle()
  t.same(asked.map((a) => [a.fetchOffset, a.epoch]), [[5, 3], [5, 4]], 'again at once, in the new epoch, from the position')
  asked[1].answer({ records: batch(5, 5) })
  const got = await nextAnswer(fetcher, s, second)
  t.same([got[0].fromOffset, got[0].nextOffset], [5, 10])
  t.equal(metadata.needsRefresh('t', Date.now()), false, 'the hint spared a metadata round trip')
})

t.test('a broker that chains: a second fetch follows the first in flight; answers are taken in the order the fetches went out', async (t) => {
  const { fetcher, asked, inFlightMax } = harness()
  const s = state(0)
  const first = fetcher.next([s])
  await settle()
  t.same(asked.map((a) => [a.fetchOffset, a.afterPrevious]), [[0, false]], 'not known to chain yet: one fetch')
  asked[0].answer(batch(0, 10), 0)
  await first
  t.same(asked.map((a) => [a.fetchOffset, a.afterPrevious]), [[0, false], [10, false], [10, true]],
    'its answer carried fetched_from: the next fetch and a second chained after it (fallback offset 10) went out at once')
  asked[2].answer(batch(20, 10), 20) // the chained answer arrives first
  await settle()
  t.equal(s.fetchPosition, 10, 'it waits for the answer of the fetch before it')
  asked[1].answer(batch(10, 10), 10)
  s.position = 10
  const a = await nextAnswer(fetcher, s)
  s.position = 20
  const b = await nextAnswer(fetcher, s)
  t.same([a[0].fromOffset, a[0].nextOffset, b[0].fromOffset, b[0].nextOffset], [10, 20, 20, 30], 'handed out in order')
  t.equal(s.fetchPosition, 30)
  t.equal(inFlightMax(), 2, 'two in flight at most')
  t.ok(asked.slice(3).some((x) => x.afterPrevious), 'later fetches chain after the one in flight')
})

t.test('a chained answer that starts past where fetching stands (the answer before it was lost): fetched again from the position', async (t) => {
  const { fetcher, asked } = harness()
  const s = state(0)
  const first = fetcher.next([s])
  await settle()
  asked[0].answer(batch(0, 10), 0)
  await first
  s.position = 10
  asked[1].answer(batch(10, 10), 10)
  asked[2].answer(batch(30, 10), 30) // should have followed at 20: records 20..29 would be skipped
  await settle()
  t.same([s.fetchPosition, s.generation], [null, 1], 'fetching is back at the position; what was fetched ahead is stale')
  const stale = await nextAnswer(fetcher, s)
  t.same([stale[0].fromOffset, stale[0].generation], [10, 0], 'the answer before the gap comes out stale (the consumer drops it)')
  // Answer whatever goes out from here as a chaining broker would, and read the fresh answers.
  let answered = 3
  const fresh: number[][] = []
  for (let round = 0; round < 20 && s.position! < 30; round++) {
    const taking = fetcher.next([s])
    await settle()
    for (; answered < asked.length; answered++) {
      const a = asked[answered]
      const from = a.afterPrevious ? 20 : a.fetchOffset
      a.answer(from < 30 ? batch(from, 10) : new Uint8Array(0), from)
    }
    for (const b of await taking) {
      if (b.generation !== s.generation || b.count === 0) continue
      fresh.push([b.fromOffset, b.nextOffset])
      s.position = b.nextOffset
    }
  }
  t.equal(asked[3].fetchOffset, 10, 'the partition is asked for at its position')
  t.equal(asked[3].afterPrevious, false, 'unchained')
  t.same(fresh, [[10, 20], [20, 30]], 'records 10..29 come again, none lost')
})

t.test('a chained answer read from the fallback (the broker had nothing to follow) repeats records: they are skipped', async (t) => {
  const { fetcher, asked } = harness()
  const s = state(0)
  const first = fetcher.next([s])
  await settle()
  asked[0].answer(batch(0, 10), 0)
  await first
  s.position = 10
  asked[1].answer(batch(10, 10), 10)
  asked[2].answer(batch(10, 20), 10) // from the fallback 10: 10..19 again, then 20..29
  const a = await nextAnswer(fetcher, s)
  s.position = 20
  const b = await nextAnswer(fetcher, s)
  t.same([a[0].fromOffset, a[0].nextOffset], [10, 20])
  t.same([b[0].fromOffset, b[0].offset(0), b[0].count, b[0].nextOffset], [20, 20, 10, 30], 'the repeat is skipped: 20..29 once')
})
