// Producer state snapshots beside the log (checked text), named by the log offset they folded to
// (`<end>.producer-state`, as Kafka's `<offset>.snapshot`): written at segment rolls and at a
// clean close, so an open, a crash recovery or a truncation folds only the log past the newest
// one at or below the log end instead of the whole log. A snapshot records the epoch of the
// batch just below its end: a log that holds a batch at that offset with that epoch holds the
// very batches the snapshot folded (Raft's log matching), so one whose log was truncated and
// written again is recognised and dropped, whatever happened between. At most
// PRODUCER_SNAPSHOTS_KEPT are kept; those past the log end or below its start are deleted. A
// damaged file is ignored (and deleted): the state is then folded from an older one or the log.
import { join } from 'node:path'
import { decodeCheckedText, encodeCheckedText, parseCount, readSmallFile, writeFileAtomic, type FileLayer } from '../../storage/index.js'
import { PRODUCER_SNAPSHOTS_KEPT, PRODUCERS_PER_PARTITION_MAX } from './limits.js'
import { ProducerStateTable, type ProducerEntry } from './producer-state.js'

const SUFFIX = '.producer-state'
/** The clean-close file of earlier versions (taken once, no offset in its name): deleted on sight. */
const LEGACY_FILE = 'producer-state'
const MAGIC = 'bitacora-producer-state-2'
/** Written for the epoch of a snapshot at the log start (no batch below it). */
const NO_EPOCH = '-'

type Crc = (b: Uint8Array) => number

/** What a snapshot is checked against: the log's bounds and the epoch of a batch in it. */
export interface SnapshotLog {
  readonly logStartOffset: number
  readonly logEndOffset: number
  /** Epoch of the batch holding `offset` (>= log start - 1). */
  epochAt(offset: number): number
}

export function encodeProducerState(table: ProducerStateTable, epoch: number, crc32c: Crc): Uint8Array {
  const lines = table.entries().map((e) => `${e.producerId} ${e.epoch} ${e.batches.map((b) => `${b.firstSeq}:${b.lastSeq}:${b.baseOffset}:${b.lastOffset}`).join(',')}`)
  return encodeCheckedText(MAGIC, [`${table.end} ${lines.length} ${epoch < 0 ? NO_EPOCH : epoch}`, ...lines], crc32c)
}

/** The table the bytes hold (every producer active at `nowMs`) and the epoch below its end; throws CORRUPT_FILE. */
export function decodeProducerState(bytes: Uint8Array, crc32c: Crc, expirationMs: number, nowMs: number): { table: ProducerStateTable; epoch: number } {
  const lines = decodeCheckedText(MAGIC, bytes, crc32c, SUFFIX)
  const [endText, countText, epochText] = (lines[0] ?? '').split(' ')
  const end = parseCount(endText, `${SUFFIX} end`)
  const count = parseCount(countText, `${SUFFIX} count`)
  const epoch = epochText === NO_EPOCH ? -1 : parseCount(epochText, `${SUFFIX} epoch`)
  if (count > PRODUCERS_PER_PARTITION_MAX || lines.length !== count + 1) throw new Error(`${SUFFIX} declares ${count} producers, holds ${lines.length - 1}`)
  const entries: ProducerEntry[] = lines.slice(1).map((line) => {
    const [id, producerEpoch, batches] = line.split(' ')
    return {
      producerId: parseCount(id, 'producer id'),
      epoch: parseCount(producerEpoch, 'producer epoch'),
      lastAppendMs: nowMs,
      batches: (batches ?? '').split(',').filter((b) => b !== '').map((b) => {
        const [firstSeq, lastSeq, baseOffset, lastOffset] = b.split(':').map((n) => parseCount(n, 'producer batch'))
        return { firstSeq, lastSeq, baseOffset, lastOffset }
      }),
    }
  })
  return { table: ProducerStateTable.restore(expirationMs, end, entries), epoch }
}

export function snapshotFileName(end: number): string {
  return String(end).padStart(20, '0') + SUFFIX
}

/** The ends of the snapshots in `dir`, newest first. */
export function snapshotEnds(fs: FileLayer, dir: string): number[] {
  const ends: number[] = []
  for (const name of fs.list(dir)) {
    if (!name.endsWith(SUFFIX) || name.length !== 20 + SUFFIX.length) continue
    const end = Number(name.slice(0, 20))
    if (Number.isSafeInteger(end)) ends.push(end)
  }
  return ends.sort((a, b) => b - a)
}

/** The epoch of the batch just below `end` (-1 at the log start: nothing below to check). */
function epochBelow(log: SnapshotLog, end: number): number {
  return end > log.logStartOffset ? log.epochAt(end - 1) : -1
}

export class ProducerSnapshots {
  /** Writes and deletions, one at a time (a roll's write may still run when the next roll or close comes). */
  private chain: Promise<void> = Promise.resolve()

  constructor(
    private readonly fs: FileLayer,
    private readonly dir: string,
    private readonly crc32c: Crc,
    private readonly kept = PRODUCER_SNAPSHOTS_KEPT,
  ) {}

  /**
   * Writes `table` (folded to the log end) as the snapshot at its end, then deletes the oldest
   * beyond the bound and any below the log start. Encoded now; written after earlier writes.
   */
  save(table: ProducerStateTable, log: SnapshotLog): Promise<void> {
    const end = table.end
    const bytes = encodeProducerState(table, epochBelow(log, end), this.crc32c)
    const start = log.logStartOffset
    const write = async (): Promise<void> => {
      await writeFileAtomic(this.fs, join(this.dir, snapshotFileName(end)), bytes)
      let removed = false
      snapshotEnds(this.fs, this.dir).forEach((e, i) => {
        if (i < this.kept && e >= start) return
        this.fs.remove(join(this.dir, snapshotFileName(e)))
        removed = true
      })
      if (removed) await this.fs.syncDir(this.dir)
    }
    const done = this.chain.then(write)
    this.chain = done.catch(() => undefined)
    return done
  }

  /** Resolves once every write asked for so far has ended. */
  idle(): Promise<void> {
    return this.chain
  }

  /**
   * The newest snapshot the log as it is now can continue: its end inside the log and the log's
   * epoch below that end the one it recorded. Deletes (durably) the ones it passes over that do
   * not fit (past the log end, truncated and rewritten, damaged) and the legacy file; `damaged`
   * hears why a file could not be read. Null when none fits.
   */
  async load(log: SnapshotLog, expirationMs: number, nowMs: number, damaged: (why: string) => void): Promise<ProducerStateTable | null> {
    await this.chain
    let removed = false
    const remove = (name: string) => {
      this.fs.remove(join(this.dir, name))
      removed = true
    }
    if (this.fs.exists(join(this.dir, LEGACY_FILE))) remove(LEGACY_FILE)
    let found: ProducerStateTable | null = null
    for (const end of snapshotEnds(this.fs, this.dir)) {
      if (end < log.logStartOffset) break // older ones are below it too: retention deletes them with the next save
      const name = snapshotFileName(end)
      if (end > log.logEndOffset) {
        remove(name)
        continue
      }
      try {
        const bytes = readSmallFile(this.fs, join(this.dir, name))
        const decoded = bytes === null ? null : decodeProducerState(bytes, this.crc32c, expirationMs, nowMs)
        if (decoded !== null && decoded.table.end === end && decoded.epoch === epochBelow(log, end)) {
          found = decoded.table
          break
        }
      } catch (err) {
        damaged(`${name}: ${(err as Error).message}`)
      }
      remove(name) // another log's past (truncated and rewritten since), or damaged
    }
    if (removed) await this.fs.syncDir(this.dir)
    return found
  }
}
