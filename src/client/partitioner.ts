// Partitioners, compatible with Kafka's Java producer: a keyed record lands on
// murmur2(key) mod partitions (so keys land where a Kafka producer puts them); a record with
// no key goes to a "sticky" partition that changes only when a batch closes (KIP-480), so
// null-key traffic still fills batches instead of spraying one record per partition.

const SEED = 0x9747b28c
const M = 0x5bd1e995

/** Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2), as a signed 32-bit int. */
export function murmur2(data: Uint8Array): number {
  const length = data.length
  let h = SEED ^ length
  const whole = length & ~3
  for (let i = 0; i < whole; i += 4) {
    let k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24)
    k = Math.imul(k, M)
    k ^= k >>> 24
    k = Math.imul(k, M)
    h = Math.imul(h, M) ^ k
  }
  const tail = length & 3
  if (tail === 3) h ^= data[whole + 2] << 16
  if (tail >= 2) h ^= data[whole + 1] << 8
  if (tail >= 1) {
    h ^= data[whole]
    h = Math.imul(h, M)
  }
  h ^= h >>> 13
  h = Math.imul(h, M)
  h ^= h >>> 15
  return h | 0
}

/** The partition Kafka's default partitioner picks for a key. */
export function partitionForKey(key: Uint8Array, partitionCount: number): number {
  if (!(partitionCount > 0)) throw new RangeError(`partitionCount must be positive, got ${partitionCount}`)
  return (murmur2(key) & 0x7fffffff) % partitionCount
}

/**
 * Sticky choice for records without a key: one partition per topic until the producer says
 * the batch for it closed (`batchClosed`), then another, chosen at random among the available
 * ones (and different from the last when there is a choice).
 */
export class StickyPartitioner {
  private readonly current = new Map<string, number>()

  constructor(private readonly random: () => number = Math.random) {}

  partition(topic: string, availablePartitions: readonly number[]): number {
    if (availablePartitions.length === 0) throw new RangeError(`topic ${topic} has no available partition`)
    const sticky = this.current.get(topic)
    if (sticky !== undefined && availablePartitions.includes(sticky)) return sticky
    return this.choose(topic, availablePartitions, sticky)
  }

  /** The batch of `topic` on `partition` closed: the next keyless record picks anew. */
  batchClosed(topic: string, partition: number, availablePartitions: readonly number[]): void {
    if (this.current.get(topic) === partition && availablePartitions.length > 0) {
      this.choose(topic, availablePartitions, partition)
    }
  }

  private choose(topic: string, available: readonly number[], avoid: number | undefined): number {
    const candidates = available.length > 1 ? available.filter((p) => p !== avoid) : available
    const chosen = candidates[Math.floor(this.random() * candidates.length)]
    this.current.set(topic, chosen)
    return chosen
  }
}
