// Model-based property test on the power-cut simulator: random appends (leader and follower,
// keyed or not), reads, flushes, truncations, rolls, deleteRecordsBefore, retention,
// compaction, clean reopens and power cuts (with torn tails) against an in-memory model. After every power cut, everything that
// was reported flushed is present and byte-identical, and nothing partial is ever served.
import t from 'tap'
import fc from 'fast-check'
import { readBatchHeader, splitBatches, stampBatch } from '../../src/codec/index.js'
import { EpochCache, PartitionLog, SimFileLayer, type LogConfig } from '../../src/storage/index.js'
import { codec, makeBatch } from './helpers.js'

const RUNS = Number(process.env.STORAGE_PROPERTY_RUNS ?? 60)
let compactedRecords = 0
const DIR = '/data/topic-0'

type Op =
  | { kind: 'leader'; batches: number; records: number; valueBytes: number; bumpEpoch: boolean; key: string | null }
  | { kind: 'follower'; batches: number; records: number; bumpEpoch: boolean }
  | { kind: 'read'; at: number; maxBytes: number }
  | { kind: 'flush' }
  | { kind: 'truncate'; at: number }
  | { kind: 'roll' }
  | { kind: 'deleteBefore'; at: number }
  | { kind: 'retention'; at: number }
  | { kind: 'compact'; at: number }
  | { kind: 'reopen' }
  | { kind: 'powerCut'; torn: boolean; scramble: boolean }

// Uniform in [0, 1] (fc.double leans hard toward 0 and 1, which would rarely cut mid-log).
const frac = fc.integer({ min: 0, max: 10_000 }).map((n) => n / 10_000)
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('leader' as const), batches: fc.integer({ min: 1, max: 4 }), records: fc.integer({ min: 1, max: 5 }), valueBytes: fc.integer({ min: 0, max: 250 }), bumpEpoch: fc.boolean(), key: fc.option(fc.constantFrom('a', 'b', 'c', 'd')) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('follower' as const), batches: fc.integer({ min: 1, max: 3 }), records: fc.integer({ min: 1, max: 4 }), bumpEpoch: fc.boolean() }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('read' as const), at: frac, maxBytes: fc.integer({ min: 1, max: 3000 }) }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'flush' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: frac }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'roll' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('deleteBefore' as const), at: frac }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('retention' as const), at: frac }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('compact' as const), at: frac }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('powerCut' as const), torn: fc.boolean(), scramble: fc.boolean() }) },
)

const configArb = fc.record({
  segmentBytes: fc.integer({ min: 1500, max: 5000 }),
  indexIntervalBytes: fc.integer({ min: 0, max: 1500 }),
  flush: fc.constantFrom('always' as const, 'interval' as const),
  retentionBytes: fc.integer({ min: -1, max: 8000 }),
})

interface StoredBatch { base: number; next: number; epoch: number; bytes: Uint8Array }

function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = Math.imul(a ^ (a >>> 15), 1 | a)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

class Harness {
  batches: StoredBatch[] = []
  start = 0
  end = 0
  durable = 0
  epoch = 0
  /** The model's epoch cache, kept by the same rules the log must follow. */
  epochs = new EpochCache()
  fs = new SimFileLayer()
  log!: PartitionLog
  seq = 0

  constructor(readonly config: Partial<LogConfig>, readonly random: () => number) {}

  async open(): Promise<void> {
    await this.fs.mkdirp(DIR)
    this.log = await PartitionLog.open({ dir: DIR, fs: this.fs.session(), codec, config: { ...this.config, flushIntervalMs: 5, retentionMs: -1, cleanupPolicy: 'compact,delete' } })
  }

  pick(at: number, lo: number, hi: number): number {
    return lo + Math.floor(at * (hi - lo + 1 - 1e-9))
  }

