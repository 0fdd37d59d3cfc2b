import { readdirSync } from 'node:fs'
import t from 'tap'
import { readBatchHeader } from '../../src/codec/index.js'
import { NodeFileLayer, PartitionLog, SimFileLayer, StorageError, type FileHandle } from '../../src/storage/index.js'
import { baseOffsets, codec, concat, makeBatch, open, tempDir } from './helpers.js'

t.test('leader appends stamp offsets and epoch; reads return the stored bytes', async (t) => {
  const dir = tempDir(t)
  const log = await open(dir)
  t.equal(log.logStartOffset, 0)
  t.equal(log.logEndOffset, 0)
  const a = await log.appendAsLeader(concat(makeBatch(3), makeBatch(2, 16, 1)), 5)
  t.same([a.firstOffset, a.lastOffset, a.nextOffset, a.batches], [0, 4, 5, 2])
  const b = await log.appendAsLeader(makeBatch(1), 5)
  t.same([b.firstOffset, b.lastOffset], [5, 5])
  const r = await log.read(0, 1 << 20)
  t.same(baseOffsets(r.bytes), [0, 3, 5])
  t.equal(r.nextOffset, 6)
  t.equal(readBatchHeader(r.bytes, 0).partitionLeaderEpoch, 5)
  const mid = await log.read(4, 1)
  t.same(baseOffsets(mid.bytes), [3], 'starts with the batch holding offset 4, whole even over maxBytes')
  t.same((await log.read(6, 100)).bytes.length, 0, 'empty at the log end')
  await t.rejects(log.read(7, 100), { code: 'OFFSET_OUT_OF_RANGE' })
  t.same(log.epochEntries(), [{ epoch: 5, startOffset: 0 }])
  await log.close()
})

t.test('follower appends keep bytes exactly and require the log end', async (t) => {
  const dir = tempDir(t)
  const log = await open(dir)
  const batch = makeBatch(4)
  const leaderStamped = batch.slice()
  new DataView(leaderStamped.buffer).setInt32(12, 3) // epoch 3, base 0
  await log.appendAsFollower(leaderStamped)
  t.same((await log.read(0, 1000)).bytes, leaderStamped, 'byte for byte')
  await t.rejects(log.appendAsFollower(leaderStamped), { code: 'OFFSET_MISMATCH' })
  const corrupt = leaderStamped.slice()
  corrupt[corrupt.length - 1] ^= 1
  await t.rejects(log.appendAsFollower(corrupt), { code: 'INVALID_BATCH' })
  t.equal(log.latestEpoch, 3)
  await log.close()
})

t.test('a follower takes the leader\'s bytes on framing and CRC: the records section, validated by the leader, is not walked again', async (t) => {
  const log = await open(tempDir(t))
  const batch = makeBatch(2)
  new DataView(batch.buffer).setInt32(12, 3) // stamped by a leader of epoch 3
  new DataView(batch.buffer).setInt32(61, 5) // the first record's length varint and more: garbage to a records walk
  new DataView(batch.buffer).setUint32(17, codec.crc32c(batch.subarray(21)))
  t.throws(() => codec.validateBatch(batch), 'the walk would refuse it')
  await log.appendAsFollower(batch)
  t.same((await log.read(0, 1000)).bytes, batch, 'stored byte for byte')
  const flipped = batch.slice()
  flipped[flipped.length - 1] ^= 1
  await t.rejects(log.appendAsFollower(flipped), { code: 'INVALID_BATCH', message: /CRC mismatch/ }, 'a byte changed on the way is still refused')
  await log.close()
})

