// What a chaos run must never show (after Jepsen's Kafka anomalies), as pure functions of what
// the clients saw: an acknowledged record lost or at another offset than its acknowledgement gave;
// acknowledged records of a partition out of send order; a record read that was never produced;
// one offset read with two values; a live consumer going back. Each returns its violations as
// lines that say what and where.
import type { Ack, History, Read } from './workload.js'

/** `readBack` null: the read-back failed (its own violation), so nothing can be said about loss. */
export function checkHistory(h: History, readBack: readonly Read[] | null): string[] {
  return [
    ...(readBack === null ? [] : lostOrMoved(h.acks, readBack)),
    ...outOfOrder(h.acks),
    ...neverProduced(h.sent, [...h.reads, ...(readBack ?? [])]),
    ...inconsistentOffsets([...h.reads, ...(readBack ?? [])]),
    ...consumerWentBack(h.reads),
  ]
}

/** Every value read back at more than one offset: with the idempotent producer (--idempotent), a violation. */
export function duplicated(readBack: readonly Read[]): string[] {
  const at = new Map<string, string[]>()
  for (const r of readBack) at.set(r.value, [...(at.get(r.value) ?? []), `${r.partition}/${r.offset}`])
  return [...at].filter(([, offsets]) => offsets.length > 1).map(([value, offsets]) => `duplicate: ${value} written ${offsets.length} times, at ${offsets.join(', ')}`)
}

/** Every acknowledged record must be read back at the offset its acknowledgement gave. */
export function lostOrMoved(acks: readonly Ack[], readBack: readonly Read[]): string[] {
  const at = new Map(readBack.map((r) => [`${r.partition}/${r.offset}`, r.value]))
  return acks
    .filter((a) => at.get(`${a.partition}/${a.offset}`) !== a.value)
    .map((a) => `lost: ${a.value} was acknowledged at ${a.partition}/${a.offset}, which reads back as ${at.get(`${a.partition}/${a.offset}`) ?? 'nothing'}`)
}

/** Within a partition, a record sent later must sit at a higher offset (the producer has one request in flight). */
export function outOfOrder(acks: readonly Ack[]): string[] {
  const out: string[] = []
  const byPartition = new Map<number, Ack[]>()
  for (const a of acks) byPartition.set(a.partition, [...(byPartition.get(a.partition) ?? []), a])
  for (const list of byPartition.values()) {
    const sorted = [...list].sort((x, y) => x.seq - y.seq)
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i].offset <= sorted[i - 1].offset) out.push(`order: ${sorted[i].value} at offset ${sorted[i].offset} is not after ${sorted[i - 1].value} at ${sorted[i - 1].offset}`)
    }
  }
  return out
}

export function neverProduced(sent: ReadonlySet<string>, reads: readonly Read[]): string[] {
  return reads.filter((r) => !sent.has(r.value)).map((r) => `phantom: ${r.partition}/${r.offset} reads ${JSON.stringify(r.value)}, which was never produced`)
}

export function inconsistentOffsets(reads: readonly Read[]): string[] {
  const seen = new Map<string, string>()
  const out: string[] = []
  for (const r of reads) {
    const key = `${r.partition}/${r.offset}`
    const before = seen.get(key)
    if (before === undefined) seen.set(key, r.value)
    else if (before !== r.value) out.push(`inconsistent: ${key} read as ${before} and as ${r.value}`)
  }
  return out
}

/** The live consumer reads each partition at increasing offsets (it reads only committed records, which never move). */
export function consumerWentBack(reads: readonly Read[]): string[] {
  const last = new Map<number, number>()
  const out: string[] = []
  for (const r of reads) {
    const before = last.get(r.partition)
    if (before !== undefined && r.offset <= before) out.push(`non-monotonic: the consumer read ${r.partition}/${r.offset} after ${r.partition}/${before}`)
    last.set(r.partition, r.offset)
  }
  return out
}

/**
 * Replicas of one partition below its HW: every replica's batch lines (from `bitacora log dump
 * --json`, which depend only on the stored bytes) must be the same. `dumps` maps node to lines.
 */
export function replicasDiffer(name: string, dumps: ReadonlyMap<number, readonly string[]>): string[] {
  const [first, ...rest] = [...dumps]
  if (first === undefined) return []
  const out: string[] = []
  for (const [node, lines] of rest) {
    const n = Math.max(lines.length, first[1].length)
    for (let i = 0; i < n; i++) {
      if (lines[i] !== first[1][i]) {
        out.push(`replicas: ${name} differs between node ${first[0]} and node ${node} at batch ${i}: ${first[1][i] ?? 'nothing'} vs ${lines[i] ?? 'nothing'}`)
        break
      }
    }
  }
  return out
}