  async run(op: Op): Promise<void> {
    const log = this.log
    switch (op.kind) {
      case 'leader': {
        if (op.bumpEpoch) this.epoch++
        const parts = Array.from({ length: op.batches }, () => makeBatch(op.records, op.valueBytes, this.seq++, undefined, op.key ?? undefined))
        const payload = Buffer.concat(parts)
        const info = await log.appendAsLeader(payload, this.epoch)
        if (info.firstOffset !== this.end) throw new Error(`leader append at ${info.firstOffset}, model end ${this.end}`)
        this.epochs.assign(this.epoch, info.firstOffset)
        this.record(payload)
        break
      }
      case 'follower': {
        if (op.bumpEpoch) this.epoch++
        let offset = this.end
        const parts = Array.from({ length: op.batches }, () => {
          const b = makeBatch(op.records, 20, this.seq++)
          stampBatch(b, offset, this.epoch)
          offset += op.records
          return b
        })
        const payload = Buffer.concat(parts)
        await log.appendAsFollower(payload)
        this.epochs.assign(this.epoch, this.end)
        this.record(payload)
        break
      }
      case 'read': return this.checkRead(this.pick(op.at, this.start, this.end), op.maxBytes)
      case 'flush': {
        await log.flush()
        if (log.flushedOffset !== this.end) throw new Error(`flush reached ${log.flushedOffset}, end ${this.end}`)
        break
      }
      case 'truncate': {
        const x = this.pick(op.at, this.start, this.end)
        await log.truncateTo(x)
        const kept = this.batches.filter((b) => b.next <= x)
        const lastNext = kept.length > 0 ? kept[kept.length - 1].next : -1
        // The end lands at the last kept batch, or past it at a segment base across a compaction gap.
        if (log.logEndOffset > x || (kept.length > 0 && log.logEndOffset < lastNext)) {
          throw new Error(`truncateTo(${x}) left end ${log.logEndOffset}, model ${lastNext}`)
        }
        this.batches = kept
        this.end = log.logEndOffset
        this.durable = Math.min(this.durable, this.end)
        this.epochs.truncateFrom(this.end)
        break
      }
      case 'roll': await log.roll(); break
      case 'deleteBefore': {
        const x = this.pick(op.at, this.start, this.end)
        await log.deleteRecordsBefore(x)
        this.start = Math.max(this.start, x)
        this.dropBelowStart()
        break
      }
      case 'retention': {
        const allowed = this.pick(op.at, this.start, this.end)
        await log.applyRetention(allowed)
        if (log.logStartOffset > allowed && log.logStartOffset !== this.start) throw new Error('retention passed the allowed offset')
        this.start = log.logStartOffset
        this.dropBelowStart()
        break
      }
      case 'compact': {
        await this.checkCompaction(this.pick(op.at, this.start, this.end))
        break
      }
      case 'reopen': {
        await log.close()
        await this.open()
        this.durable = this.end
        break
      }
      case 'powerCut': {
        this.durable = Math.max(this.durable, log.flushedOffset)
        log.abandon()
        this.fs.powerCut(op.torn ? { random: this.random, scramble: op.scramble } : {})
        await this.open()
        await this.afterCut()
        break
      }
    }
    this.durable = Math.max(this.durable, this.log.flushedOffset)
    this.checkInvariants()
  }

  record(payload: Uint8Array): void {
    for (const [s, e] of splitBatches(payload)) {
      const h = readBatchHeader(payload, s)
      this.batches.push({ base: h.baseOffset, next: h.nextOffset, epoch: h.partitionLeaderEpoch, bytes: payload.slice(s, e) })
    }
    this.end = this.batches[this.batches.length - 1].next
  }

  dropBelowStart(): void {
    // Whole segments go, so batches below the start may stay on disk; they are never served.
    this.batches = this.batches.filter((b) => b.next > this.start)
    this.epochs.advanceStart(this.start)
    this.epochs.truncateFrom(this.end) // the cache holds only epochs with records in [start, end)
  }

  /**
   * Compacts below `allowed` and checks the result against the model: only original records
   * are served, at their offsets; null-key records, records at or past `allowed` and the latest
   * record of every key below it all remain. The checked result becomes the model.
   */
  async checkCompaction(allowed: number): Promise<void> {
    const decode = (bytes: Uint8Array) => splitBatches(bytes).flatMap(([s, e]) =>
      codec.decodeBatch(bytes.subarray(s, e), { contiguous: false }).records.map((r) => ({
        offset: r.offset, key: r.key && Buffer.from(r.key).toString(), value: Buffer.from(r.value!).toString('hex'),
      })))
    const before = decode(Buffer.concat(this.batches.map((b) => b.bytes))).filter((r) => r.offset >= this.start)
    compactedRecords += (await this.log.compact(allowed)).recordsRemoved
    const { bytes } = await this.log.read(this.start, 1 << 24)
    const after = decode(bytes).filter((r) => r.offset >= this.start) // a batch straddling the start is served whole
    const original = new Map(before.map((r) => [r.offset, r]))
    for (const r of after) {
      const o = original.get(r.offset)
      if (o === undefined || o.key !== r.key || o.value !== r.value) throw new Error(`compaction served a record that was never written at ${r.offset}`)
    }
    const latest = new Map<string, number>()
    for (const r of before) if (r.key !== null && r.offset < allowed) latest.set(r.key, r.offset)
    const kept = new Set(after.map((r) => r.offset))
    for (const r of before) {
      const must = r.key === null || r.offset >= allowed || latest.get(r.key) === r.offset
      if (must && !kept.has(r.offset)) throw new Error(`compaction lost offset ${r.offset} (key ${r.key})`)
    }
    this.batches = splitBatches(bytes).map(([s, e]) => {
      const h = readBatchHeader(bytes, s)
      return { base: h.baseOffset, next: h.nextOffset, epoch: h.partitionLeaderEpoch, bytes: bytes.slice(s, e) }
    })
  }