t.test('invalid leader input is rejected with typed errors', async (t) => {
  const log = await open(tempDir(t), { config: { segmentBytes: 1024 } })
  await t.rejects(log.appendAsLeader(new Uint8Array(10), 0), { code: 'INVALID_BATCH' })
  await t.rejects(log.appendAsLeader(makeBatch(1, 2000), 0), { code: 'BATCH_TOO_LARGE' })
  await t.rejects(log.appendAsLeader(makeBatch(1), -1), { code: 'INVALID_ARGUMENT' })
  await log.appendAsLeader(makeBatch(1), 2)
  await t.rejects(log.appendAsLeader(makeBatch(1), 1), { code: 'INVALID_ARGUMENT' })
  await t.rejects(log.read(0, 0), { code: 'INVALID_ARGUMENT' })
  t.ok(new StorageError('IO_FAILED', 'x') instanceof Error)
  await log.close()
})

t.test('prevalidated leader appends re-check framing only', async (t) => {
  const log = await open(tempDir(t))
  const bad = makeBatch(2)
  bad[bad.length - 1] ^= 1 // records damaged, framing intact: the caller vouched for it
  await log.appendAsLeader(bad, 0, { prevalidated: true })
  await t.rejects(log.appendAsLeader(new Uint8Array(70), 0, { prevalidated: true }), { code: 'INVALID_BATCH' })
  await t.rejects(log.appendAsLeader(bad, 0), { code: 'INVALID_BATCH' }, 'full validation by default')
  await log.close()
})

t.test('segments roll by size and reads cross segment boundaries', async (t) => {
  const dir = tempDir(t)
  const log = await open(dir, { config: { segmentBytes: 1024, indexIntervalBytes: 100 } })
  for (let i = 0; i < 40; i++) await log.appendAsLeader(makeBatch(2, 40, i), 1)
  t.ok(log.stats().segments > 5, `rolled into ${log.stats().segments} segments`)
  const all = await log.read(0, 1 << 20)
  t.same(baseOffsets(all.bytes), Array.from({ length: 40 }, (_, i) => i * 2), 'one read spans every segment')
  for (const from of [0, 1, 17, 38, 79]) {
    const r = await log.read(from, 300)
    const bases = baseOffsets(r.bytes)
    t.equal(bases[0], from - (from % 2), `read from ${from} starts at its batch`)
    t.ok(r.bytes.length <= 300, 'stays within maxBytes')
  }
  await log.close()
  const again = await open(dir, { config: { segmentBytes: 1024, indexIntervalBytes: 100 } })
  t.equal(again.logEndOffset, 80)
  t.same((await again.read(0, 1 << 20)).bytes, all.bytes, 'identical after reopen')
  t.equal(again.recovery.rebuiltIndexes, 0, 'closed segments load their index files')
  await again.close()
})

t.test('segments roll by age (injected clock)', async (t) => {
  let now = 1000
  const log = await open(tempDir(t), { clock: () => now, config: { segmentMs: 100 } })
  await log.appendAsLeader(makeBatch(1), 0)
  now += 50
  await log.appendAsLeader(makeBatch(1), 0)
  t.equal(log.stats().segments, 1)
  now += 60
  await log.appendAsLeader(makeBatch(1), 0)
  t.equal(log.stats().segments, 2)
  await log.close()
})

t.test('read stops at maxOffset (the high watermark)', async (t) => {
  const log = await open(tempDir(t))
  for (let i = 0; i < 5; i++) await log.appendAsLeader(makeBatch(2), 0)
  t.same(baseOffsets((await log.read(0, 1 << 20, { maxOffset: 6 })).bytes), [0, 2, 4])
  t.same(baseOffsets((await log.read(0, 1 << 20, { maxOffset: 5 })).bytes), [0, 2])
  t.equal((await log.read(6, 1 << 20, { maxOffset: 6 })).bytes.length, 0)
  await log.close()
})

