import t from 'tap'
import { RecordAccumulator, type PendingRecord } from '../../src/client/accumulator.js'
import { BATCH_HEADER_BYTES } from '../../src/codec/index.js'

function rec(sizeBytes: number, log: string[] = []): PendingRecord {
  return {
    record: { value: new Uint8Array(0) },
    sizeBytes,
    resolve: (m) => log.push(`ok ${m.topic}/${m.partition}@${m.offset}`),
    reject: (e) => log.push(`err ${e.message}`),
  }
}

const leaderOf = (leaders: Record<string, number>) => (topic: string, partition: number) => leaders[`${topic}/${partition}`] ?? -1
const always = () => true

t.test('a batch closes when the next record would pass batchBytes, and is ready at once', async (t) => {
  const acc = new RecordAccumulator({ batchBytes: BATCH_HEADER_BYTES + 100, lingerMs: 1000, deliveryTimeoutMs: 60_000 })
  t.equal(acc.append('a', 0, rec(40), 0).batchClosed, false)
  t.equal(acc.append('a', 0, rec(40), 0).batchClosed, false)
  const third = acc.append('a', 0, rec(40), 0) // 120 > 100: the first batch closes, a second opens
  t.equal(third.batchClosed, true)
  t.equal(acc.batchCount, 2)
  const { requests } = acc.drain(0, leaderOf({ 'a/0': 7 }), always, 1 << 20)
  t.equal(requests.length, 1)
  t.equal(requests[0].leader, 7)
  t.equal(requests[0].batches.length, 1, 'one batch per partition per request')
  t.equal(requests[0].batches[0].records.length, 2)
  t.equal(acc.drain(0, leaderOf({ 'a/0': 7 }), always, 1 << 20).requests.length, 0, 'the open batch lingers')
})

t.test('a record that fills a batch by itself closes it (sent without lingering)', async (t) => {
  const acc = new RecordAccumulator({ batchBytes: BATCH_HEADER_BYTES + 100, lingerMs: 1000, deliveryTimeoutMs: 60_000 })
  const r = acc.append('a', 0, rec(500), 0)
  t.equal(r.batchClosed, true)
  t.equal(acc.drain(0, leaderOf({ 'a/0': 1 }), always, 1 << 20).requests.length, 1)
})

t.test('linger: ready exactly lingerMs after the batch opened, with an injected clock', async (t) => {
  const acc = new RecordAccumulator({ batchBytes: 1 << 16, lingerMs: 5, deliveryTimeoutMs: 60_000 })
  acc.append('a', 0, rec(10), 100)
  acc.append('a', 0, rec(10), 103)
  t.equal(acc.nextReadyAt(103), 105)
  t.equal(acc.drain(104, leaderOf({ 'a/0': 1 }), always, 1 << 20).requests.length, 0)
  const { requests } = acc.drain(105, leaderOf({ 'a/0': 1 }), always, 1 << 20)
  t.equal(requests[0].batches[0].records.length, 2)
  t.equal(acc.nextReadyAt(105), Infinity)
})

t.test('flushAll makes open batches ready before their linger ends', async (t) => {
  const acc = new RecordAccumulator({ batchBytes: 1 << 16, lingerMs: 10_000, deliveryTimeoutMs: 60_000 })
  acc.append('a', 0, rec(10), 0)
  acc.flushAll()
  t.equal(acc.nextReadyAt(1), 1)
  t.equal(acc.drain(1, leaderOf({ 'a/0': 1 }), always, 1 << 20).requests.length, 1)
})

t.test('drain groups many partitions per leader, bounded by request bytes (at least one batch)', async (t) => {
  const acc = new RecordAccumulator({ batchBytes: 1 << 16, lingerMs: 0, deliveryTimeoutMs: 60_000 })
  const leaders: Record<string, number> = {}
  for (let p = 0; p < 6; p++) {
    acc.append('a', p, rec(1000), 0)
    leaders[`a/${p}`] = p % 2 // leaders 0 and 1
  }
  acc.append('b', 0, rec(5000), 0)
  leaders['b/0'] = 2
  const budget = 2 * (1000 + BATCH_HEADER_BYTES)
  const { requests } = acc.drain(0, leaderOf(leaders), always, budget)
  const byLeader = new Map(requests.map((r) => [r.leader, r.batches]))
  t.equal(byLeader.get(0)!.length, 2)
  t.equal(byLeader.get(1)!.length, 2)
  t.equal(byLeader.get(2)!.length, 1, 'a batch over the request budget still goes alone')
  for (const b of byLeader.get(0)!) t.equal(b.partition % 2, 0)
  t.equal(acc.batchCount, 2)
  const second = acc.drain(0, leaderOf(leaders), always, budget)
  t.equal(second.requests.reduce((n, r) => n + r.batches.length, 0), 2)
})

