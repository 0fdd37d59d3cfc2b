import t from 'tap'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { splitBatches } from '../../src/codec/index.js'
import { PartitionLog, SimFileLayer, type LogConfig } from '../../src/storage/index.js'
import { codec, open, tempDir } from './helpers.js'

const enc = new TextEncoder()
const dec = new TextDecoder()

interface Rec { offset: number; key: string | null; value: string | null }

/** Every record the log serves, in order. */
async function records(log: PartitionLog): Promise<Rec[]> {
  const { bytes } = await log.read(log.logStartOffset, 1 << 24)
  const out: Rec[] = []
  for (const [s, e] of splitBatches(bytes)) {
    for (const r of codec.decodeBatch(bytes.subarray(s, e), { contiguous: false }).records) {
      out.push({ offset: r.offset, key: r.key && dec.decode(r.key), value: r.value && dec.decode(r.value) })
    }
  }
  return out
}

function keyed(pairs: Array<[string | null, string | null]>, timestamp: number): Uint8Array {
  return codec.encodeBatch(pairs.map(([k, v]) => ({ key: k === null ? null : enc.encode(k), value: v === null ? null : enc.encode(v), timestamp })))
}

const config: Partial<LogConfig> = { segmentBytes: 1024, cleanupPolicy: 'compact', deleteRetentionMs: 10_000 }

t.test('keeps the latest record per key across segments, with original offsets', async (t) => {
  let now = 1_000_000
  const dir = tempDir(t)
  const log = await open(dir, { config, clock: () => now })
  const written: Rec[] = []
  for (let i = 0; i < 60; i++) {
    const key = i === 10 || i === 40 ? 'dead' : `k${i % 7}`
    const value = i === 40 ? null : `v${i}-${'x'.repeat(20)}` // 'dead' ends in a tombstone
    await log.appendAsLeader(keyed([[key, value], [null, `nokey${i}`]], now), 1)
    written.push({ offset: 2 * i, key, value }, { offset: 2 * i + 1, key: null, value: `nokey${i}` })
  }
  const before = log.stats()
  const hw = log.segments[log.segments.length - 1].baseOffset // everything closed is committed
  const result = await log.compact(hw)
  t.ok(result.segmentsRewritten > 0 && result.recordsRemoved > 0, JSON.stringify(result))
  const after = await records(log)
  const latest = new Map<string, number>()
  for (const r of written) if (r.key !== null && r.offset < hw) latest.set(r.key, r.offset)
  for (const r of written) {
    const served = after.find((a) => a.offset === r.offset)
    const mustStay = r.offset >= hw || r.key === null || latest.get(r.key) === r.offset
    if (mustStay) t.same(served, r, `offset ${r.offset} kept`)
    else t.equal(served, undefined, `offset ${r.offset} (${r.key}) compacted away`)
  }
  t.ok(hw > 80 && after.some((r) => r.offset === 80 && r.value === null), 'a recent tombstone is kept')
  t.ok(log.stats().sizeBytes < before.sizeBytes)
  t.equal(log.logEndOffset, 120, 'the log end does not move')
  // Reads from an offset removed by compaction start at the next surviving batch.
  const gap = written.find((r) => r.key !== null && r.offset < hw && latest.get(r.key) !== r.offset)!
  const r = await log.read(gap.offset, 1)
  t.ok(r.bytes.length > 0, 'a read inside a gap returns the next batch')
  await log.close()
  const again = await open(dir, { config, clock: () => now })
  t.same(await records(again), after, 'identical after reopen')
  // Tombstones go once their segment is older than deleteRetentionMs.
  now += 20_000
  const second = await again.compact(hw)
  t.equal(second.tombstonesRemoved, 1, 'the expired tombstone is removed')
  t.notOk((await records(again)).some((r) => r.offset < hw && r.value === null))
  await again.close()
})