t.test('reads leave the asked headroom before the bytes, in a lent buffer when it is large enough', async (t) => {
  const log = await open(tempDir(t), { config: { segmentBytes: 1024, indexIntervalBytes: 100 } })
  for (let i = 0; i < 40; i++) await log.appendAsLeader(makeBatch(2, 40, i), 1)
  const plain = await log.read(0, 300)
  const own = await log.read(0, 300, { headroomBytes: 64 })
  t.same(own.bytes, plain.bytes, 'the same batches')
  t.equal(own.bytes.byteOffset, 64, 'the headroom first')

  const lent = new Uint8Array(4096).fill(0xee)
  const inLent = await log.read(0, 300, { headroomBytes: 64, buffer: lent })
  t.same(inLent.bytes, plain.bytes)
  t.equal(inLent.bytes.buffer, lent.buffer, 'read into the lent buffer')
  t.equal(inLent.bytes.byteOffset, 64)
  t.ok(lent.subarray(0, 64).every((b) => b === 0xee), 'the headroom is left alone')

  const small = new Uint8Array(300)
  const notLent = await log.read(0, 300, { headroomBytes: 64, buffer: small })
  t.same(notLent.bytes, plain.bytes)
  t.not(notLent.bytes.buffer, small.buffer, 'headroom + read larger than the lent buffer: a buffer of their own')
  t.ok(small.every((b) => b === 0), 'the small lent buffer is untouched')

  const across = await log.read(0, 1 << 20, { headroomBytes: 32, buffer: lent })
  t.same(baseOffsets(across.bytes), Array.from({ length: 40 }, (_, i) => i * 2), 'a read across segments')
  t.equal(across.bytes.byteOffset, 32, 'its parts joined after the headroom')
  t.equal((await log.read(80, 100, { headroomBytes: 32, buffer: lent })).bytes.length, 0, 'empty at the log end')
  await t.rejects(log.read(0, 100, { headroomBytes: -1 }), { code: 'INVALID_ARGUMENT' })
  await t.rejects(log.read(0, 100, { headroomBytes: 1 << 20 }), { code: 'INVALID_ARGUMENT' })
  await log.close()
})

/**
 * Real files whose fsync starts a few ms late, as a thread-pool fdatasync may: a file closed
 * in between fails it with EBADF.
 */
class LateSyncFileLayer extends NodeFileLayer {
  override open(path: string, options: { create: boolean }): FileHandle {
    const h = super.open(path, options)
    const sync = h.sync.bind(h)
    h.sync = async () => {
      await new Promise((resolve) => setTimeout(resolve, 5))
      return sync()
    }
    return h
  }
}

t.test('a group-commit fsync asked for just before a truncation does not fail the log on a file the truncation closes', async (t) => {
  // The last appends' fsync waits for setImmediate (group commit), so it starts inside the
  // truncation, after the first segment is removed; it synced the next one to go after the
  // truncation closed it (EBADF) and failed the log: "fsync failed ... reopen the log".
  const dir = tempDir(t)
  const config = { segmentBytes: 1024, indexIntervalBytes: 64 }
  const log = await open(dir, { config, fs: new LateSyncFileLayer() })
  const segments = () => readdirSync(dir).filter((f) => f.endsWith('.log')).length
  for (let i = 0; i < 20; i++) await log.appendAsLeader(makeBatch(1, 60, i), 1)
  await log.flush()
  for (let i = 20; i < 60; i++) await log.appendAsLeader(makeBatch(1, 60, i), 1) // its fsync is asked for, not started
  const before = segments()
  await log.truncateTo(20)
  t.ok(before - segments() >= 3, `the truncation removed ${before - segments()} segments`)
  t.equal(log.logEndOffset, 20)
  t.equal(log.flushedOffset, 20)
  await log.appendAsLeader(makeBatch(1, 60, 99), 2)
  t.equal(await log.flush(), 21, 'the log still works: the next batch is flushed')
  t.same(baseOffsets((await log.read(0, 1 << 20)).bytes), Array.from({ length: 21 }, (_, i) => i))
  await log.close()
})

