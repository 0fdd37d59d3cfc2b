// The pure producer state: the leader's sequence checks and the fold of appended batches.
import t from 'tap'
import { ErrorCode } from '../../../src/protocol/index.js'
import { PRODUCER_BATCHES_KEPT } from '../../../src/broker/partition/limits.js'
import {
  advanceSequence, checkEntry, ProducerStateTable, SEQUENCE_MAX, type ProducerBatchHeader, type SequenceVerdict,
} from '../../../src/broker/partition/producer-state.js'

const DAY = 24 * 60 * 60 * 1000
const batch = (producerId: number, producerEpoch: number, baseSequence: number, recordCount = 1): ProducerBatchHeader =>
  ({ producerId, producerEpoch, baseSequence, recordCount })

/** A table that took `batches` in order from offset 0 (each as the leader would append it). */
function tableWith(...batches: ProducerBatchHeader[]): ProducerStateTable {
  const table = new ProducerStateTable(DAY, 0)
  for (const b of batches) table.appended(b, table.end, 0)
  return table
}

const code = (v: SequenceVerdict) => (v.kind === 'refused' ? ErrorCode[v.code] : v.kind)

t.test('an unknown producer starts at sequence 0; any other start is UNKNOWN_PRODUCER_ID', async (t) => {
  const table = tableWith()
  t.equal(code(table.check(batch(7, 0, 0, 3), 0)), 'append')
  t.equal(code(table.check(batch(7, 0, 3, 3), 0)), 'UNKNOWN_PRODUCER_ID')
})

t.test('the next sequence appends, a gap is OUT_OF_ORDER_SEQUENCE_NUMBER, a retry of a kept batch is a duplicate', async (t) => {
  const table = tableWith(batch(7, 0, 0, 3), batch(7, 0, 3, 2))
  t.equal(code(table.check(batch(7, 0, 5, 1), 0)), 'append')
  t.equal(code(table.check(batch(7, 0, 6, 1), 0)), 'OUT_OF_ORDER_SEQUENCE_NUMBER', 'sequence 5 skipped')
  t.same(table.check(batch(7, 0, 0, 3), 0), { kind: 'duplicate', baseOffset: 0, lastOffset: 2 })
  t.same(table.check(batch(7, 0, 3, 2), 0), { kind: 'duplicate', baseOffset: 3, lastOffset: 4 })
  t.equal(code(table.check(batch(7, 0, 3, 1), 0)), 'OUT_OF_ORDER_SEQUENCE_NUMBER', 'a range that matches no batch is not a duplicate')
})

t.test('only the last 5 batches are recognised as duplicates', async (t) => {
  const batches = Array.from({ length: PRODUCER_BATCHES_KEPT + 1 }, (_, i) => batch(7, 0, i))
  const table = tableWith(...batches)
  t.equal(code(table.check(batches[0], 0)), 'OUT_OF_ORDER_SEQUENCE_NUMBER', 'the sixth-newest is forgotten')
  for (const b of batches.slice(1)) t.same(table.check(b, 0), { kind: 'duplicate', baseOffset: b.baseSequence, lastOffset: b.baseSequence })
})

t.test('an older epoch is INVALID_PRODUCER_EPOCH; a newer one must start at sequence 0 and replaces the state', async (t) => {
  const table = tableWith(batch(7, 2, 0, 4))
  t.equal(code(table.check(batch(7, 1, 4), 0)), 'INVALID_PRODUCER_EPOCH')
  t.equal(code(table.check(batch(7, 3, 4), 0)), 'OUT_OF_ORDER_SEQUENCE_NUMBER')
  t.equal(code(table.check(batch(7, 3, 0), 0)), 'append')
  table.appended(batch(7, 3, 0), table.end, 0)
  t.equal(code(table.check(batch(7, 2, 4), 0)), 'INVALID_PRODUCER_EPOCH', 'the old epoch is refused once the new one wrote')
  t.equal(code(table.check(batch(7, 2, 0, 4), 0)), 'INVALID_PRODUCER_EPOCH', 'its batches are no longer duplicates either')
  t.equal(code(table.check(batch(7, 3, 1), 0)), 'append')
})

t.test('forged producer fields are INVALID_RECORD; a batch without a producer id is not checked', async (t) => {
  const table = tableWith(batch(7, 0, 0))
  t.equal(code(table.check(batch(7, 0, -1), 0)), 'INVALID_RECORD', 'negative sequence')
  t.equal(code(table.check(batch(7, -1, 1), 0)), 'INVALID_RECORD', 'negative epoch')
  t.equal(code(table.check(batch(-2, 0, 0), 0)), 'INVALID_RECORD', 'negative producer id other than -1')
  t.equal(code(table.check({ ...batch(7, 0, 1), transactional: true }, 0)), 'INVALID_RECORD', 'transactional')
  t.equal(code(table.check(batch(-1, 0, 0), 0)), 'append')
  t.equal(code(table.check(batch(-1, -1, -1), 0)), 'append')
})

