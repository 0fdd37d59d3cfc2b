// The recovery point on real files: after a crash only the active segment's bytes past what an
// fsync covered are validated; a truncation below the point removes it first; a point that does
// not fall on the segment's batches (or is damaged) makes recovery validate the whole segment.
import t from 'tap'
import { existsSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { RECOVERY_POINT_INTERVAL_BYTES, type PartitionLog } from '../../src/storage/index.js'
import { decodeRecoveryPoint, encodeRecoveryPoint, RECOVERY_POINT_FILE } from '../../src/storage/recovery-point.js'
import { codec, makeBatch, open, tempDir } from './helpers.js'

// One segment, so that everything written is in the active segment.
const config = { segmentBytes: 256 * 1024 * 1024 }
const pointFile = (dir: string) => join(dir, RECOVERY_POINT_FILE)
const activeLog = (log: PartitionLog) => join(log.dir, String(log.segments.at(-1)!.baseOffset).padStart(20, '0') + '.log')
const crc = (b: Uint8Array) => codec.crc32c(b)

/** A codec that counts batch validations (recovery's check of each batch past the point). */
function countingCodec(): { codec: typeof codec; checks: { n: number } } {
  const checks = { n: 0 }
  const counting = Object.create(codec, {
    validateBatch: { value: (...args: Parameters<typeof codec.validateBatch>) => (checks.n++, codec.validateBatch(...args)) },
    batchCrcMatches: { value: (...args: Parameters<typeof codec.batchCrcMatches>) => (checks.n++, codec.batchCrcMatches(...args)) },
  }) as typeof codec
  return { codec: counting, checks }
}

/** Appends ~`bytes` in batches of 32 records of 1 KiB, each flushed; returns the log (open). */
async function writeFlushed(dir: string, bytes: number, epoch = 1): Promise<PartitionLog> {
  const log = await open(dir, { config })
  const batch = makeBatch(32, 1024, 3)
  while (log.stats().sizeBytes < bytes) {
    const info = await log.appendAsLeader(batch.slice(), epoch)
    await log.waitForFlush(info.nextOffset)
  }
  return log
}

t.test('a crash recovery validates only the bytes past the recovery point and walks the headers below it', async (t) => {
  const dir = tempDir(t)
  const log = await writeFlushed(dir, RECOVERY_POINT_INTERVAL_BYTES * 2.5)
  const point = decodeRecoveryPoint(readFileSync(pointFile(dir)), crc)
  t.ok(point.position >= RECOVERY_POINT_INTERVAL_BYTES * 2, `a point was written after the fsyncs (at byte ${point.position})`)
  const all = (await log.read(0, 128 * 1024 * 1024)).bytes
  const end = log.logEndOffset
  await log.appendAsLeader(makeBatch(4, 100, 9), 1) // unflushed: the crash tears it
  log.abandon()
  const path = activeLog(log)
  const size = statSync(path).size
  truncateSync(path, size - 11)

  const { codec: counting, checks } = countingCodec()
  const reopened = await open(dir, { config, codec: counting })
  const r = reopened.recovery
  t.equal(r.cleanShutdown, false)
  t.equal(r.trustedBytes, point.position, 'the bytes below the point: headers walked')
  t.equal(r.scannedBytes, size - 11 - point.position - (size - 11 - all.length), 'only the bytes past it validated (the torn batch cut)')
  const batchBytes = makeBatch(32, 1024, 3).length
  t.ok(checks.n <= Math.ceil((size - point.position) / batchBytes), `${checks.n} batches validated (those past the point), not the ${Math.round(all.length / batchBytes)} of the segment`)
  t.ok(r.truncatedBytes > 0, 'the torn tail is cut')
  t.equal(reopened.logEndOffset, end, 'back to the last whole batch')
  t.same(reopened.epochEntries(), [{ epoch: 1, startOffset: 0 }])
  t.ok(Buffer.from((await reopened.read(0, 128 * 1024 * 1024)).bytes).equals(all), 'every byte reads back through the rebuilt index')
  const v = await reopened.verify(1 << 30)
  t.ok(v.done && v.damage === null, 'and verifies')
  await reopened.close()
})

t.test('a truncation below the recovery point removes it before changing the segment', async (t) => {
  const dir = tempDir(t)
  const log = await writeFlushed(dir, RECOVERY_POINT_INTERVAL_BYTES * 1.5)
  t.ok(existsSync(pointFile(dir)), 'a point exists')
  await log.truncateTo(96) // a batch boundary (32 records each)
  t.notOk(existsSync(pointFile(dir)), 'gone with the truncation')
  await log.appendAsFollower(makeBatchAt(96, 2))
  log.abandon()
  const reopened = await open(dir, { config })
  t.equal(reopened.recovery.trustedBytes, 0, 'nothing trusted')
  t.equal(reopened.logEndOffset, 98)
  await reopened.close()
})

t.test('a point that does not fall on the batches, or is damaged, makes recovery validate the whole segment', async (t) => {
  for (const [what, damage] of [
    ['a position inside a batch', (dir: string) => {
      const p = decodeRecoveryPoint(readFileSync(pointFile(dir)), crc)
      writeFileSync(pointFile(dir), encodeRecoveryPoint({ ...p, position: p.position - 100 }, crc))
    }],
    ['a wrong offset', (dir: string) => {
      const p = decodeRecoveryPoint(readFileSync(pointFile(dir)), crc)
      writeFileSync(pointFile(dir), encodeRecoveryPoint({ ...p, offset: p.offset + 32 }, crc))
    }],
    ['a torn file', (dir: string) => writeFileSync(pointFile(dir), readFileSync(pointFile(dir)).subarray(0, 30))],
  ] as const) {
    const dir = tempDir(t)
    const log = await writeFlushed(dir, RECOVERY_POINT_INTERVAL_BYTES * 1.2)
    const end = log.logEndOffset
    const size = log.stats().sizeBytes
    log.abandon()
    damage(dir)
    const reopened = await open(dir, { config })
    t.equal(reopened.recovery.trustedBytes, 0, `${what}: nothing trusted`)
    t.equal(reopened.recovery.scannedBytes, size, `${what}: the whole segment validated`)
    t.ok(reopened.recovery.problems.length > 0, `${what}: reported`)
    t.equal(reopened.logEndOffset, end, `${what}: nothing lost`)
    await reopened.close()
  }
})

t.test('a crash recovery that cuts below the recovery point (damage under it) removes the point', async (t) => {
  const dir = tempDir(t)
  const log = await writeFlushed(dir, RECOVERY_POINT_INTERVAL_BYTES * 1.2)
  const point = decodeRecoveryPoint(readFileSync(pointFile(dir)), crc)
  const path = activeLog(log)
  log.abandon()
  const bytes = readFileSync(path)
  bytes.fill(0, 8, 12) // the first batch's length: nothing frames from byte 0
  writeFileSync(path, bytes)
  const reopened = await open(dir, { config })
  t.ok(point.position > 0)
  t.equal(reopened.recovery.trustedBytes, 0, 'the point did not fall on the batches')
  t.equal(reopened.logEndOffset, 0, 'cut at the damaged batch, below the point')
  t.notOk(existsSync(pointFile(dir)), 'and the point is gone: appends there are not covered by any fsync')
  await reopened.close()
})

/** A batch of `count` records stored at `baseOffset` with epoch 1 (as a leader would send it). */
function makeBatchAt(baseOffset: number, count: number): Uint8Array {
  const b = makeBatch(count, 50, 77)
  const v = new DataView(b.buffer, b.byteOffset)
  v.setBigInt64(0, BigInt(baseOffset))
  v.setInt32(12, 1)
  return b
}
