// The idempotent producer's bookkeeping: sequences in queue order, at most as many batches of a
// partition in flight as its leader remembers, retries first (with only the batches that continue
// their sequences), a gap a later acknowledgement explains, epoch bumps, and the stamp a
// re-sequenced batch gets.
import t from 'tap'
import { loadCodec } from '../../src/codec/index.js'
import { Idempotence, type SequencedBatch } from '../../src/client/idempotence.js'
import { IDEMPOTENT_BATCHES_IN_FLIGHT_MAX, PRODUCER_BATCHES_REMEMBERED_DEFAULT } from '../../src/client/limits.js'
import { RecordAccumulator } from '../../src/client/accumulator.js'

const codec = await loadCodec()
const batch = (recordCount: number, topic = 't', partition = 0): SequencedBatch => ({ topic, partition, recordCount, ordinal: -1, sequencedEpoch: -1, attempts: 0 })

t.test('no batch leaves before a producer id is known; then sequences follow the drain order', async (t) => {
  const idem = new Idempotence()
  t.equal(idem.room('t', 0, undefined, IDEMPOTENT_BATCHES_IN_FLIGHT_MAX), 0)
  idem.initialized(12, 0)
  const [a, b, c] = [batch(3), batch(2), batch(1, 't', 1)]
  for (const x of [a, b, c]) idem.sent(x)
  t.same([a, b, c].map((x) => idem.sequenceOf(x)), [0, 3, 0], 'per partition, from 0')
})

t.test('at most as many batches of a partition in flight as its leader remembers; a retry waits until none is', async (t) => {
  const idem = new Idempotence()
  idem.initialized(1, 0)
  const W = IDEMPOTENT_BATCHES_IN_FLIGHT_MAX
  const sent = Array.from({ length: W }, () => batch(1))
  for (const b of sent) idem.sent(b)
  t.equal(idem.room('t', 0, undefined, W), 0, 'the window is full: the partition waits')
  t.equal(idem.room('t', 1, undefined, W), W, 'another partition does not')
  t.equal(idem.room('t', 1, undefined, W + 10), W, 'a leader remembering more does not widen it past our bound')
  t.equal(idem.room('t', 1, undefined, PRODUCER_BATCHES_REMEMBERED_DEFAULT), 5, "an older broker (Kafka's 5) narrows it")
  idem.returned(sent[0])
  t.equal(idem.room('t', 0, undefined, W), 1)
  t.equal(idem.room('t', 0, undefined, 5), 0, 'a new leader remembering fewer than are in flight: nothing more goes')
  sent[0].attempts = 1 // failed: back at the head of the queue
  t.equal(idem.room('t', 0, sent[0], W), 0, 'the retry waits for the others still out')
  for (const b of sent.slice(1)) idem.returned(b)
  t.equal(idem.room('t', 0, sent[0], W), W)
  idem.sent(sent[0])
  t.equal(idem.sequenceOf(sent[0]), 0, 'a retry keeps its sequence')
})

t.test('a gap is explained by an earlier unsettled batch; a batch failed for good needs a bump, which sequences the rest again from 0', async (t) => {
  const idem = new Idempotence()
  idem.initialized(1, 0)
  const [a, b] = [batch(2), batch(2)]
  idem.sent(a)
  idem.sent(b)
  t.ok(idem.earlierUnsettled(b))
  t.notOk(idem.earlierUnsettled(a))
  idem.returned(a)
  idem.returned(b)
  idem.settled(a, false)
  t.ok(idem.bumpNeeded)
  t.notOk(idem.ready)
  t.ok(idem.idle)
  idem.initialized(1, 1)
  idem.sent(b)
  t.equal(idem.sequenceOf(b), 0, 'sequenced again in the new epoch')
  t.equal(b.sequencedEpoch, 1)
})

t.test('an encoded batch is stamped with the id, epoch and sequence, and its CRC still checks', async (t) => {
  const idem = new Idempotence()
  idem.initialized(2 ** 40 + 5, 3)
  const b = batch(2)
  idem.sent(b)
  idem.sent(batch(5)) // another batch of the partition first
  const later = batch(1)
  idem.sent(later)
  const bytes = codec.encodeBatch([{ value: new Uint8Array([1]) }], { producerId: 7, producerEpoch: 0, baseSequence: 0 })
  t.notOk(idem.stamped(bytes, later))
  idem.stamp(codec, bytes, later)
  t.ok(idem.stamped(bytes, later))
  const decoded = codec.decodeBatch(bytes)
  t.match(decoded.header, { producerId: 2 ** 40 + 5, producerEpoch: 3, baseSequence: 7 })
})