t.test('a producer idle past the expiration is forgotten: it gets UNKNOWN_PRODUCER_ID, and may start again at 0', async (t) => {
  const table = new ProducerStateTable(1000, 0)
  table.appended(batch(7, 0, 0, 2), 0, 5000)
  t.equal(code(table.check(batch(7, 0, 2), 6000)), 'append', 'idle exactly the expiration: kept')
  t.equal(code(table.check(batch(7, 0, 2), 6001)), 'UNKNOWN_PRODUCER_ID')
  t.equal(code(table.check(batch(7, 0, 0), 6001)), 'append')
  table.appended(batch(8, 0, 0), table.end, 5000)
  table.appended(batch(9, 0, 0), table.end, 9000)
  t.equal(table.expire(9500), 1)
  t.same(table.entries().map((e) => e.producerId), [9])
})

t.test('sequences wrap from 2^31 - 1 to 0', async (t) => {
  t.equal(advanceSequence(SEQUENCE_MAX, 1), 0)
  t.equal(advanceSequence(SEQUENCE_MAX - 1, 3), 1)
  const table = new ProducerStateTable(DAY, 0)
  table.appended(batch(7, 0, SEQUENCE_MAX - 1, 2), 0, 0) // an epoch bump would start at 0; here the fold just follows the log
  t.equal(code(table.check(batch(7, 0, 0), 0)), 'append')
  t.equal(code(table.check(batch(7, 0, SEQUENCE_MAX), 0)), 'OUT_OF_ORDER_SEQUENCE_NUMBER')
})

t.test('past the producer limit the least recently written producer is forgotten', async (t) => {
  const table = new ProducerStateTable(DAY, 0, 2)
  table.appended(batch(1, 0, 0), 0, 0)
  table.appended(batch(2, 0, 0), 1, 0)
  table.appended(batch(1, 0, 1), 2, 0) // 1 is now the most recent
  table.appended(batch(3, 0, 0), 3, 0)
  t.same(table.entries().map((e) => e.producerId), [1, 3])
  t.equal(code(table.check(batch(2, 0, 1), 0)), 'UNKNOWN_PRODUCER_ID')
})

t.test('the fold follows the log: batches in order from its end, gaps skipped', async (t) => {
  const table = new ProducerStateTable(DAY, 10)
  t.throws(() => table.appended(batch(1, 0, 0), 9, 0), /out of order/)
  table.appended(batch(1, 0, 0, 5), 10, 0)
  t.equal(table.end, 15)
  table.skipTo(20)
  table.appended(batch(1, 0, 5), 20, 0)
  t.same(table.check(batch(1, 0, 5), 0), { kind: 'duplicate', baseOffset: 20, lastOffset: 20 })
})

t.test('one partition entry: producer fields must agree and sequences follow; duplicates form a prefix', async (t) => {
  const table = tableWith(batch(7, 0, 0, 2), batch(7, 0, 2, 2))
  const disagree = checkEntry(table, [batch(7, 0, 4), batch(8, 0, 5)], 0)
  t.match(disagree, { kind: 'refused', code: ErrorCode.INVALID_RECORD, message: /disagree/ })
  const epochs = checkEntry(table, [batch(7, 0, 4), batch(7, 1, 5)], 0)
  t.match(epochs, { kind: 'refused', code: ErrorCode.INVALID_RECORD })
  const gap = checkEntry(table, [batch(7, 0, 4), batch(7, 0, 6)], 0)
  t.match(gap, { kind: 'refused', code: ErrorCode.INVALID_RECORD, message: /follow/ })
  t.same(checkEntry(table, [batch(7, 0, 2, 2), batch(7, 0, 4), batch(7, 0, 5)], 0), {
    kind: 'ok', duplicates: [{ baseOffset: 2, lastOffset: 3 }], firstNew: 1,
  })
  t.same(checkEntry(table, [batch(7, 0, 0, 2), batch(7, 0, 2, 2)], 0), {
    kind: 'ok', duplicates: [{ baseOffset: 0, lastOffset: 1 }, { baseOffset: 2, lastOffset: 3 }], firstNew: 2,
  })
  t.match(checkEntry(table, [batch(7, 0, 5), batch(7, 0, 6)], 0), { kind: 'refused', code: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER })
})
