// The clean-shutdown marker on real files: a clean close lets the next open skip the active
// segment's scan and every fsync; nothing a crash, a failed close or a stale marker leaves can
// make an open trust a torn tail.
import t from 'tap'
import { existsSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { NodeFileLayer, type FileHandle, type PartitionLog } from '../../src/storage/index.js'
import { CLEAN_SHUTDOWN_FILE, decodeCleanShutdown } from '../../src/storage/clean-shutdown.js'
import { codec, makeBatch, open, tempDir } from './helpers.js'

// Small segments and index interval: several closed segments, an active one with index entries.
const config = { segmentBytes: 4096, indexIntervalBytes: 256 }
const marker = (dir: string) => join(dir, CLEAN_SHUTDOWN_FILE)
const activeLog = (log: PartitionLog) => join(log.dir, String(log.segments.at(-1)!.baseOffset).padStart(20, '0') + '.log')

/** A codec that counts batch checks (CRC or full validation): the active segment's scan makes one per batch. */
function countingCodec(): { codec: typeof codec; crcs: { n: number } } {
  const crcs = { n: 0 }
  const counting = Object.create(codec, {
    validateBatch: { value: (...args: Parameters<typeof codec.validateBatch>) => (crcs.n++, codec.validateBatch(...args)) },
    batchCrcMatches: { value: (...args: Parameters<typeof codec.batchCrcMatches>) => (crcs.n++, codec.batchCrcMatches(...args)) },
  }) as typeof codec
  return { codec: counting, crcs }
}

/**
 * A real file layer that records writes and directory fsyncs in order, and whose directory
 * fsyncs fail while `failing` is set (a disk error at close).
 */
class FlakyLayer extends NodeFileLayer {
  failing = false
  readonly events: string[] = []
  override open(path: string, options: { create: boolean }): FileHandle {
    const h = super.open(path, options)
    const write = h.write.bind(h)
    h.write = (bytes, position) => {
      this.events.push(`write ${basename(path)}`)
      write(bytes, position)
    }
    return h
  }

  override async syncDir(dir: string): Promise<void> {
    if (this.failing) throw Object.assign(new Error(`EIO: fsync of ${dir} failed`), { code: 'EIO' })
    this.events.push('syncDir')
    return super.syncDir(dir)
  }
}

/** Writes `batches` batches over epochs 1–3 and closes the log cleanly; returns every byte. */
async function written(dir: string, batches = 60, cfg = config): Promise<Uint8Array> {
  const log = await open(dir, { config: cfg })
  for (let i = 0; i < batches; i++) await log.appendAsLeader(makeBatch(3, 40, i, 1_700_000_000_000 + i * 10), 1 + Math.floor(i / 25))
  const all = (await log.read(0, 1 << 20)).bytes
  await log.close()
  return all
}

t.test('a clean close leaves a marker; the next open trusts it: no scan, no CRC, no fsync, the same log', async (t) => {
  const dir = tempDir(t)
  const all = await written(dir)
  const saved = decodeCleanShutdown(readFileSync(marker(dir)), (b) => codec.crc32c(b))
  t.ok(saved.activeSizeBytes > 0, 'the marker names a non-empty active segment')
  t.equal(saved.logEndOffset, 180)

  // Reference: the same directory opened the slow way (marker removed as a crash would leave it).
  const copyOfMarker = readFileSync(marker(dir))
  rmSync(marker(dir))
  const slow = countingCodec()
  const full = await open(dir, { config, codec: slow.codec })
  t.ok(slow.crcs.n > 10, `without a marker every batch of the active segment is CRC-checked (${slow.crcs.n} CRCs)`)
  t.equal(full.recovery.cleanShutdown, false)
  t.ok(full.recovery.scannedBytes > 0, 'without a marker the active segment is scanned')
  const reference = { end: full.logEndOffset, epochs: full.epochEntries(), startEpoch: full.logStartEpoch, byTime: await full.offsetForTimestamp(1_700_000_000_000 + 555) }
  await full.close()
  t.same(readFileSync(marker(dir)), copyOfMarker, 'an untouched log closes to the same marker')

  const fs = new FlakyLayer()
  const { codec: counting, crcs } = countingCodec()
  const log = await open(dir, { config, fs, codec: counting })
  t.equal(log.recovery.cleanShutdown, true, 'opened from the marker')
  t.equal(log.recovery.scannedBytes, 0, 'the active segment was not scanned')
  t.equal(fs.fsyncCount, 0, 'the open issued no fsync')
  t.equal(crcs.n, 0, 'and checked no batch')
  t.same(log.recovery.problems, [])
  t.notOk(existsSync(marker(dir)), 'the marker is gone as soon as the log is open')
  t.equal(log.logEndOffset, reference.end)
  t.equal(log.flushedOffset, reference.end, 'everything is durable since the close')
  t.same(log.epochEntries(), reference.epochs)
  t.equal(log.logStartEpoch, reference.startEpoch)
  t.same(await log.offsetForTimestamp(1_700_000_000_000 + 555), reference.byTime, 'the time index of the active segment came back')
  t.same((await log.read(0, 1 << 20)).bytes, all, 'every byte reads back')
  t.ok(crcs.n > 0, 'reads CRC-check what the open did not')
  t.notOk(log.fullyVerified, 'the unchecked batches are left to the scrub')
  for (const offset of [0, 7, 61, 100, 150, 179]) {
    const r = await log.read(offset, 1)
    t.ok(r.nextOffset > offset, `a read at ${offset} finds its batch through the adopted index`)
  }

  t.same(fs.events, [], 'nothing written yet')
  await log.appendAsLeader(makeBatch(2, 40, 99), 3)
  t.equal(fs.events[0], 'syncDir', 'the marker\'s removal was made durable before the first write')
  t.ok(fs.events.slice(1).some((e) => e.endsWith('.log')), `then the batch was written (${fs.events.join(', ')})`)
  await log.flush()
  for (let i = 0; i < 30; i++) await log.appendAsLeader(makeBatch(3, 40, 100 + i), 3) // rolls: the adopted index goes on
  const after = (await log.read(0, 1 << 20)).bytes
  await log.close()

  const again = await open(dir, { config })
  t.equal(again.recovery.cleanShutdown, true)
  t.same((await again.read(0, 1 << 20)).bytes, after, 'appends after a trusted open read back the same after another clean restart')
  const v = await again.verify(1 << 30)
  t.ok(v.done && v.damage === null, 'and every batch verifies')
  await again.close()
})

// One segment: the write below lands in the segment the marker names.
const oneSegment = { segmentBytes: 1 << 20, indexIntervalBytes: 256 }

t.test('a crash after a clean start is a crash: the tail it tore is cut', async (t) => {
  const dir = tempDir(t)
  await written(dir, 60, oneSegment)
  const log = await open(dir, { config: oneSegment })
  t.equal(log.recovery.cleanShutdown, true)
  await log.appendAsLeader(makeBatch(5, 200, 7), 3)
  t.equal(log.segments.length, 1)
  const end = log.logEndOffset
  log.abandon() // SIGKILL: no close, no marker
  t.notOk(existsSync(marker(dir)))
  const path = activeLog(log)
  truncateSync(path, statSync(path).size - 9) // the last write torn
  const reopened = await open(dir, { config: oneSegment })
  t.equal(reopened.recovery.cleanShutdown, false, 'full recovery')
  t.ok(reopened.recovery.truncatedBytes > 0, 'the torn batch is cut')
  t.equal(reopened.logEndOffset, end - 5)
  await reopened.close()
})

t.test('a stale marker (from before writes a crash then tore) cannot hide the torn tail', async (t) => {
  const dir = tempDir(t)
  await written(dir, 60, oneSegment)
  const stale = readFileSync(marker(dir))
  const log = await open(dir, { config: oneSegment })
  await log.appendAsLeader(makeBatch(5, 200, 7), 3)
  t.equal(log.segments.length, 1, 'the same segment the marker names')
  await log.flush()
  log.abandon()
  const path = activeLog(log)
  truncateSync(path, statSync(path).size - 9)
  writeFileSync(marker(dir), stale) // the marker somehow back
  const reopened = await open(dir, { config: oneSegment })
  t.equal(reopened.recovery.cleanShutdown, false, 'the active segment no longer matches the marker')
  t.match(reopened.recovery.problems.map((p) => p.message).join(), /clean-shutdown marker does not match/)
  t.ok(reopened.recovery.truncatedBytes > 0, 'the torn batch is cut')
  t.equal(reopened.logEndOffset, 180, 'back to the last whole batch')
  await reopened.close()
})

t.test('a marker the files do not back is not trusted: damaged marker, truncated or missing index, damaged checkpoint', async (t) => {
  const cases: Array<[string, (dir: string, active: string) => void]> = [
    ['a torn marker', (dir) => writeFileSync(marker(dir), readFileSync(marker(dir)).subarray(0, 20))],
    ['a truncated index', (_dir, active) => truncateSync(active.replace(/\.log$/, '.index'), 13)],
    ['a missing time index', (_dir, active) => rmSync(active.replace(/\.log$/, '.timeindex'))],
    ['an index cut to whole entries (stale end)', (_dir, active) => {
      const index = active.replace(/\.log$/, '.index')
      truncateSync(index, statSync(index).size - 8)
    }],
    ['a damaged epoch checkpoint', (dir) => writeFileSync(join(dir, 'leader-epoch-checkpoint'), 'bitacora-leader-epochs 1\n1\n1 0\ncrc32c 00000000\n')],
  ]
  for (const [what, damage] of cases) {
    const dir = tempDir(t)
    const all = await written(dir)
    const probe = await open(dir, { config })
    const active = activeLog(probe)
    await probe.close()
    damage(dir, active)
    const log = await open(dir, { config })
    // An index cut to whole entries is still a (sparser) valid index: trusting it is right.
    if (what.startsWith('an index cut')) t.equal(log.recovery.cleanShutdown, true, `${what}: still a valid sparse index`)
    else {
      t.equal(log.recovery.cleanShutdown, false, `${what}: recovered in full`)
      t.ok(log.recovery.scannedBytes > 0, `${what}: the active segment was scanned`)
    }
    t.equal(log.logEndOffset, 180, `${what}: nothing lost`)
    t.same((await log.read(0, 1 << 20)).bytes, all, `${what}: every byte reads back`)
    await log.close()
  }
})

t.test('a close that fails half-way writes no marker, and a failed log writes none', async (t) => {
  const dir = tempDir(t)
  await written(dir)
  const fs = new FlakyLayer()
  const log = await open(dir, { config, fs })
  await log.appendAsLeader(makeBatch(2), 3)
  await log.flush() // the marker's removal is durable; now the close's directory fsync fails
  fs.failing = true
  await t.rejects(log.close(), { code: 'IO_FAILED' })
  t.notOk(existsSync(marker(dir)), 'no marker after a failed close')
  await log.close() // a failed log still releases its files on a second close, without flushing
  t.notOk(existsSync(marker(dir)), 'a failed log closes without a marker')
  const reopened = await open(dir, { config })
  t.equal(reopened.recovery.cleanShutdown, false, 'the next open recovers in full')
  t.equal(reopened.logEndOffset, 182)
  await reopened.close()
})

t.test('an empty log closes and reopens clean', async (t) => {
  const dir = tempDir(t)
  const log = await open(dir, { config })
  await log.close()
  const fs = new NodeFileLayer()
  const again = await open(dir, { config, fs })
  t.equal(again.recovery.cleanShutdown, true)
  t.equal(fs.fsyncCount, 0)
  await again.appendAsLeader(makeBatch(2), 1)
  t.equal(again.logEndOffset, 2)
  await again.close()
})
