// Where a new topic's replicas go. Each replica, in preferred order, goes to the broker that
// does not hold the partition yet — on a rack the partition does not use yet, while one is
// left — and holds the fewest replicas of this topic in that position (the first position is
// leadership), then the fewest of this topic, then the fewest in the cluster, then has the lowest
// id. So a topic's leaders and replicas spread evenly over the brokers and racks it is given,
// and new topics fill the emptiest brokers. Deterministic: same inputs, same placement.
import type { MetadataImage } from '../../metadata/image.js'

export interface PlacementBroker {
  readonly brokerId: number
  /** '' when none: brokers without a rack count as one rack. */
  readonly rack: string
}

/** A candidate broker and what it holds so far. */
interface Candidate extends PlacementBroker {
  /** Replicas of the new topic, per position in the replica lists. */
  readonly topicByPosition: number[]
  topicReplicas: number
  clusterReplicas: number
}

/** Replica lists for `partitions` partitions of `replicationFactor` replicas over `brokers` (at least that many). */
export function placeReplicas(image: MetadataImage, brokers: readonly PlacementBroker[], partitions: number, replicationFactor: number): number[][] {
  if (replicationFactor > brokers.length) throw new Error(`placing ${replicationFactor} replicas on ${brokers.length} brokers`) // the caller checks
  const candidates: Candidate[] = brokers.map(({ brokerId, rack }) => ({
    brokerId, rack, topicByPosition: new Array<number>(replicationFactor).fill(0), topicReplicas: 0, clusterReplicas: 0,
  }))
  const byId = new Map(candidates.map((c) => [c.brokerId, c]))
  for (const topic of image.topics) {
    for (const p of topic.partitionStates) {
      for (const id of p.replicas) {
        const c = byId.get(id)
        if (c) c.clusterReplicas++
      }
    }
  }
  const placement: number[][] = []
  for (let p = 0; p < partitions; p++) {
    const replicas: number[] = []
    const racks = new Set<string>()
    for (let position = 0; position < replicationFactor; position++) {
      const free = candidates.filter((c) => !replicas.includes(c.brokerId))
      const onNewRack = free.filter((c) => !racks.has(c.rack))
      const chosen = leastLoaded(onNewRack.length > 0 ? onNewRack : free, position)
      replicas.push(chosen.brokerId)
      racks.add(chosen.rack)
      chosen.topicByPosition[position]++
      chosen.topicReplicas++
      chosen.clusterReplicas++
    }
    placement.push(replicas)
  }
  return placement
}

function leastLoaded(candidates: readonly Candidate[], position: number): Candidate {
  const key = (c: Candidate) => [c.topicByPosition[position], c.topicReplicas, c.clusterReplicas, c.brokerId]
  let best = candidates[0]
  let bestKey = key(best)
  for (const c of candidates.slice(1)) {
    const k = key(c)
    const i = k.findIndex((x, j) => x !== bestKey[j])
    if (i !== -1 && k[i] < bestKey[i]) [best, bestKey] = [c, k]
  }
  return best
}