t.test('truncateTo drops the divergent tail, across segments, durably, with the epoch cache', async (t) => {
  const dir = tempDir(t)
  const config = { segmentBytes: 1024, indexIntervalBytes: 64 }
  const log = await open(dir, { config })
  for (let i = 0; i < 30; i++) await log.appendAsLeader(makeBatch(1, 60, i), i < 10 ? 1 : i < 20 ? 2 : 3)
  t.same(log.epochEntries(), [{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 10 }, { epoch: 3, startOffset: 20 }])
  await log.truncateTo(15)
  t.equal(log.logEndOffset, 15)
  t.equal(log.flushedOffset, 15)
  t.same(log.epochEntries(), [{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 10 }])
  t.same(log.endOffsetForEpoch(2), { epoch: 2, endOffset: 15 })
  t.same(log.endOffsetForEpoch(1), { epoch: 1, endOffset: 10 })
  await log.appendAsLeader(makeBatch(1, 60, 99), 4)
  t.same(baseOffsets((await log.read(0, 1 << 20)).bytes), Array.from({ length: 16 }, (_, i) => i))
  await log.close()
  const again = await open(dir, { config })
  t.equal(again.logEndOffset, 16)
  t.same(again.epochEntries(), [{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 10 }, { epoch: 4, startOffset: 15 }])
  await again.truncateTo(0)
  t.equal(again.logEndOffset, 0)
  t.same(again.epochEntries(), [])
  await again.close()
})

t.test('offsetForTimestamp finds the first record at or after a time', async (t) => {
  const log = await open(tempDir(t), { config: { segmentBytes: 1024, indexIntervalBytes: 50 } })
  for (let i = 0; i < 20; i++) await log.appendAsLeader(makeBatch(3, 40, i, 1000 + i * 10), 0) // records at +0,+1,+2
  t.same(await log.offsetForTimestamp(0), { offset: 0, timestamp: 1000 })
  t.same(await log.offsetForTimestamp(1051), { offset: 16, timestamp: 1051 })
  t.same(await log.offsetForTimestamp(1053), { offset: 18, timestamp: 1060 })
  t.same(await log.offsetForTimestamp(1192), { offset: 59, timestamp: 1192 })
  t.equal(await log.offsetForTimestamp(1193), null)
  await log.close()
})

t.test('group commit: many concurrent appends share one fsync', async (t) => {
  const fs = new NodeFileLayer()
  const log = await open(tempDir(t), { fs })
  await log.appendAsLeader(makeBatch(1), 0)
  await log.waitForFlush(1)
  const before = fs.fsyncCount
  const n = 200
  const appends = Array.from({ length: n }, () => log.appendAsLeader(makeBatch(1), 0).then((a) => log.waitForFlush(a.nextOffset)))
  await Promise.all(appends)
  const used = fs.fsyncCount - before
  t.ok(used <= 3, `${n} concurrent appends used ${used} fsyncs`)
  t.equal(log.flushedOffset, n + 1)
  await log.close()
})

t.test('flush=interval flushes on its timer and on close', async (t) => {
  const log = await open(tempDir(t), { config: { flush: 'interval', flushIntervalMs: 20 } })
  await log.appendAsLeader(makeBatch(1), 0)
  t.equal(log.flushedOffset, 0, 'not flushed by the append')
  const started = Date.now()
  await log.waitForFlush(1)
  t.ok(Date.now() - started < 1000)
  await log.appendAsLeader(makeBatch(1), 0)
  await log.close()
  t.pass('closed')
})

t.test('operations on a closed log fail with LOG_CLOSED', async (t) => {
  const log = await open(tempDir(t))
  await log.close()
  await t.rejects(log.read(0, 10), { code: 'LOG_CLOSED' })
  await t.rejects(log.appendAsLeader(makeBatch(1), 0), { code: 'LOG_CLOSED' })
  t.ok(codec)
})