t.test('the accumulator puts a retried batch back in sequence order, before later ones', async (t) => {
  const acc = new RecordAccumulator({ batchBytes: 1024, lingerMs: 0, deliveryTimeoutMs: 60_000 })
  const idem = new Idempotence()
  idem.initialized(1, 0)
  for (let i = 0; i < 3; i++) {
    const { batch: b } = acc.append('t', 0, 10, 0)
    b.add(null, new Uint8Array([i]), [], 0, () => undefined)
    b.closed = true
  }
  const drained = acc.drain(0, () => 1, () => true, 1 << 20, undefined, (h) => idem.room(h.topic, h.partition, h, IDEMPOTENT_BATCHES_IN_FLIGHT_MAX))
  const batches = drained.requests[0].batches
  for (const b of batches) idem.sent(b)
  t.equal(batches.length, 3)
  acc.reenqueue(batches[2], 0)
  acc.reenqueue(batches[0], 0)
  acc.reenqueue(batches[1], 0)
  const again = acc.drain(0, () => 1, () => true, 1 << 20).requests[0].batches
  t.same(again.map((b) => b.ordinal), [0, 1, 2], 'in sequence order whatever order they failed in')
})

t.test('configuration: on by default with acks all; asked for with acks 0/1 or > 5 in flight, an error naming the option', async (t) => {
  const { createClient } = await import('../../src/client/node.js')
  const client = createClient({ brokers: ['ws://127.0.0.1:9'] }) // never connected: producer() checks options only
  t.teardown(() => client.close())
  await t.rejects(client.producer({ idempotent: true, acks: 1 }), { code: 'INVALID_ARGUMENT', message: /idempotent.*acks/ })
  await t.rejects(client.producer({ idempotent: true, acks: 0 }), { code: 'INVALID_ARGUMENT', message: /idempotent.*acks/ })
  await t.rejects(client.producer({ idempotent: true, maxInFlightRequests: 6 }), { code: 'INVALID_ARGUMENT', message: /idempotent.*maxInFlightRequests/ })
  await t.rejects(client.producer({ idempotent: 'yes' as unknown as boolean }), { code: 'INVALID_ARGUMENT', message: /idempotent/ })
  const defaults = await client.producer({ acks: 1 })
  t.ok(defaults, 'acks 1 without asking: idempotence simply off')
  await defaults.close()
})

t.test('a gap refused for a batch a later acknowledged batch of its epoch follows: written already, no bump (the leader forgot it)', async (t) => {
  // A request stuck on a stalled leader while the new leader acknowledges the later batches: the
  // window bounds batches in flight, not how far later ones run past the stuck one.
  const idem = new Idempotence()
  idem.initialized(1, 0)
  const bs = Array.from({ length: 16 }, () => batch(2))
  for (const b of bs) idem.sent(b)
  t.notOk(idem.writtenAlready(bs[0]), 'nothing acknowledged yet: a gap is a gap')
  for (const b of bs.slice(1)) {
    idem.returned(b)
    idem.settled(b, true)
  }
  idem.returned(bs[0]) // its request abandoned: it goes again, and the leader no longer remembers it
  t.ok(idem.writtenAlready(bs[0]), 'b1..b15 acknowledged: the broker appended b0 before them')
  t.notOk(idem.bumpNeeded)
  const later = batch(2)
  idem.sent(later)
  t.notOk(idem.writtenAlready(later), 'a batch after every acknowledged one is not known to be written')
  idem.initialized(1, 1)
  idem.sent(later)
  t.notOk(idem.writtenAlready(later), 'acknowledgements of an older epoch say nothing of this one')
})

