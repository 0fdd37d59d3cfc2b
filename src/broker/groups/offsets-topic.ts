// __consumer_offsets: the internal topic that holds every group, and which of its partitions a
// group lives in. The partition is Kafka's choice (Java's String.hashCode of the group id, made
// non-negative, modulo the partition count), so a group lands where a Kafka cluster of the same
// partition count would put it.
import { OFFSETS_TOPIC_REPLICATION_FACTOR_DEFAULT } from './limits.js'

export const OFFSETS_TOPIC = '__consumer_offsets'

/** Java's String.hashCode: s[0]*31^(n-1) + ... + s[n-1], in 32-bit two's complement, over UTF-16 code units. */
export function javaStringHash(s: string): number {
  let h = 0
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0
  return h
}

/** The partition of __consumer_offsets a group's records go to (Kafka's Utils.abs: MIN_VALUE maps to 0). */
export function offsetsPartitionFor(groupId: string, partitions: number): number {
  const h = javaStringHash(groupId)
  return (h === -2147483648 ? 0 : Math.abs(h)) % partitions
}

/**
 * The replication factor __consumer_offsets is created with: the configured one (3), fewer only
 * when the cluster has fewer nodes (its controller voters and registered brokers, whichever are
 * more) — never because only some of them are up yet.
 */
export function offsetsReplicationFactor(clusterNodes: number, configured = OFFSETS_TOPIC_REPLICATION_FACTOR_DEFAULT): number {
  return Math.max(1, Math.min(configured, clusterNodes))
}
