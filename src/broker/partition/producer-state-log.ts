// Keeps a replica's producer state (producer-state.ts) a fold of its log: folds in the batches of
// each append (leader or follower, from their stamped headers), and rebuilds the state by reading
// the log again whenever the log no longer ends where the fold did (a truncation, a reset, a
// repair, a reopen) — from the newest snapshot that fits the log (producer-state-snapshot.ts),
// else from the log start: rebuilding is the one way back after the log lost a tail, so no undo is kept.
import { readBatchHeader, splitBatches } from '../../codec/index.js'
import type { PartitionLog } from '../../storage/index.js'
import { PRODUCER_STATE_READ_BYTES } from './limits.js'
import { ProducerStateTable } from './producer-state.js'

/** Folds appended bytes (whole batches, offsets stamped) into `table`. False if they did not start where the fold ended. */
export function foldAppended(table: ProducerStateTable, bytes: Uint8Array, firstOffset: number, nowMs: number): boolean {
  if (firstOffset !== table.end) return false
  for (const [start] of splitBatches(bytes)) foldHeaderAt(table, bytes, start, nowMs)
  return true
}

function foldHeaderAt(table: ProducerStateTable, bytes: Uint8Array, start: number, nowMs: number): void {
  const h = readBatchHeader(bytes, start)
  table.skipTo(h.baseOffset) // a compacted log's gap
  if (h.control) table.skipTo(h.nextOffset)
  else table.appended({ ...h, recordCount: h.lastOffsetDelta + 1 }, h.baseOffset, nowMs)
}

/**
 * The state of `log` as it is now, folded from its start. Every producer seen counts as active
 * at `nowMs` (append times are not in the log): a rebuild never expires anyone early.
 */
export async function rebuildProducerState(log: PartitionLog, expirationMs: number, nowMs: number): Promise<ProducerStateTable> {
  return foldTail(new ProducerStateTable(expirationMs, log.logStartOffset), log, nowMs)
}

/** Folds the log from `table.end` (inside the log) to its end into `table` (a snapshot's, then the tail). */
export async function foldTail(table: ProducerStateTable, log: PartitionLog, nowMs: number): Promise<ProducerStateTable> {
  while (table.end < log.logEndOffset) {
    const { bytes, nextOffset } = await log.read(table.end, PRODUCER_STATE_READ_BYTES)
    for (const [start] of splitBatches(bytes, true)) foldHeaderAt(table, bytes, start, nowMs)
    if (nextOffset <= table.end) table.skipTo(nextOffset)
    if (bytes.length === 0 && nextOffset <= table.end) break // nothing readable further (cannot happen below the log end)
  }
  table.skipTo(log.logEndOffset)
  return table
}
