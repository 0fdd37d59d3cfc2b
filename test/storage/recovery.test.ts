// Injected damage on the real file system: each kind is detected and recovered or reported.
import t from 'tap'
import { readdirSync, readFileSync, rmSync, truncateSync, writeFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { PartitionLog, SimFileLayer } from '../../src/storage/index.js'
import { CLEAN_SHUTDOWN_FILE } from '../../src/storage/clean-shutdown.js'
import { baseOffsets, codec, makeBatch, open, tempDir } from './helpers.js'

const config = { segmentBytes: 2048, indexIntervalBytes: 128 }

/** A log of `batches` batches left as a crash leaves it: everything written, no clean-shutdown marker. */
async function build(dir: string, batches = 40): Promise<Uint8Array> {
  const log = await open(dir, { config })
  for (let i = 0; i < batches; i++) await log.appendAsLeader(makeBatch(2, 50, i), 1 + Math.floor(i / 15))
  const all = (await log.read(0, 1 << 20)).bytes
  await log.close()
  rmSync(join(dir, CLEAN_SHUTDOWN_FILE))
  return all
}

const logs = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.log')).sort()
const lastLog = (dir: string) => join(dir, logs(dir).at(-1)!)
const flip = (path: string, at: number) => {
  const b = readFileSync(path)
  b[at] ^= 0x10
  writeFileSync(path, b)
}

t.test('a torn tail in the active segment is cut at the last whole batch', async (t) => {
  const dir = tempDir(t)
  const all = await build(dir)
  const path = lastLog(dir)
  truncateSync(path, statSync(path).size - 7)
  const log = await open(dir, { config })
  t.equal(log.logEndOffset, 78, 'the torn last batch is gone')
  t.ok(log.recovery.truncatedBytes > 0)
  t.match(log.recovery.truncatedReason, /cut off/)
  const r = await log.read(0, 1 << 20)
  t.same(r.bytes, all.subarray(0, r.bytes.length), 'everything before it is intact')
  await log.appendAsLeader(makeBatch(2), 3)
  t.equal(log.logEndOffset, 80, 'appends continue at the new end')
  await log.close()
})

t.test('a bit flip in the active tail truncates from the corrupt batch', async (t) => {
  const dir = tempDir(t)
  await build(dir)
  const path = lastLog(dir)
  const size = statSync(path).size
  flip(path, size - 20) // inside the last batch's records
  const log = await open(dir, { config })
  t.equal(log.logEndOffset, 78)
  t.match(log.recovery.truncatedReason, /CRC/)
  await log.close()
})

t.test('a bit flip in a closed segment is detected on read, fenced off, counted, never served', async (t) => {
  const dir = tempDir(t)
  await build(dir)
  const closed = join(dir, logs(dir)[1])
  const base = Number(logs(dir)[1].slice(0, 20))
  flip(closed, 200) // inside the second batch or so of that segment
  const log = await open(dir, { config })
  t.equal(log.logEndOffset, 80, 'a closed segment is never truncated')
  const first = await log.read(0, 1 << 20)
  const served = baseOffsets(first.bytes)
  t.ok(served.at(-1)! < base + 4, `stops before the damage (served up to ${served.at(-1)})`)
  t.equal(log.stats().corruptionsDetected, 1)
  t.same((await log.read(0, 1 << 20)).bytes, first.bytes, 'a second read stops at the fenced range too')
  const [range] = log.unreadableRanges()
  t.ok(range.startOffset >= base && range.startOffset <= base + 4)
  await t.rejects(log.read(range.startOffset, 100), { code: 'CORRUPT_DATA' })
  const after = await log.read(range.endOffset, 1 << 20)
  t.equal(baseOffsets(after.bytes)[0], range.endOffset, 'data after the range is still served')
  // Healing: truncate below the damage and re-append (what re-replication does).
  await log.truncateTo(range.startOffset)
  t.same(log.unreadableRanges(), [])
  t.equal(log.logEndOffset, range.startOffset)
  await log.close()
})

t.test('deleted or damaged index files are rebuilt from the log', async (t) => {
  const dir = tempDir(t)
  const all = await build(dir)
  const names = readdirSync(dir)
  rmSync(join(dir, names.find((n) => n.endsWith('.index'))!))
  rmSync(join(dir, names.filter((n) => n.endsWith('.timeindex'))[1]))
  const idx = names.filter((n) => n.endsWith('.index'))[2]
  writeFileSync(join(dir, idx), Buffer.from([1, 2, 3])) // not a whole entry
  const log = await open(dir, { config })
  t.equal(log.recovery.rebuiltIndexes, 3)
  t.same((await log.read(0, 1 << 20)).bytes, all)
  for (const from of [0, 5, 33, 61, 79]) t.equal(baseOffsets((await log.read(from, 1)).bytes)[0], from - (from % 2))
  t.same(await log.offsetForTimestamp(1_700_000_000_001), { offset: 1, timestamp: 1_700_000_000_001 })
  await log.close()
})

t.test('a damaged epoch checkpoint is reported and rebuilt from batch headers', async (t) => {
  const dir = tempDir(t)
  await build(dir)
  const path = join(dir, 'leader-epoch-checkpoint')
  const text = readFileSync(path, 'utf8')
  writeFileSync(path, text.replace('\n2 30', '\n2 31'))
  const log = await open(dir, { config })
  t.equal(log.recovery.problems[0]?.code, 'CORRUPT_FILE')
  t.ok(log.recovery.epochCacheRebuilt)
  t.same(log.epochEntries(), [{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 30 }, { epoch: 3, startOffset: 60 }])
  await log.close()
  const again = await open(dir, { config })
  t.same(again.recovery.problems, [], 'the rebuilt checkpoint was saved')
  await again.close()
})

t.test('leftover temp and cleaned files are removed on open', async (t) => {
  const dir = tempDir(t)
  await build(dir, 3)
  writeFileSync(join(dir, 'leader-epoch-checkpoint.tmp'), 'junk')
  writeFileSync(join(dir, '00000000000000000000.log.cleaned'), 'junk')
  const log = await open(dir, { config })
  t.same(readdirSync(dir).filter((n) => n.endsWith('.tmp') || n.endsWith('.cleaned')), [])
  t.equal(log.logEndOffset, 6)
  await log.close()
})

t.test("reads skip the CRC of batches this process wrote or scanned at open, and check the rest every time", async (t) => {
  const dir = tempDir(t)
  const crcCalls = { n: 0 }
  const counting = Object.create(codec, {
    crc32c: { value: (b: Uint8Array) => (crcCalls.n++, codec.crc32c(b)) },
  }) as typeof codec
  const log = await open(dir, { config, codec: counting })
  for (let i = 0; i < 40; i++) await log.appendAsLeader(makeBatch(2, 50, i), 1)
  crcCalls.n = 0
  const all = await log.read(0, 1 << 20)
  t.equal(baseOffsets(all.bytes).length, 40)
  t.equal(crcCalls.n, 0, 'appended in this process (checked before writing): reads check nothing')
  await log.close()
  rmSync(join(dir, CLEAN_SHUTDOWN_FILE)) // as after a crash: recovery scans the active segment

  const reopened = await open(dir, { config, codec: counting })
  crcCalls.n = 0
  t.same((await reopened.read(0, 1 << 20)).bytes, all.bytes)
  const firstRead = crcCalls.n
  t.ok(firstRead > 0 && firstRead < 40, `after a restart, closed segments opened with their index files are checked (${firstRead} batches; recovery scanned the active one)`)
  crcCalls.n = 0
  await reopened.read(0, 1 << 20)
  t.equal(crcCalls.n, firstRead, 'on every read: their index files carry no checksum')
  await reopened.close()
})

t.test('an epoch checkpoint older than the log start of an empty log does not lower the start epoch', async (t) => {
  // A crash between a moved log start (durable) and the epoch checkpoint it makes stale: the old
  // checkpoint's last entry, clamped to the start of a now empty log, named no record, yet was
  // taken for the first record's epoch (5, below the start's 7): the replica then claimed an
  // older last epoch than it had (shell state-machine seed 1171 could elect no leader).
  const dir = tempDir(t)
  const log = await open(dir)
  for (let i = 0; i < 5; i++) await log.appendAsLeader(makeBatch(1), 5)
  await log.roll()
  const checkpoint = join(dir, 'leader-epoch-checkpoint')
  const old = readFileSync(checkpoint)
  await log.appendAsLeader(makeBatch(1), 7)
  await log.flush()
  await log.deleteRecordsBefore(6)
  t.equal(log.logStartEpoch, 7)
  await log.close()
  writeFileSync(checkpoint, old) // as if the crash came before the checkpoint's rewrite
  const reopened = await open(dir)
  t.same(reopened.recovery.problems, [])
  t.equal(reopened.logStartOffset, 6)
  t.equal(reopened.logStartEpoch, 7, 'the epoch of the record below the start, as log-start-offset says')
  t.same(reopened.epochEntries(), [])
  await reopened.close()
})

t.test('a torn tail whose zeroed bytes hit a batch\'s leader epoch (outside the CRC) is cut, not believed', async (t) => {
  // The simulator's power cut zeroed the epoch field of the first batch of a new segment: recovery
  // kept it as epoch 0 after epoch 4, and the re-read log broke log matching (shell
  // state-machine seed 4534).
  const fs = new SimFileLayer()
  const dir = '/data/torn-epoch-0'
  await fs.mkdirp(dir)
  const log = await PartitionLog.open({ dir, fs: fs.session(), codec })
  await log.appendAsLeader(makeBatch(2), 4)
  await log.roll()
  await log.appendAsLeader(makeBatch(1), 4)
  await log.appendAsLeader(makeBatch(1), 4)
  await log.close()
  fs.remove(join(dir, CLEAN_SHUTDOWN_FILE)) // the damage is a power cut's: no clean shutdown
  fs.damage(join(dir, '00000000000000000002.log'), (bytes) => {
    bytes.fill(0, 12, 16) // the first batch's partitionLeaderEpoch
    return bytes
  })
  const reopened = await PartitionLog.open({ dir, fs: fs.session(), codec })
  t.equal(reopened.logEndOffset, 2, 'cut at the batch whose epoch went back')
  t.ok(reopened.recovery.truncatedBytes > 0)
  t.same(reopened.epochEntries(), [{ epoch: 4, startOffset: 0 }])
  await reopened.close()
})