t.test('a closed segment with a bad batch nobody has read yet is left whole, not cut at the damage', async (t) => {
  const dir = tempDir(t)
  const log = await open(dir, { config })
  for (let i = 0; i < 30; i++) await log.appendAsLeader(keyed([[i === 5 ? 'solo' : `k${i % 3}`, `v${i}-${'x'.repeat(30)}`]], 1), 1)
  await log.close()
  // Flip a byte inside the third batch of the first (closed) segment; its index files stay valid,
  // so opening does not notice.
  const file = join(dir, '00000000000000000000.log')
  const bytes = readFileSync(file)
  const third = splitBatches(new Uint8Array(bytes))[2][0]
  bytes[third + 70] ^= 0xff
  writeFileSync(file, bytes)
  const sizeBefore = bytes.length
  const reopened = await open(dir, { config })
  t.same(reopened.unreadableRanges(), [], 'not found at open')
  await reopened.compact(reopened.segments[reopened.segments.length - 1].baseOffset)
  t.equal(statSync(file).size, sizeBefore, 'the damaged segment was not rewritten')
  t.ok(readFileSync(file).includes(Buffer.from('solo')), "the only record of key 'solo', after the damage, is still on disk")
  await reopened.read(0, 1 << 20)
  t.equal(reopened.unreadableRanges().length, 1, 'a read fences the damage off, for re-replication to repair')
  await reopened.close()
})

t.test('compaction needs cleanupPolicy compact and never touches the active segment', async (t) => {
  const plain = await open(tempDir(t))
  await t.rejects(plain.compact(10), { code: 'INVALID_CONFIG' })
  await plain.close()
  const log = await open(tempDir(t), { config })
  for (let i = 0; i < 5; i++) await log.appendAsLeader(keyed([['same', `v${i}`]], 1), 0)
  const r = await log.compact(1000)
  t.equal(r.segmentsRewritten, 0, 'one (active) segment: nothing to do')
  t.equal((await records(log)).length, 5)
  await log.close()
})

t.test('a power cut at any point of a compaction leaves a consistent log', async (t) => {
  const dir = '/data/compacted-0'
  let checked = 0
  const outcomes = new Set<number>()
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: 40 }), fc.integer(), async (steps, seed) => {
      const fs = new SimFileLayer()
      await fs.mkdirp(dir)
      const log = await PartitionLog.open({ dir, fs: fs.session(), codec, config })
      const written: Rec[] = []
      let x = seed
      for (let i = 0; i < 40; i++) {
        x = (x * 1103515245 + 12345) >>> 0
        const key = `k${x % 5}`
        await log.appendAsLeader(keyed([[key, `v${i}-${'y'.repeat(30)}`]], 1), 0)
        written.push({ offset: i, key, value: `v${i}-${'y'.repeat(30)}` })
      }
      await log.flush()
      const hw = log.segments[log.segments.length - 1].baseOffset
      const pass = log.compact(hw).catch(() => undefined)
      for (let i = 0; i < steps; i++) await new Promise((r) => setImmediate(r))
      log.abandon()
      fs.powerCut({ random: () => 0.5 })
      await pass
      const reopened = await PartitionLog.open({ dir, fs: fs.session(), codec, config })
      const served = await records(reopened)
      // Every served record is an original one; every key's latest record is present.
      for (const r of served) t.same(r, written[r.offset])
      const latest = new Map<string, number>()
      for (const r of written) latest.set(r.key!, r.offset)
      for (const offset of latest.values()) if (!served.some((r) => r.offset === offset)) return false
      if (reopened.logEndOffset !== 40) return false
      await reopened.close()
      outcomes.add(served.length)
      checked++
      return true
    }),
    { numRuns: Number(process.env.STORAGE_PROPERTY_RUNS ?? 25) },
  )
  t.ok(checked > 0)
  t.ok(outcomes.has(40) && outcomes.size >= 3, `cuts landed before, during and after the pass (${[...outcomes].sort()} records served)`)
})