  async afterCut(): Promise<void> {
    const log = this.log
    if (log.logStartOffset !== this.start) throw new Error(`log start ${log.logStartOffset} after a cut, model ${this.start}`)
    const survivors = this.batches.filter((b) => b.next <= log.logEndOffset)
    const lastNext = survivors.length > 0 ? survivors[survivors.length - 1].next : this.start
    // Flushed offsets may cover compaction gaps (no batch at all), so check batches, not offsets.
    const lost = this.batches.find((b) => b.next <= this.durable && b.next > log.logEndOffset)
    if (lost !== undefined || log.logEndOffset < Math.min(this.durable, this.end)) {
      throw new Error(`flushed data lost: reported ${this.durable}, recovered end ${log.logEndOffset} (batch ${lost?.base})`)
    }
    this.batches = log.logEndOffset === this.start ? [] : survivors
    this.end = log.logEndOffset
    this.epochs.truncateFrom(this.end)
    // The end is the last batch's end, or an empty active segment's base past a compaction gap.
    if (this.batches.length > 0 && this.end < lastNext) throw new Error(`end ${this.end} is inside a batch (${lastNext})`)
    this.durable = this.end
    this.epoch = Math.max(this.epoch, log.latestEpoch)
    await this.checkRead(this.start, 1 << 24) // every survivor byte-identical, nothing partial
  }

  async checkRead(from: number, maxBytes: number): Promise<void> {
    const r = await this.log.read(from, maxBytes)
    const expected: StoredBatch[] = []
    let size = 0
    for (const b of this.batches) {
      if (b.next <= from) continue
      if (expected.length > 0 && size + b.bytes.length > maxBytes) break
      expected.push(b)
      size += b.bytes.length
    }
    const want = Buffer.concat(expected.map((b) => b.bytes))
    if (!Buffer.from(r.bytes).equals(want)) {
      throw new Error(`read(${from}, ${maxBytes}) returned ${r.bytes.length} bytes, model ${want.length} (batches ${expected.map((b) => b.base)})`)
    }
  }

  checkInvariants(): void {
    const log = this.log
    if (log.logEndOffset !== this.end) throw new Error(`log end ${log.logEndOffset}, model ${this.end}`)
    if (log.logStartOffset !== this.start) throw new Error(`log start ${log.logStartOffset}, model ${this.start}`)
    if (log.flushedOffset > log.logEndOffset) throw new Error('flushed past the end')
    const got = JSON.stringify(log.epochEntries())
    if (got !== JSON.stringify(this.epochs.entries)) {
      throw new Error(`epoch cache ${got}, model ${JSON.stringify(this.epochs.entries)}`)
    }
    if (log.logStartEpoch !== this.epochs.logStartEpoch) {
      throw new Error(`log start epoch ${log.logStartEpoch}, model ${this.epochs.logStartEpoch}`)
    }
  }
}

t.test('power cuts never lose flushed data and never serve partial batches', async (t) => {
  await fc.assert(
    fc.asyncProperty(configArb, fc.array(opArb, { minLength: 5, maxLength: 80 }), fc.integer(), async (config, ops, seed) => {
      const h = new Harness(config, mulberry32(seed))
      await h.open()
      for (const op of ops) await h.run(op)
      await h.checkRead(h.start, 1 << 24)
      await h.log.close()
    }),
    { numRuns: RUNS },
  )
  t.pass(`${RUNS} random histories`)
  t.ok(compactedRecords > 0, `compaction removed ${compactedRecords} records across the histories`)
})

t.test('a power cut at any point of a reset leaves the old log or the new empty one, never a mix', async (t) => {
  const dir = '/data/reset-0'
  const outcomes = new Set<string>()
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: 30 }), fc.boolean(), async (steps, insideOldRange) => {
      const fs = new SimFileLayer()
      await fs.mkdirp(dir)
      const config = { segmentBytes: 1024 }
      const log = await PartitionLog.open({ dir, fs: fs.session(), codec, config })
      for (let i = 0; i < 30; i++) await log.appendAsLeader(makeBatch(1, 60, i), 1 + Math.floor(i / 10))
      await log.flush()
      // A follower's reset lands past its log end, or inside it (a log diverging below the leader's start).
      const target = insideOldRange ? 12 : 45
      const reset = log.truncateFullyAndStartAt(target, 7).catch(() => undefined)
      for (let i = 0; i < steps; i++) await new Promise((r) => setImmediate(r))
      log.abandon()
      fs.powerCut({ random: () => 0.5 })
      await reset
      const reopened = await PartitionLog.open({ dir, fs: fs.session(), codec, config })
      const start = reopened.logStartOffset
      const { bytes } = await reopened.read(start, 1 << 24)
      const served = splitBatches(bytes).map(([s]) => readBatchHeader(bytes, s))
      await reopened.close()
      if (start === target) {
        outcomes.add('new')
        // The new log: empty, after a record of the given epoch.
        return reopened.logEndOffset === target && served.length === 0 && reopened.logStartEpoch === 7
      }
      outcomes.add(served.length === 30 ? 'old' : 'emptied')
      // The old log (possibly emptied): its start, its epochs, whatever of its records survived.
      return start === 0 && reopened.logStartEpoch === 0 && served.every((h, i) => h.baseOffset === i && h.partitionLeaderEpoch === 1 + Math.floor(i / 10))
    }),
    { numRuns: Number(process.env.STORAGE_PROPERTY_RUNS ?? 60) },
  )
  t.ok(outcomes.has('new') && outcomes.has('old'), `cuts landed before and after the reset (${[...outcomes]})`)
})
