// Producer state snapshots named by offset (producer-state-snapshot.ts): the newest one the log
// can continue is taken; ones past the log end, of a log truncated and written again (another
// epoch below their end) or damaged are deleted; at most PRODUCER_SNAPSHOTS_KEPT stay, none
// below the log start.
import t from 'tap'
import { loadCodec } from '../../../src/codec/index.js'
import { PRODUCER_BATCHES_KEPT, PRODUCER_SNAPSHOTS_KEPT, PRODUCERS_PER_PARTITION_MAX } from '../../../src/broker/partition/limits.js'
import { ProducerStateTable, type ProducerEntry } from '../../../src/broker/partition/producer-state.js'
import { ProducerSnapshots, snapshotEnds, snapshotFileName, type SnapshotLog } from '../../../src/broker/partition/producer-state-snapshot.js'
import { SimFileLayer, SMALL_FILE_BYTES_MAX } from '../../../src/storage/index.js'

const codec = await loadCodec()
const crc = (b: Uint8Array) => codec.crc32c(b)
const DIR = '/data/t-0'
const DAY_MS = 86_400_000

/** A log of `end` offsets whose batches below `rewrittenFrom` have epoch 1, the rest `laterEpoch`. */
function log(start: number, end: number, laterEpoch = 1, rewrittenFrom = Infinity): SnapshotLog {
  return { logStartOffset: start, logEndOffset: end, epochAt: (offset) => (offset >= rewrittenFrom ? laterEpoch : 1) }
}

/** The state after one producer's batch of 10 records at [end - 10, end). */
function tableAt(end: number): ProducerStateTable {
  const table = new ProducerStateTable(DAY_MS, end - 10)
  table.appended({ producerId: 7, producerEpoch: 0, baseSequence: end - 10, recordCount: 10 }, end - 10, 0)
  return table
}

async function setup() {
  const fs = new SimFileLayer()
  await fs.mkdirp(DIR)
  return { fs, snapshots: new ProducerSnapshots(fs.session(), DIR, crc) }
}

const noDamage = (why: string) => {
  throw new Error(`unexpected damage: ${why}`)
}

t.test('the newest that fits is taken; at most the bound kept, none below the log start', async (t) => {
  const { fs, snapshots } = await setup()
  for (const end of [10, 20, 30, 40]) await snapshots.save(tableAt(end), log(0, end))
  t.equal(PRODUCER_SNAPSHOTS_KEPT, 2)
  t.same(snapshotEnds(fs, DIR), [40, 30], 'the two newest kept')
  const taken = await snapshots.load(log(0, 45), DAY_MS, 0, noDamage)
  t.equal(taken?.end, 40)
  t.same(taken?.entries().map((e) => e.batches[0].lastSeq), [39], 'with the producer\'s last batch')
  await snapshots.save(tableAt(50), log(45, 50))
  t.same(snapshotEnds(fs, DIR), [50], 'one below the log start is deleted at the next save')
})

t.test('after a truncation: one past the log end is deleted and the next older is taken', async (t) => {
  const { fs, snapshots } = await setup()
  await snapshots.save(tableAt(20), log(0, 20))
  await snapshots.save(tableAt(30), log(0, 30))
  const taken = await snapshots.load(log(0, 25), DAY_MS, 0, noDamage)
  t.equal(taken?.end, 20)
  t.same(snapshotEnds(fs, DIR), [20], 'the one at 30 is gone (durably, with its directory)')
})

t.test('a log truncated below a snapshot and written again to past it: the snapshot is another history, dropped', async (t) => {
  const { fs, snapshots } = await setup()
  await snapshots.save(tableAt(20), log(0, 20))
  await snapshots.save(tableAt(30), log(0, 30))
  // Truncated to 25, then a new leader (epoch 2) wrote to 40: offset 29 now holds another batch.
  const taken = await snapshots.load(log(0, 40, 2, 25), DAY_MS, 0, noDamage)
  t.equal(taken?.end, 20, 'the older one, below the rewrite, is taken')
  t.same(snapshotEnds(fs, DIR), [20])
  t.equal(await snapshots.load(log(0, 40, 2, 15), DAY_MS, 0, noDamage), null, 'none fits a log rewritten below them all')
  t.same(snapshotEnds(fs, DIR), [])
})

t.test('a damaged snapshot is reported and deleted; the older one is taken', async (t) => {
  const { fs, snapshots } = await setup()
  await snapshots.save(tableAt(20), log(0, 20))
  await snapshots.save(tableAt(30), log(0, 30))
  const h = fs.session().open(`${DIR}/${snapshotFileName(30)}`, { create: false })
  h.write(new TextEncoder().encode('9'), 30)
  h.close()
  const damaged: string[] = []
  const taken = await snapshots.load(log(0, 30), DAY_MS, 0, (why) => damaged.push(why))
  t.equal(taken?.end, 20)
  t.match(damaged, [/00000000000000000030\.producer-state/])
  t.same(snapshotEnds(fs, DIR), [20])
})

t.test('the largest snapshot the bounds allow is written and read back: every producer remembered, every batch with the widest numbers', async (t) => {
  const { fs, snapshots } = await setup()
  const END = Number.MAX_SAFE_INTEGER - 1
  const SEQ = 2 ** 31 - 1
  const entries: ProducerEntry[] = Array.from({ length: PRODUCERS_PER_PARTITION_MAX }, (_, p) => ({
    producerId: Number.MAX_SAFE_INTEGER - p, epoch: 32_767, lastAppendMs: 0,
    batches: Array.from({ length: PRODUCER_BATCHES_KEPT }, (_, b) => ({ firstSeq: SEQ - 2 * b - 1, lastSeq: SEQ - 2 * b, baseOffset: END - 2 * b - 1, lastOffset: END - 2 * b })),
  }))
  await snapshots.save(ProducerStateTable.restore(DAY_MS, END, entries), { logStartOffset: 0, logEndOffset: END, epochAt: () => 2_147_483_647 })
  const [end] = snapshotEnds(fs, DIR)
  const file = fs.session().open(`${DIR}/${snapshotFileName(end)}`, { create: false })
  const bytes = file.size()
  file.close()
  t.ok(bytes > 0 && bytes <= SMALL_FILE_BYTES_MAX, `${bytes} bytes, within the ${SMALL_FILE_BYTES_MAX}-byte small-file limit`)
  const taken = await snapshots.load({ logStartOffset: 0, logEndOffset: END, epochAt: () => 2_147_483_647 }, DAY_MS, 0, noDamage)
  t.equal(taken?.entries().length, PRODUCERS_PER_PARTITION_MAX)
  t.same(taken?.entries().at(-1)?.batches, entries.at(-1)?.batches)
})