t.test('a batch joins the one before it in a partition entry only if its sequence continues that one', async (t) => {
  const idem = new Idempotence()
  idem.initialized(1, 0)
  const [a, b, c, d] = [batch(2), batch(3), batch(1), batch(1)]
  for (const x of [a, b, c]) idem.sent(x)
  t.ok(idem.continues(a, b), 'two retries sent one after the other')
  t.notOk(idem.continues(a, c), 'a retry, then one sent after a batch acknowledged meanwhile')
  t.notOk(idem.continues(b, d), 'a retry that is not the last sequenced, then a new batch (numbered after the last)')
  t.ok(idem.continues(c, d), 'the last sequenced, then a new batch')
  t.ok(idem.continues(d, batch(1)), 'two new batches')
  t.notOk(idem.continues(d, a), 'a new batch, then one already sequenced')
  idem.initialized(1, 1) // a bump: every batch is numbered again in queue order when it leaves
  t.ok(idem.continues(a, c), 'batches of an older epoch, numbered again')
  t.ok(idem.continues(c, d), 'an older epoch\'s, then a new one')
})

t.test('the drain sends a retry with the batches that continue its sequences, never with new ones numbered after acknowledged ones', async (t) => {
  const acc = new RecordAccumulator({ batchBytes: 1024, lingerMs: 0, deliveryTimeoutMs: 60_000 })
  const idem = new Idempotence()
  idem.initialized(1, 0)
  const W = IDEMPOTENT_BATCHES_IN_FLIGHT_MAX
  const append = (n: number) => {
    for (let i = 0; i < n; i++) {
      const { batch: b } = acc.append('t', 0, 10, 0)
      b.add(null, new Uint8Array([i]), [], 0, () => undefined)
      b.closed = true
    }
  }
  const drain = () => acc.drain(0, () => 1, () => true, 1 << 20, undefined,
    (h) => idem.room(h.topic, h.partition, h, W), (prev, next) => idem.continues(prev, next)).requests[0]?.batches ?? []
  append(W)
  const first = drain()
  for (const b of first) idem.sent(b)
  t.equal(first.length, W)
  // b1..b(W-1) acknowledged; b0 failed (its leader stalled) and goes back to the queue, behind which new batches wait.
  for (const b of first.slice(1)) {
    idem.returned(b)
    idem.settled(b, true)
  }
  idem.returned(first[0])
  first[0].attempts = 1
  acc.reenqueue(first[0], 0)
  append(3)
  const retry = drain()
  t.same(retry, [first[0]], `b0 alone: the new batches would take sequences ${W}.., a gap after b0 the broker refuses whole (INVALID_RECORD)`)
  for (const b of retry) idem.sent(b)
  idem.returned(first[0])
  idem.settled(first[0], true)
  const next = drain()
  for (const b of next) idem.sent(b)
  t.same(next.map((b) => b.ordinal), [W, W + 1, W + 2], 'then the new ones, together')
})

t.test('after a failover a partition\'s retries leave together, and new batches with them when they continue the last', async (t) => {
  const acc = new RecordAccumulator({ batchBytes: 1024, lingerMs: 0, deliveryTimeoutMs: 60_000 })
  const idem = new Idempotence()
  idem.initialized(1, 0)
  for (let i = 0; i < 4; i++) {
    const { batch: b } = acc.append('t', 0, 10, 0)
    b.add(null, new Uint8Array([i]), [], 0, () => undefined)
    b.closed = true
  }
  const room = (h: SequencedBatch) => idem.room(h.topic, h.partition, h, IDEMPOTENT_BATCHES_IN_FLIGHT_MAX)
  const follows = (prev: SequencedBatch, next: SequencedBatch) => idem.continues(prev, next)
  const sent = acc.drain(0, () => 1, () => true, 1 << 20, undefined, room, follows).requests[0].batches
  for (const b of sent) idem.sent(b)
  for (let i = sent.length - 1; i >= 0; i--) {
    idem.returned(sent[i])
    sent[i].attempts = 1
    acc.reenqueue(sent[i], 0)
  }
  const { batch: fresh } = acc.append('t', 0, 10, 0)
  fresh.add(null, new Uint8Array([9]), [], 0, () => undefined)
  fresh.closed = true
  const again = acc.drain(0, () => 1, () => true, 1 << 20, undefined, room, follows).requests[0].batches
  t.same(again, [...sent, fresh], 'one entry: sequences 0..4 follow each other')
})
