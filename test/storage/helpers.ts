// Shared helpers for storage tests: batches, temp dirs, opening logs.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadCodec, splitBatches, readBatchHeader, type RecordInput } from '../../src/codec/index.js'
import { PartitionLog, type OpenLogOptions } from '../../src/storage/index.js'

export const codec = await loadCodec()

/** A batch of `count` records with values of `valueBytes` bytes (content from `seed`). */
export function makeBatch(count: number, valueBytes = 16, seed = 0, timestamp = 1_700_000_000_000, key?: string): Uint8Array {
  const records: RecordInput[] = []
  for (let i = 0; i < count; i++) {
    const value = new Uint8Array(valueBytes)
    for (let j = 0; j < valueBytes; j++) value[j] = (seed * 31 + i * 7 + j) & 0xff
    records.push({ key: key === undefined ? null : new TextEncoder().encode(key), value, timestamp: timestamp + i })
  }
  return codec.encodeBatch(records)
}

/** Concatenates batches (a produce payload). */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/** Base offsets of the batches in `bytes`. */
export function baseOffsets(bytes: Uint8Array): number[] {
  return splitBatches(bytes).map(([s]) => readBatchHeader(bytes, s).baseOffset)
}

export function tempDir(t: { teardown: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'bitacora-storage-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

export function open(dir: string, options: Partial<OpenLogOptions> = {}): Promise<PartitionLog> {
  return PartitionLog.open({ dir, codec, ...options })
}
