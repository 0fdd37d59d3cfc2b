// Chained fetches on the broker (api/fetch-chains.ts + api/fetch.ts): a fetch marked
// after_previous reads from where the same connection's previous fetch of the partition ended,
// even when both are sent before either answers, and says where it read from; with no previous
// fetch (or a failed one, or one forgotten past the bound) it reads its own fetch_offset. The
// fetches run against a real single-replica partition (test/broker/partition/cluster.ts).
import t from 'tap'
import { FetchChains } from '../../../src/broker/api/fetch-chains.js'
import { fetch } from '../../../src/broker/api/fetch.js'
import { DEFAULT_LIMITS } from '../../../src/broker/limits.js'
import { ReadBufferPool, ReadLease } from '../../../src/broker/partition/read-buffers.js'
import type { PartitionReplica } from '../../../src/broker/partition/replica.js'
import { readBatchHeader, splitBatches } from '../../../src/codec/index.js'
import { Cluster } from '../partition/cluster.js'

const pool = new ReadBufferPool()

t.test('FetchChains: a chained link starts where the previous one settled, in join order; falls back after a failure or with none', async (t) => {
  const chains = new FetchChains()
  const first = chains.join('t', 0, false, 10)
  const second = chains.join('t', 0, true, 10)
  const third = chains.join('t', 0, true, 10)
  t.equal(await first.start, 10, 'an unchained fetch reads its fetch_offset')
  let secondStarted = false
  void second.start.then(() => (secondStarted = true))
  await new Promise((resolve) => setImmediate(resolve))
  t.notOk(secondStarted, 'a chained fetch waits for the one before it')
  first.settle(25)
  t.equal(await second.start, 25, 'it starts where the previous answer ended')
  second.settle(null)
  t.equal(await third.start, 10, 'after a failed fetch: its own fetch_offset')
  t.equal(await chains.join('t', 1, true, 7).start, 7, 'with no previous fetch of the partition: its own fetch_offset')
})

t.test('FetchChains: past its bound the least recently fetched partition is forgotten', async (t) => {
  const chains = new FetchChains(2)
  chains.join('t', 0, false, 0).settle(5)
  chains.join('t', 1, false, 0).settle(6)
  chains.join('t', 0, true, 0).settle(9) // partition 0 fetched again: now the most recent
  chains.join('t', 2, false, 0).settle(7) // over the bound: partition 1 goes
  t.equal(chains.size, 2)
  t.equal(await chains.join('t', 0, true, 3).start, 9, 'kept')
  t.equal(await chains.join('t', 1, true, 3).start, 3, 'forgotten: the fallback')
})

async function leaderWithBatches(t: { teardown(fn: () => unknown): void }, batches: number) {
  const c = await Cluster.start({ voters: 1 })
  t.teardown(() => c.stopAll())
  const leader = await c.electLeader()
  const start = leader.log.logEndOffset // after the leader's LeaderChange batch
  for (let i = 0; i < batches; i++) await c.produce(leader, 10, null, 'x') // ~200 bytes each (the test log's segments are 1 KiB)
  await c.until('every batch committed', () => leader.highWatermark >= leader.log.logEndOffset)
  return { leader, start, end: leader.log.logEndOffset }
}

function fetcher(r: PartitionReplica, chains: FetchChains | undefined) {
  const partitions = { partition: (topic: string, index: number) => (topic === 't' && index === 0 ? r : undefined) }
  return async (fetchOffset: number, afterPrevious: boolean, partitionMaxBytes: number) => {
    const lease = new ReadLease(pool)
    const req = { maxWaitMs: 0, chainable: true, topics: [{ name: 't', partitions: [{ index: 0, fetchOffset, partitionMaxBytes, afterPrevious }] }] }
    const res = await fetch({ partitions, limits: DEFAULT_LIMITS }, req, new AbortController().signal, lease, chains)
    const p = res.topics![0].partitions![0]
    const records = (p.records ?? new Uint8Array(0)).slice()
    lease.release()
    const ranges = splitBatches(records, true).map(([s, e]) => readBatchHeader(records.subarray(s, e)))
    return { fetchedFrom: p.fetchedFrom, error: p.error, first: ranges[0]?.baseOffset, next: ranges.at(-1)?.nextOffset }
  }
}

t.test('fetches sent together, each after the previous: every answer starts where the one before ended', async (t) => {
  const { leader, end } = await leaderWithBatches(t, 20) // batches of 10
  const f = fetcher(leader, new FetchChains())
  // a few batches each: the second and third go out before the first is answered.
  const answers = await Promise.all([f(0, false, 700), f(0, true, 700), f(0, true, 700)])
  t.equal(answers[0].first, 0)
  t.ok(answers[0].next! > 0 && answers[2].next! < end, 'each answer holds part of the log')
  for (let i = 1; i < answers.length; i++) {
    t.equal(answers[i].fetchedFrom, answers[i - 1].next, `answer ${i} says it read from where answer ${i - 1} ended`)
    t.equal(answers[i].first, answers[i - 1].next, `answer ${i}'s first batch follows answer ${i - 1}'s last`)
  }
  t.equal(answers[0].fetchedFrom, 0, 'an unchained fetch of a chainable request says where it read from too (the client learns the broker chains)')
})

t.test('a chained fetch after an out-of-range one reads its own fetch_offset; at the log end it answers empty from there', async (t) => {
  const { leader, start, end } = await leaderWithBatches(t, 2)
  const f = fetcher(leader, new FetchChains())
  const [bad, chained] = await Promise.all([f(1_000, false, 1 << 20), f(start + 10, true, 1 << 20)])
  t.match(bad.error, { code: 1 }, 'OFFSET_OUT_OF_RANGE')
  t.equal(chained.fetchedFrom, start + 10, 'the fallback')
  t.equal(chained.first, start + 10)
  const [atEnd, after] = await Promise.all([f(end, false, 1 << 20), f(0, true, 1 << 20)])
  t.equal(atEnd.first, undefined, 'nothing past the end')
  t.equal(after.fetchedFrom, end, 'an empty answer ends where it started')
})

t.test('without per-connection chains (a scope that has none) a chained fetch is a plain one and says nothing', async (t) => {
  const { leader, start } = await leaderWithBatches(t, 2)
  const f = fetcher(leader, undefined)
  const answer = await f(start + 10, true, 1 << 20)
  t.equal(answer.fetchedFrom ?? null, null, 'no fetched_from: the client does not chain')
  t.equal(answer.first, start + 10)
})
