// Sets of partitions by topic name, as the group core passes them around: a map from topic to a
// sorted array of distinct partition indexes, with no empty entries, so two equal sets compare
// equal and encode to the same bytes.

export type TopicPartitions = ReadonlyMap<string, readonly number[]>

export const EMPTY: TopicPartitions = new Map()

/** Builds the canonical form from any (topic, partitions) pairs (duplicates and order don't matter). */
export function topicPartitions(entries: Iterable<readonly [string, Iterable<number>]>): TopicPartitions {
  const sets = new Map<string, Set<number>>()
  for (const [topic, partitions] of entries) {
    let set = sets.get(topic)
    if (!set) sets.set(topic, (set = new Set()))
    for (const p of partitions) set.add(p)
  }
  const out = new Map<string, number[]>()
  for (const topic of [...sets.keys()].sort()) {
    const ps = [...sets.get(topic)!].sort((a, b) => a - b)
    if (ps.length > 0) out.set(topic, ps)
  }
  return out
}

export function size(tps: TopicPartitions): number {
  let n = 0
  for (const ps of tps.values()) n += ps.length
  return n
}

export function has(tps: TopicPartitions, topic: string, partition: number): boolean {
  return tps.get(topic)?.includes(partition) ?? false
}

export function* entries(tps: TopicPartitions): Generator<[string, number]> {
  for (const [topic, ps] of tps) for (const p of ps) yield [topic, p]
}

/** The partitions of `a` that `keep(topic, partition)` accepts. */
export function filter(a: TopicPartitions, keep: (topic: string, partition: number) => boolean): TopicPartitions {
  return topicPartitions([...a].map(([topic, ps]) => [topic, ps.filter((p) => keep(topic, p))] as const))
}

export const intersect = (a: TopicPartitions, b: TopicPartitions) => filter(a, (t, p) => has(b, t, p))
export const minus = (a: TopicPartitions, b: TopicPartitions) => filter(a, (t, p) => !has(b, t, p))
export const union = (a: TopicPartitions, b: TopicPartitions) => topicPartitions([...a, ...b])
export const isEmpty = (a: TopicPartitions) => a.size === 0

export function equal(a: TopicPartitions, b: TopicPartitions): boolean {
  if (a.size !== b.size) return false
  for (const [topic, ps] of a) {
    const other = b.get(topic)
    if (!other || other.length !== ps.length || ps.some((p, i) => other[i] !== p)) return false
  }
  return true
}

export function intersects(a: TopicPartitions, b: TopicPartitions): boolean {
  for (const [topic, p] of entries(a)) if (has(b, topic, p)) return true
  return false
}

/** "orders-0,orders-3,payments-1": for messages and test output. */
export function describe(tps: TopicPartitions): string {
  return [...entries(tps)].map(([t, p]) => `${t}-${p}`).join(',') || '(none)'
}
