import t from 'tap'
import { planRetention, type SegmentSummary } from '../../src/storage/retention.js'
import { baseOffsets, makeBatch, open, tempDir } from './helpers.js'

const seg = (baseOffset: number, endOffset: number, sizeBytes: number, maxTimestamp: number): SegmentSummary => ({ baseOffset, endOffset, sizeBytes, maxTimestamp })
const segs = [seg(0, 10, 100, 1000), seg(10, 20, 100, 2000), seg(20, 30, 100, 3000), seg(30, 35, 50, 4000)]

t.test('planRetention: time, size, the allowed offset and the active segment', async (t) => {
  t.equal(planRetention(segs, { retentionMs: -1, retentionBytes: -1 }, 10_000, 100), 0)
  t.equal(planRetention(segs, { retentionMs: 1000, retentionBytes: -1 }, 3500, 100), 2, 'newest records older than now - retention')
  t.equal(planRetention(segs, { retentionMs: 0, retentionBytes: -1 }, 10_000, 100), 3, 'never the active segment')
  t.equal(planRetention(segs, { retentionMs: 0, retentionBytes: -1 }, 10_000, 19), 1, 'only below the allowed offset')
  t.equal(planRetention(segs, { retentionMs: -1, retentionBytes: 200 }, 0, 100), 1, '350 bytes with a 200 limit: drop 100 (250 left; dropping another would go under)')
  t.equal(planRetention(segs, { retentionMs: -1, retentionBytes: 0 }, 0, 100), 3)
})

t.test('retention by time and size on a real log; deleteRecordsBefore', async (t) => {
  let now = 1_700_000_000_000
  const dir = tempDir(t)
  const config = { segmentBytes: 1024, retentionMs: 60_000, retentionBytes: -1 }
  const log = await open(dir, { clock: () => now, config })
  for (let i = 0; i < 30; i++) await log.appendAsLeader(makeBatch(2, 100, i, now + i * 1000), i < 10 ? 0 : 1)
  const before = log.stats()
  t.ok(before.segments >= 6)
  t.same(await log.applyRetention(60), { deletedSegments: 0, deletedBytes: 0 }, 'nothing expired yet')
  now += 70_000 // records at now-70s .. now-41s: the first ~20 expired
  const r = await log.applyRetention(40)
  t.ok(r.deletedSegments > 0 && log.logStartOffset <= 40, `deleted ${r.deletedSegments}, start ${log.logStartOffset}`)
  await t.rejects(log.read(0, 100), { code: 'OFFSET_OUT_OF_RANGE' })
  t.equal(baseOffsets((await log.read(log.logStartOffset, 100)).bytes)[0], log.logStartOffset)
  t.equal(log.epochEntries()[0].startOffset, Math.min(log.logStartOffset, 20), 'the epoch cache follows the start')
  await log.deleteRecordsBefore(45)
  t.equal(log.logStartOffset, 45)
  t.equal(baseOffsets((await log.read(45, 100)).bytes)[0], 44, 'the batch holding 45 is served whole')
  t.same(log.epochEntries(), [{ epoch: 1, startOffset: 45 }])
  await t.rejects(log.deleteRecordsBefore(61), { code: 'OFFSET_OUT_OF_RANGE' })
  await log.close()
  const again = await open(dir, { clock: () => now, config: { ...config, retentionMs: -1, retentionBytes: 1500 } })
  t.equal(again.logStartOffset, 45, 'the start survives a reopen')
  await again.applyRetention(60)
  t.ok(again.stats().sizeBytes <= 1500 + 1024, `size retention left ${again.stats().sizeBytes} bytes`)
  t.equal(again.stats().segments >= 1, true)
  await again.close()
})

t.test('cleanupPolicy=compact never deletes by retention', async (t) => {
  const log = await open(tempDir(t), { config: { segmentBytes: 1024, retentionMs: 0, cleanupPolicy: 'compact' } })
  for (let i = 0; i < 20; i++) await log.appendAsLeader(makeBatch(2, 100, i, 1), 0)
  t.equal((await log.applyRetention(40)).deletedSegments, 0)
  await log.close()
})

t.test('truncateFullyAndStartAt restarts an empty log at an offset, after a record of the given epoch', async (t) => {
  const dir = tempDir(t)
  const log = await open(dir)
  await log.appendAsLeader(makeBatch(3), 2)
  await log.truncateFullyAndStartAt(1000, 5)
  t.same([log.logStartOffset, log.logEndOffset, log.flushedOffset], [1000, 1000, 1000])
  t.same(log.epochEntries(), [])
  t.equal(log.logStartEpoch, 5)
  t.equal(log.latestEpoch, 5, 'the empty log is as up to date as the record below its start')
  await t.rejects(log.appendAsLeader(makeBatch(1), 4), { code: 'INVALID_ARGUMENT' }, 'an older epoch may not follow it')
  await log.close()
  const reopened = await open(dir)
  t.same([reopened.logStartOffset, reopened.logEndOffset, reopened.logStartEpoch], [1000, 1000, 5], 'the epoch below the start is on disk')
  await reopened.appendAsLeader(makeBatch(1), 6)
  await reopened.close()
  const again = await open(dir)
  t.same([again.logStartOffset, again.logEndOffset], [1000, 1001])
  t.same(again.epochEntries(), [{ epoch: 6, startOffset: 1000 }])
  t.equal(again.logStartEpoch, 5)
  await again.close()
})

t.test('the epoch below the log start survives a reopen after retention and deleteRecordsBefore', async (t) => {
  const dir = tempDir(t)
  const log = await open(dir, { config: { segmentBytes: 1024, retentionBytes: 1024 } })
  for (let i = 0; i < 30; i++) await log.appendAsLeader(makeBatch(2, 100, i, 1), 1 + Math.floor(i / 10))
  const { deletedSegments } = await log.applyRetention(log.logEndOffset)
  t.ok(deletedSegments > 0)
  const epochOf = (offset: number) => 1 + Math.floor(offset / 20) // 10 batches of 2 records per epoch
  const start = log.logStartOffset
  t.equal(log.logStartEpoch, epochOf(start - 1), `retention to ${start}: the epoch of the record below it`)
  await log.close()
  const reopened = await open(dir, { config: { segmentBytes: 1024 } })
  t.same([reopened.logStartOffset, reopened.logStartEpoch], [start, epochOf(start - 1)])
  const mid = start + 3
  await reopened.deleteRecordsBefore(mid)
  t.equal(reopened.logStartEpoch, epochOf(mid - 1), 'deleteRecordsBefore inside a segment')
  await reopened.close()
  const again = await open(dir, { config: { segmentBytes: 1024 } })
  t.same([again.logStartOffset, again.logStartEpoch], [mid, epochOf(mid - 1)])
  await again.close()
})
