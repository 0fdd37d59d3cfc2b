import t from 'tap'
import { RecordAccumulator, type ProducerBatch, type SendCallback } from '../../src/client/accumulator.js'
import { BATCH_HEADER_BYTES, loadCodec } from '../../src/codec/index.js'

/** A record of `sizeBytes` (estimated) appended as the producer does: choose the batch, stage it there. */
function append(acc: RecordAccumulator, topic: string, partition: number, sizeBytes: number, now: number, log: string[] = []) {
  const result = acc.append(topic, partition, sizeBytes, now)
  result.batch.add(null, new Uint8Array(0), undefined, now, logger(log))
  return { ...result }
}

function logger(log: string[]): SendCallback {
  return (err, m) => log.push(err ? `err ${err.message}` : `ok ${m!.topic}/${m!.partition}@${m!.offset}`)
}

const leaderOf = (leaders: Record<string, number>) => (topic: string, partition: number) => leaders[`${topic}/${partition}`] ?? -1
const always = () => true

t.test('a batch closes when the next record would pass batchBytes, and is ready at once', async (t) => {
  const acc = new RecordAccumulator({ batchBytes: BATCH_HEADER_BYTES + 100, lingerMs: 1000, deliveryTimeoutMs: 60_000 })
  t.equal(append(acc, 'a', 0, 40, 0).batchClosed, false)
  t.equal(append(acc, 'a', 0, 40, 0).batchClosed, false)
  const third = append(acc, 'a', 0, 40, 0) // 120 > 100: the first batch closes, a second opens
  t.equal(third.batchClosed, true)
  t.equal(acc.batchCount, 2)
  const { requests } = acc.drain(0, leaderOf({ 'a/0': 7 }), always, 1 << 20)
  t.equal(requests.length, 1)
  t.equal(requests[0].leader, 7)
  t.equal(requests[0].batches.length, 1, 'one batch per partition per request')
  t.equal(requests[0].batches[0].recordCount, 2)
  t.equal(acc.drain(0, leaderOf({ 'a/0': 7 }), always, 1 << 20).requests.length, 0, 'the open batch lingers')
})

t.test('a record that fills a batch by itself closes it (sent without lingering)', async (t) => {
  const acc = new RecordAccumulator({ batchBytes: BATCH_HEADER_BYTES + 100, lingerMs: 1000, deliveryTimeoutMs: 60_000 })
  const r = append(acc, 'a', 0, 500, 0)
  t.equal(r.batchClosed, true)
  t.equal(acc.drain(0, leaderOf({ 'a/0': 1 }), always, 1 << 20).requests.length, 1)
})

t.test('linger: ready exactly lingerMs after the batch opened, with an injected clock', async (t) => {
  const acc = new RecordAccumulator({ batchBytes: 1 << 16, lingerMs: 5, deliveryTimeoutMs: 60_000 })
  append(acc, 'a', 0, 10, 100)
  append(acc, 'a', 0, 10, 103)
  t.equal(acc.nextReadyAt(103), 105)
  t.equal(acc.drain(104, leaderOf({ 'a/0': 1 }), always, 1 << 20).requests.length, 0)
  const { requests } = acc.drain(105, leaderOf({ 'a/0': 1 }), always, 1 << 20)
  t.equal(requests[0].batches[0].recordCount, 2)
  t.equal(acc.nextReadyAt(105), Infinity)
})

t.test('readyByLeader sums the ready batches per leader with the oldest opening; held queues are ready at their linger deadline', async (t) => {
  const acc = new RecordAccumulator({ batchBytes: BATCH_HEADER_BYTES + 100, lingerMs: 50, deliveryTimeoutMs: 60_000 })
  append(acc, 'a', 0, 80, 10)
  append(acc, 'a', 0, 80, 12) // closes the first batch: ready at once
  append(acc, 'b', 0, 20, 11) // open, lingering until 61
  append(acc, 'c', 0, 80, 20)
  append(acc, 'c', 0, 80, 21)
  const leaders = leaderOf({ 'a/0': 1, 'b/0': 1, 'c/0': 2 })
  const ready = acc.readyByLeader(30, leaders)
  t.same(ready.get(1), { bytes: BATCH_HEADER_BYTES + 80, openedAt: 10 }, "leader 1: a's full batch; b's still lingers, a's second is open")
  t.same(ready.get(2), { bytes: BATCH_HEADER_BYTES + 80, openedAt: 20 })
  t.same(acc.readyByLeader(61, leaders).get(1), { bytes: 2 * BATCH_HEADER_BYTES + 100, openedAt: 10 }, 'after its linger, b counts too')
  t.equal(acc.nextReadyAt(30), 30, 'a full batch is ready now')
  t.equal(acc.nextReadyAt(30, () => true), 60, "all held: the earliest linger deadline (a's full batch, opened at 10)")
  t.equal(acc.nextReadyAt(30, (topic) => topic === 'a'), 30, "only a held: c's full batch is ready now")
})