t.test('drain skips leaders at their in-flight limit and reports leaderless topics', async (t) => {
  const acc = new RecordAccumulator({ batchBytes: 1 << 16, lingerMs: 0, deliveryTimeoutMs: 60_000 })
  acc.append('a', 0, rec(10), 0)
  acc.append('a', 1, rec(10), 0)
  acc.append('c', 0, rec(10), 0)
  const { requests, leaderless } = acc.drain(0, leaderOf({ 'a/0': 1, 'a/1': 2 }), (leader) => leader !== 2, 1 << 20)
  t.same(requests.map((r) => r.leader), [1])
  t.same([...leaderless], ['c'])
  t.equal(acc.batchCount, 2)
})

t.test('drain rotates its starting partition so none starves under a tight budget', async (t) => {
  const acc = new RecordAccumulator({ batchBytes: 1 << 16, lingerMs: 0, deliveryTimeoutMs: 60_000 })
  const leaders: Record<string, number> = {}
  for (let p = 0; p < 3; p++) leaders[`a/${p}`] = 1
  const firsts: number[] = []
  for (let round = 0; round < 3; round++) {
    for (let p = 0; p < 3; p++) acc.append('a', p, rec(100), 0)
    acc.flushAll()
    const { requests } = acc.drain(0, leaderOf(leaders), always, 1) // budget fits one batch
    firsts.push(requests[0].batches[0].partition)
  }
  t.equal(new Set(firsts).size, 3)
})

t.test('a re-enqueued batch goes first, after its back-off, with no more appends', async (t) => {
  const acc = new RecordAccumulator({ batchBytes: 1 << 16, lingerMs: 0, deliveryTimeoutMs: 60_000 })
  acc.append('a', 0, rec(10), 0)
  const [sent] = acc.drain(0, leaderOf({ 'a/0': 1 }), always, 1 << 20).requests[0].batches
  acc.append('a', 0, rec(10), 1) // a newer batch queues meanwhile
  acc.reenqueue(sent, 50)
  t.equal(acc.append('a', 0, rec(10), 2).batch === sent, false, 'no appends into a retried batch')
  t.equal(acc.drain(10, leaderOf({ 'a/0': 1 }), always, 1 << 20).requests.length, 0, 'head is backing off: the partition waits, keeping order')
  t.equal(acc.nextReadyAt(10), 50)
  const { requests } = acc.drain(50, leaderOf({ 'a/0': 1 }), always, 1 << 20)
  t.equal(requests[0].batches[0], sent)
})

t.test('expire removes batches past their delivery deadline; settling resolves per record', async (t) => {
  const acc = new RecordAccumulator({ batchBytes: 1 << 16, lingerMs: 0, deliveryTimeoutMs: 100 })
  const log: string[] = []
  acc.append('a', 0, rec(10, log), 0)
  acc.append('a', 1, rec(10, log), 50)
  const expired = acc.expire(100)
  t.equal(expired.length, 1)
  expired[0].fail(new Error('late'))
  expired[0].complete(5) // settling twice is a no-op
  t.same(log, ['err late'])
  const [b] = acc.drain(100, leaderOf({ 'a/1': 1 }), always, 1 << 20).requests[0].batches
  b.records.push(rec(10, log))
  b.complete(41)
  t.same(log, ['err late', 'ok a/1@41', 'ok a/1@42'])
  await b.done
})

t.test('settings are checked', async (t) => {
  t.throws(() => new RecordAccumulator({ batchBytes: 10, lingerMs: 0, deliveryTimeoutMs: 1 }), RangeError)
  t.throws(() => new RecordAccumulator({ batchBytes: 1000, lingerMs: -1, deliveryTimeoutMs: 1 }), RangeError)
})