t.test('a roll waits for an epoch checkpoint a group commit is still writing (a power cut then keeps the closed segment\'s epochs)', async (t) => {
  // Once the log is open, checkpoint fsyncs hang until the cut; every other fsync completes at once.
  let holding = false
  const fs = new SimFileLayer({ syncDelay: (path) => new Promise((resolve) => (holding && path.includes('leader-epoch') ? undefined : setImmediate(resolve))) })
  const dir = '/data/roll-epochs'
  await fs.mkdirp(dir)
  const log = await PartitionLog.open({ dir, fs: fs.session(), codec, config: { segmentBytes: 1024 } })
  holding = true
  await log.appendAsLeader(makeBatch(1, 100), 1)
  const second = await log.appendAsLeader(makeBatch(1, 100), 2) // epoch 2 begins: the checkpoint is dirty
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r)) // the group commit starts saving it
  void log.appendAsLeader(makeBatch(1, 900), 2).catch(() => undefined) // does not fit: the segment rolls
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r))
  log.abandon()
  fs.powerCut()
  holding = false
  const reopened = await PartitionLog.open({ dir, fs: fs.session(), codec, config: { segmentBytes: 1024 } })
  t.same(reopened.epochEntries().filter((e) => e.epoch === 2), [{ epoch: 2, startOffset: second.firstOffset }], 'epoch 2 is known after the cut')
  await reopened.close()
})

t.test('a new leader epoch costs one fsync (the segment); the epoch checkpoint waits, and a power cut loses no epoch', async (t) => {
  const fs = new SimFileLayer()
  const dir = '/data/epochs-0'
  await fs.mkdirp(dir)
  const log = await PartitionLog.open({ dir, fs: fs.session(), codec })
  await log.appendAsLeader(makeBatch(2), 1)
  await log.flush()
  for (const epoch of [2, 3]) {
    const before = fs.fsyncCount
    const a = await log.appendAsLeader(makeBatch(1), epoch)
    await log.waitForFlush(a.nextOffset)
    t.equal(fs.fsyncCount - before, 1, `epoch ${epoch}: the segment's fsync alone (no checkpoint rewrite: temp file and directory)`)
  }
  const follower = makeBatch(1)
  new DataView(follower.buffer).setInt32(12, 5) // a follower's batch of epoch 5 at offset 4
  new DataView(follower.buffer).setBigInt64(0, 4n)
  const before = fs.fsyncCount
  const f = await log.appendAsFollower(follower)
  await log.waitForFlush(f.nextOffset)
  t.equal(fs.fsyncCount - before, 1, 'a follower append that starts an epoch: one fsync')
  const epochs = log.epochEntries()
  t.same(epochs.map((e) => e.epoch), [1, 2, 3, 5])
  log.abandon()
  fs.powerCut({ random: () => 0.5 })
  const reopenedAt = fs.fsyncCount
  const reopened = await PartitionLog.open({ dir, fs: fs.session(), codec })
  t.same(reopened.epochEntries(), epochs, 'recovery reads the epochs back from the active segment')
  t.equal(fs.fsyncCount - reopenedAt, 2, 'opening syncs the segment and the directory, and does not rewrite the checkpoint')
  await reopened.close()
})

t.test('a roll whose epoch-checkpoint save fails leaves no new segment: the reopened log still knows its epochs', async (t) => {
  // The new segment used to be created before the checkpoint save: after a failed save the
  // reopen (no power cut) saw the old segment as closed, its epochs in no checkpoint, and
  // claimed no epoch at all (shell state-machine seed 1454 elected a leader lacking committed data).
  const fs = new SimFileLayer()
  const dir = '/data/roll-0'
  await fs.mkdirp(dir)
  const log = await PartitionLog.open({ dir, fs: fs.session(), codec })
  await log.appendAsLeader(makeBatch(2), 3)
  await log.appendAsLeader(makeBatch(1), 4)
  await log.flush()
  fs.failSync = (path) => path.endsWith('leader-epoch-checkpoint.tmp')
  await t.rejects(log.roll(), { code: 'IO_FAILED' })
  fs.failSync = null
  log.abandon()
  const reopened = await PartitionLog.open({ dir, fs: fs.session(), codec })
  t.same(reopened.epochEntries(), [{ epoch: 3, startOffset: 0 }, { epoch: 4, startOffset: 2 }])
  t.equal(reopened.latestEpoch, 4)
  await reopened.close()
})
