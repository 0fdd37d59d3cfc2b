// The producer state written beside the log at a clean close (producer-state, checked text), so
// the next open takes it instead of reading the whole log again. Taken once: the open that reads
// it removes it (durably) before the replica starts, so a later crash never finds a snapshot of a
// log that has since been truncated and written again. A damaged file is ignored (the state is
// then folded from the log).
import { join } from 'node:path'
import { decodeCheckedText, encodeCheckedText, parseCount, readSmallFile, writeFileAtomic, type FileLayer } from '../../storage/index.js'
import { PRODUCERS_PER_PARTITION_MAX } from './limits.js'
import { ProducerStateTable, type ProducerEntry } from './producer-state.js'

export const PRODUCER_STATE_FILE = 'producer-state'
const MAGIC = 'bitacora-producer-state'

type Crc = (b: Uint8Array) => number

export function encodeProducerState(table: ProducerStateTable, crc32c: Crc): Uint8Array {
  const lines = table.entries().map((e) => `${e.producerId} ${e.epoch} ${e.batches.map((b) => `${b.firstSeq}:${b.lastSeq}:${b.baseOffset}:${b.lastOffset}`).join(',')}`)
  return encodeCheckedText(MAGIC, [`${table.end} ${lines.length}`, ...lines], crc32c)
}

/** The table the bytes hold (every producer active at `nowMs`); throws CORRUPT_FILE. */
export function decodeProducerState(bytes: Uint8Array, crc32c: Crc, expirationMs: number, nowMs: number): ProducerStateTable {
  const lines = decodeCheckedText(MAGIC, bytes, crc32c, PRODUCER_STATE_FILE)
  const [endText, countText] = (lines[0] ?? '').split(' ')
  const end = parseCount(endText, `${PRODUCER_STATE_FILE} end`)
  const count = parseCount(countText, `${PRODUCER_STATE_FILE} count`)
  if (count > PRODUCERS_PER_PARTITION_MAX || lines.length !== count + 1) throw new Error(`${PRODUCER_STATE_FILE} declares ${count} producers, holds ${lines.length - 1}`)
  const entries: ProducerEntry[] = lines.slice(1).map((line) => {
    const [id, epoch, batches] = line.split(' ')
    return {
      producerId: parseCount(id, 'producer id'),
      epoch: parseCount(epoch, 'producer epoch'),
      lastAppendMs: nowMs,
      batches: (batches ?? '').split(',').filter((b) => b !== '').map((b) => {
        const [firstSeq, lastSeq, baseOffset, lastOffset] = b.split(':').map((n) => parseCount(n, 'producer batch'))
        return { firstSeq, lastSeq, baseOffset, lastOffset }
      }),
    }
  })
  return ProducerStateTable.restore(expirationMs, end, entries)
}

export function saveProducerState(fs: FileLayer, dir: string, table: ProducerStateTable, crc32c: Crc): Promise<void> {
  return writeFileAtomic(fs, join(dir, PRODUCER_STATE_FILE), encodeProducerState(table, crc32c))
}

/** The snapshot a clean close left, removed durably once read; null if none (or damaged: `damaged` says why). */
export async function takeProducerState(
  fs: FileLayer, dir: string, crc32c: Crc, expirationMs: number, nowMs: number, damaged: (why: string) => void,
): Promise<ProducerStateTable | null> {
  const path = join(dir, PRODUCER_STATE_FILE)
  const bytes = readSmallFile(fs, path)
  if (bytes === null) return null
  let table: ProducerStateTable | null = null
  try {
    table = decodeProducerState(bytes, crc32c, expirationMs, nowMs)
  } catch (err) {
    damaged((err as Error).message)
  }
  fs.remove(path)
  await fs.syncDir(dir)
  return table
}