t.test('flushAll makes open batches ready before their linger ends', async (t) => {
  const acc = new RecordAccumulator({ batchBytes: 1 << 16, lingerMs: 10_000, deliveryTimeoutMs: 60_000 })
  append(acc, 'a', 0, 10, 0)
  acc.flushAll()
  t.equal(acc.nextReadyAt(1), 1)
  t.equal(acc.drain(1, leaderOf({ 'a/0': 1 }), always, 1 << 20).requests.length, 1)
})

t.test('while a flush runs, batches opened meanwhile do not linger either; after it they do', async (t) => {
  const acc = new RecordAccumulator({ batchBytes: 1 << 16, lingerMs: 10_000, deliveryTimeoutMs: 60_000 })
  acc.beginFlush()
  append(acc, 'a', 0, 10, 0)
  t.equal(acc.nextReadyAt(1), 1, 'opened during the flush: ready at once')
  acc.drain(1, leaderOf({ 'a/0': 1 }), always, 1 << 20)
  acc.endFlush()
  append(acc, 'a', 0, 10, 2)
  t.equal(acc.nextReadyAt(3), 10_002, 'opened after it: lingers')
})

t.test('drain groups many partitions per leader, bounded by request bytes (at least one batch)', async (t) => {
  const acc = new RecordAccumulator({ batchBytes: 1 << 16, lingerMs: 0, deliveryTimeoutMs: 60_000 })
  const leaders: Record<string, number> = {}
  for (let p = 0; p < 6; p++) {
    append(acc, 'a', p, 1000, 0)
    leaders[`a/${p}`] = p % 2 // leaders 0 and 1
  }
  append(acc, 'b', 0, 5000, 0)
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

t.test('a backlog leaves in fewer requests: more ready batches of a partition join, in queue order, while they fit', async (t) => {
  const acc = new RecordAccumulator({ batchBytes: BATCH_HEADER_BYTES + 100, lingerMs: 1000, deliveryTimeoutMs: 60_000 })
  const batches = []
  for (let i = 0; i < 5; i++) batches.push(append(acc, 'a', 0, 100, 0).batch) // each record fills a batch
  append(acc, 'a', 0, 40, 0) // an open batch, lingering
  append(acc, 'b', 0, 100, 0)
  const perBatch = BATCH_HEADER_BYTES + 100
  const { requests } = acc.drain(0, leaderOf({ 'a/0': 1, 'b/0': 1 }), always, 4 * perBatch)
  t.equal(requests.length, 1)
  const sent = requests[0].batches
  t.equal(sent.length, 4, 'up to the request budget')
  t.equal(sent[0], batches[0], 'one batch per partition first (a/0, then b/0)')
  t.equal(sent[1].topic, 'b')
  t.same(sent.slice(2), batches.slice(1, 3), "then a/0's next ready batches, in order")
  const next = acc.drain(0, leaderOf({ 'a/0': 1, 'b/0': 1 }), always, 1 << 20).requests[0].batches
  t.same(next, batches.slice(3), 'the open batch still lingers')
})

t.test('staging buffers of whole batches are reused once their batch is encoded', async (t) => {
  const acc = new RecordAccumulator({ batchBytes: BATCH_HEADER_BYTES + 4096, lingerMs: 0, deliveryTimeoutMs: 60_000 })
  const first = acc.append('a', 0, 4096, 0).batch
  first.add(null, new Uint8Array(4000), undefined, 0, () => {})
  const staged = first.takeStaged()
  t.equal(staged.capacityBytes, BATCH_HEADER_BYTES + 4096)
  t.throws(() => first.takeStaged(), 'staged records are taken once')
  acc.recycle(staged)
  const second = acc.append('a', 1, 10, 0).batch
  second.add(null, new Uint8Array(3), undefined, 0, () => {})
  t.equal(second.takeStaged().capacityBytes, BATCH_HEADER_BYTES + 4096, 'the next batch starts with the recycled buffer')
  const third = acc.append('a', 2, 10, 0).batch
  third.add(null, new Uint8Array(3), undefined, 0, () => {})
  t.ok(third.takeStaged().capacityBytes < 4096, 'without one, a batch starts small')
})

t.test('staging buffers kept for reuse add up to 4 MiB at most', async (t) => {
  const batchBytes = 1024 * 1024
  const acc = new RecordAccumulator({ batchBytes, lingerMs: 0, deliveryTimeoutMs: 60_000 })
  const full = (partition: number) => {
    const b = acc.append('big', partition, batchBytes - BATCH_HEADER_BYTES - 100, 0).batch
    b.add(null, new Uint8Array(batchBytes - BATCH_HEADER_BYTES - 100), undefined, 0, () => {})
    return b.takeStaged()
  }
  for (const staged of Array.from({ length: 10 }, (_, p) => full(p))) acc.recycle(staged)
  let reused = 0
  for (let p = 10; p < 20; p++) {
    const b = acc.append('big', p, 10, 0).batch
    b.add(null, new Uint8Array(3), undefined, 0, () => {})
    if (b.takeStaged().capacityBytes === batchBytes) reused++
  }
  t.equal(reused, 4, 'four 1 MiB buffers were kept of the ten given back')
})

t.test('a callback that throws does not keep the batch\'s other records from settling', async (t) => {
  const acc = new RecordAccumulator({ batchBytes: 1 << 16, lingerMs: 0, deliveryTimeoutMs: 60_000 })
  const log: string[] = []
  const { batch } = acc.append('a', 0, 10, 0)
  batch.add(null, null, undefined, 0, () => {
    throw new Error('user bug')
  })
  acc.append('a', 0, 10, 0).batch.add(null, null, undefined, 0, logger(log))
  const uncaught = new Promise<Error>((resolve) => process.once('uncaughtException', resolve))
  batch.complete(7)
  t.same(log, ['ok a/0@8'])
  t.equal((await uncaught).message, 'user bug', 'rethrown on its own, outside the producer')
})

t.test('drain skips leaders at their in-flight limit and reports leaderless topics', async (t) => {
  const acc = new RecordAccumulator({ batchBytes: 1 << 16, lingerMs: 0, deliveryTimeoutMs: 60_000 })
  append(acc, 'a', 0, 10, 0)
  append(acc, 'a', 1, 10, 0)
  append(acc, 'c', 0, 10, 0)
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
    for (let p = 0; p < 3; p++) append(acc, 'a', p, 100, 0)
    acc.flushAll()
    const { requests } = acc.drain(0, leaderOf(leaders), always, 1) // budget fits one batch
    firsts.push(requests[0].batches[0].partition)
  }
  t.equal(new Set(firsts).size, 3)
})

t.test('a re-enqueued batch goes first, after its back-off, with no more appends', async (t) => {
  const acc = new RecordAccumulator({ batchBytes: 1 << 16, lingerMs: 0, deliveryTimeoutMs: 60_000 })
  append(acc, 'a', 0, 10, 0)
  const [sent] = acc.drain(0, leaderOf({ 'a/0': 1 }), always, 1 << 20).requests[0].batches
  append(acc, 'a', 0, 10, 1) // a newer batch queues meanwhile
  acc.reenqueue(sent, 50)
  t.equal(append(acc, 'a', 0, 10, 2).batch === sent, false, 'no appends into a retried batch')
  t.equal(acc.drain(10, leaderOf({ 'a/0': 1 }), always, 1 << 20).requests.length, 0, 'head is backing off: the partition waits, keeping order')
  t.equal(acc.nextReadyAt(10), 50)
  const { requests } = acc.drain(50, leaderOf({ 'a/0': 1 }), always, 1 << 20)
  t.equal(requests[0].batches[0], sent)
})

t.test('expire removes batches past their delivery deadline; settling resolves per record', async (t) => {
  const acc = new RecordAccumulator({ batchBytes: 1 << 16, lingerMs: 0, deliveryTimeoutMs: 100 })
  const log: string[] = []
  append(acc, 'a', 0, 10, 0, log)
  append(acc, 'a', 1, 10, 50, log)
  const expired = acc.expire(100)
  t.equal(expired.length, 1)
  expired[0].fail(new Error('late'))
  expired[0].complete(5) // settling twice is a no-op
  t.same(log, ['err late'])
  const [b] = acc.drain(100, leaderOf({ 'a/1': 1 }), always, 1 << 20).requests[0].batches
  b.add(null, null, undefined, 100, logger(log))
  b.complete(41)
  t.same(log, ['err late', 'ok a/1@41', 'ok a/1@42'])
  await b.done
})

t.test('settings are checked', async (t) => {
  t.throws(() => new RecordAccumulator({ batchBytes: 10, lingerMs: 0, deliveryTimeoutMs: 1 }), RangeError)
  t.throws(() => new RecordAccumulator({ batchBytes: 1000, lingerMs: -1, deliveryTimeoutMs: 1 }), RangeError)
})

t.test('split: a refused batch becomes two halves, each with its records and callbacks; it settles when both have', async (t) => {
  const codec = await loadCodec()
  const acc = new RecordAccumulator({ batchBytes: 1 << 16, lingerMs: 0, deliveryTimeoutMs: 60_000 })
  const log: string[] = []
  const values = ['r0', 'r1', 'r2', 'r3', 'r4'].map((v) => new TextEncoder().encode(v))
  let batch!: ProducerBatch
  for (let i = 0; i < values.length; i++) {
    batch = acc.append('a', 0, 20, 100).batch
    batch.add(null, values[i], [{ key: 'h', value: null }], 1000 + i, logger(log))
  }
  const encoded = codec.encodeStaged(batch.takeStaged())
  const [first, second] = batch.split(codec.decodeBatch(encoded).records)
  t.same([first.recordCount, second.recordCount], [2, 3], 'halves of 5 records: 2 and 3')
  t.equal(first.sizeBytes + second.sizeBytes - 2 * BATCH_HEADER_BYTES, batch.sizeBytes - BATCH_HEADER_BYTES, 'the record bytes are shared out, none lost')
  t.ok(first.sendAlone && second.sendAlone && first.closed && second.closed, 'both go alone, closed')
  t.same([first.deadline, first.createdAt], [batch.deadline, batch.createdAt], 'with the original deadline')
  t.ok(batch.settled, 'the original counts as settled at once')
  const decoded = codec.decodeBatch(codec.encodeStaged(second.takeStaged())).records
  t.same(decoded.map((r) => [new TextDecoder().decode(r.value!), r.timestamp, r.headers.length]), [['r2', 1002, 1], ['r3', 1003, 1], ['r4', 1004, 1]], 'the second half holds records 2-4 as sent')

  let done = false
  void batch.done.then(() => (done = true))
  second.complete(40)
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(done, false, 'not done while one half is unsettled')
  first.complete(10)
  await batch.done
  t.same(log, ['ok a/0@40', 'ok a/0@41', 'ok a/0@42', 'ok a/0@10', 'ok a/0@11'], 'each record settled once, by its half, at its offset')
  t.throws(() => first.split([]), /cannot split/, 'a settled batch does not split')
})

t.test('a batch that goes alone leaves without the rest of its partition; a paused partition stays queued', async (t) => {
  const acc = new RecordAccumulator({ batchBytes: BATCH_HEADER_BYTES + 100, lingerMs: 0, deliveryTimeoutMs: 60_000 })
  for (let i = 0; i < 3; i++) append(acc, 'a', 0, 90, 0) // three full batches
  const leaders = leaderOf({ 'a/0': 1 })
  let paused = true
  t.equal(acc.drain(0, leaders, always, 1 << 20, () => paused).requests.length, 0, 'paused: nothing leaves')
  t.same([...acc.drain(0, leaders, always, 1 << 20, () => paused).leaderless], [], 'a paused partition is not leaderless')
  paused = false
  const first = acc.drain(0, leaders, always, 1 << 20).requests[0].batches
  t.equal(first.length, 3, 'three batches of the partition share a request')
  first[1].sendAlone = true
  for (const b of [...first].reverse()) acc.reenqueue(b, 0)
  t.equal(acc.drain(0, leaders, always, 1 << 20).requests[0].batches.length, 1, 'the head batch alone: the next one goes alone')
  t.same(acc.drain(0, leaders, always, 1 << 20).requests[0].batches, [first[1]], 'the batch that goes alone')
  t.equal(acc.drain(0, leaders, always, 1 << 20).requests[0].batches.length, 1, 'then the last')
})
