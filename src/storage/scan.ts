// Walks the batches of a segment file in order, reading in bounded chunks. `walkBatches` yields
// each batch whose framing holds and stops at the first that does not (or is cut off by
// `endPosition`, or goes back in offsets), saying where the good bytes end; `scanFile` also
// checks each batch with the given check and stops at the first that fails: recovery truncates
// there, index rebuilds stop there. The log dump walks with `walkBatches` and checks each batch
// itself, going on past a bad CRC.
import type { BatchHeader } from '../codec/index.js'
import { BATCH_HEADER_BYTES } from '../codec/index.js'
import { assert } from './errors.js'
import type { FileHandle } from './file-layer.js'
import { SCAN_CHUNK_BYTES, STORED_BATCH_BYTES_MAX } from './limits.js'
import { checkFraming } from './batch-check.js'

export interface ScannedBatch {
  position: number
  header: BatchHeader
  /** The batch's bytes: a view valid only until the walk goes on (during scanFile's callback). */
  bytes: Uint8Array
}

export interface ScanResult {
  /** Position just after the last good batch. */
  endPosition: number
  /** Offset after the last good batch (or the start offset if there was none). */
  nextOffset: number
  /** Why the scan stopped early; undefined if it reached endPosition cleanly. */
  error?: string
  batches: number
}

export type BatchCheck = (bytes: Uint8Array) => BatchHeader | string

/**
 * Yields the batches of file[startPosition, endPosition) whose framing holds, in order, and
 * returns where and why the walk ended. At most SCAN_CHUNK_BYTES (or one batch, if larger) is
 * held at once. `stopAt(batch)`, when it says so, ends the walk before that batch is counted
 * (scanFile's failed check).
 */
export function* walkBatches(
  file: FileHandle, startPosition: number, endPosition: number, startOffset: number,
  stopAt: (b: ScannedBatch) => string | undefined = () => undefined,
): Generator<ScannedBatch, ScanResult, void> {
  let buf = new Uint8Array(Math.min(SCAN_CHUNK_BYTES, Math.max(BATCH_HEADER_BYTES, endPosition - startPosition)))
  let bufStart = startPosition
  let bufLen = 0
  let pos = startPosition
  let nextOffset = startOffset
  let batches = 0
  const fill = (need: number) => {
    // Refill so that buf holds `need` bytes from pos (or all that remain before endPosition).
    if (pos - bufStart + need <= bufLen) return
    if (buf.length < need) buf = new Uint8Array(need)
    bufStart = pos
    bufLen = file.read(buf.subarray(0, Math.min(buf.length, endPosition - pos)), pos)
  }
  const stop = (error?: string): ScanResult => ({ endPosition: pos, nextOffset, error, batches })
  for (let guard = 0; pos < endPosition; guard++) {
    assert(guard <= endPosition, 'each scanned batch advances')
    fill(BATCH_HEADER_BYTES)
    const header = checkFraming(buf.subarray(0, bufLen), pos - bufStart)
    if (typeof header === 'string') return stop(`at byte ${pos}: ${header}`)
    if (header.sizeBytes > endPosition - pos) return stop(`at byte ${pos}: batch of ${header.sizeBytes} bytes is cut off`)
    if (header.baseOffset < nextOffset) return stop(`at byte ${pos}: offset ${header.baseOffset} goes back (expected >= ${nextOffset})`)
    assert(header.sizeBytes <= STORED_BATCH_BYTES_MAX, 'framing bounds the size')
    fill(header.sizeBytes)
    const at = pos - bufStart
    const batch = { position: pos, header, bytes: buf.subarray(at, at + header.sizeBytes) }
    const failed = stopAt(batch)
    if (failed !== undefined) return stop(`at byte ${pos}: ${failed}`)
    yield batch
    pos += header.sizeBytes
    nextOffset = header.nextOffset
    batches++
  }
  return stop()
}

export function scanFile(
  file: FileHandle, startPosition: number, endPosition: number, startOffset: number,
  check: BatchCheck, onBatch: (b: ScannedBatch) => void,
): ScanResult {
  const walk = walkBatches(file, startPosition, endPosition, startOffset, (b) => {
    const checked = check(b.bytes)
    if (typeof checked === 'string') return checked
    b.header = checked
    return undefined
  })
  for (;;) {
    const next = walk.next()
    if (next.done) return next.value
    onBatch(next.value)
  }
}
