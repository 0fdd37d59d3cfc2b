// Leadership balance, decided (as Kafka's preferred leader election): a partition's preferred
// leader is its first replica, and placement spreads first replicas evenly, so leadership is
// balanced when every partition is led by its preferred replica. After a broker restarts, its
// partitions are led by others; these decisions say which partitions to hand back and when.
// Pure: the image and the time come in as arguments.
import type { MetadataImage } from '../../../metadata/image.js'

export interface PartitionRef {
  readonly topicId: string
  readonly topic: string
  readonly partition: number
}

/** What a preferred election would do for one partition. */
export type PreferredElection =
  /** Ask `leader`'s broker to hand the leadership to `preferred`. */
  | { readonly kind: 'move'; readonly ref: PartitionRef; readonly leader: number; readonly preferred: number }
  | { readonly kind: 'notNeeded'; readonly ref: PartitionRef }
  | { readonly kind: 'unavailable'; readonly ref: PartitionRef; readonly why: string }
  | { readonly kind: 'unknown'; readonly topic: string; readonly partition: number; readonly why: string }

/** Partitions to elect: per topic, the partitions named (null: all of them); null: every partition of every topic. */
export type ElectionSelection = ReadonlyArray<{ readonly topic: string; readonly partitions: readonly number[] | null }> | null

/** For each selected partition, in order, what a preferred election would do now. */
export function preferredElections(image: MetadataImage, selection: ElectionSelection): PreferredElection[] {
  const wanted = selection ?? image.topics.map((t) => ({ topic: t.name, partitions: null }))
  return wanted.flatMap(({ topic, partitions }) => {
    const t = image.topic(topic)
    if (t === undefined) return (partitions ?? [0]).map((partition) => ({ kind: 'unknown' as const, topic, partition, why: `no topic named "${topic}"` }))
    const indexes = partitions ?? t.partitionStates.map((_, i) => i)
    return indexes.map((partition): PreferredElection => {
      const p = t.partitionStates[partition]
      if (p === undefined) return { kind: 'unknown', topic, partition, why: `topic "${topic}" has partitions 0..${t.partitions - 1}, not ${partition}` }
      const ref = { topicId: t.id, topic, partition }
      const preferred = p.replicas[0]
      if (p.leader === preferred) return { kind: 'notNeeded', ref }
      const broker = image.broker(preferred)
      if (broker === undefined || broker.fenced) {
        return { kind: 'unavailable', ref, why: `its preferred replica, broker ${preferred}, is ${broker === undefined ? 'not registered' : 'fenced'}` }
      }
      if (p.leader < 0) return { kind: 'unavailable', ref, why: 'no leader is known to hand it over (its replicas elect one themselves)' }
      return { kind: 'move', ref, leader: p.leader, preferred }
    })
  })
}

/** Since when (ms) each partition, keyed `topicId/partition`, has been led by another replica than its preferred one. */
export type ImbalanceSince = ReadonlyMap<string, number>

/**
 * The imbalance as of `nowMs`, given when each was first seen (`since`), and the moves due: the
 * partitions led by another replica for at least `afterMs` whose preferred replica can lead.
 * A partition balanced again is forgotten, so an imbalance that comes back starts counting anew.
 */
export function imbalanceDue(image: MetadataImage, since: ImbalanceSince, nowMs: number, afterMs: number): { since: ImbalanceSince; due: PreferredElection[] } {
  const next = new Map<string, number>()
  const due: PreferredElection[] = []
  for (const e of preferredElections(image, null)) {
    if (e.kind !== 'move') continue
    const key = `${e.ref.topicId}/${e.ref.partition}`
    const first = since.get(key) ?? nowMs
    next.set(key, first)
    if (nowMs - first >= afterMs) due.push(e)
  }
  return { since: next, due }
}
