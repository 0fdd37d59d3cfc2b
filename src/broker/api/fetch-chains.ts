// Chained fetches (issue 21): a consumer keeps a second fetch in flight per broker, marked
// "continue where my previous fetch of this partition ended" (PartitionFetch.after_previous),
// so it never waits a round trip for the first answer to learn where to ask from. Per
// connection, this remembers where each partition's latest fetch ends. Fetches join in
// arrival order (synchronously, before their first read), so a chained one reads once the fetch
// before it on this connection has read, from where that one's answer ended; it falls back to
// its own fetch_offset when there is none to follow (none, failed, or forgotten past
// FETCH_CHAIN_PARTITIONS_MAX). The client checks where each answer started
// (PartitionData.fetched_from), so a fallback only repeats records it skips.
import { FETCH_CHAIN_PARTITIONS_MAX } from '../limits.js'

/** Where one fetch of a partition reads from, and how it tells the next where it ended. */
export interface ChainLink {
  /** The offset to read from: the previous fetch's end (waited for) or the fallback. */
  readonly start: Promise<number>
  /** The offset after this fetch's answer, or null when it failed (the next one falls back). */
  settle(end: number | null): void
}

export class FetchChains {
  /** Per partition, the latest fetch's end (pending until it has read); insertion order is recency. */
  private readonly ends = new Map<string, Promise<number | null>>()

  constructor(private readonly partitionsMax = FETCH_CHAIN_PARTITIONS_MAX) {}

  /**
   * Joins a fetch of `topic`/`index` to the connection's chain for it. `afterPrevious`: start
   * where the previous fetch ended; else (or with none) at `fetchOffset`. Every link must be
   * settled, or a fetch chained after it waits forever.
   */
  join(topic: string, index: number, afterPrevious: boolean, fetchOffset: number): ChainLink {
    const key = `${index}:${topic}`
    const previous = this.ends.get(key)
    let settle!: (end: number | null) => void
    const end = new Promise<number | null>((resolve) => (settle = resolve))
    this.ends.delete(key)
    this.ends.set(key, end)
    if (this.ends.size > this.partitionsMax) this.ends.delete(this.ends.keys().next().value!)
    const start = afterPrevious && previous !== undefined ? previous.then((e) => e ?? fetchOffset) : Promise.resolve(fetchOffset)
    return { start, settle }
  }

  /** Partitions remembered (for tests and the bound). */
  get size(): number {
    return this.ends.size
  }
}
