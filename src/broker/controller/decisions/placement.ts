// Where a new topic's replicas go. Each replica, in preferred order, goes to a broker that does
// not hold the partition yet — on a rack the partition does not use yet, while one is left —
// chosen by the fewest of: for the leader (first) position, leaders of this topic, then replicas
// of this topic; for the other positions, replicas of this topic, then replicas in that
// position; then replicas in the cluster; then the lowest id. A last pass moves follower
// replicas from the most to the least loaded brokers where the greedy pass left them two
// apart. So a topic's leaders and replicas spread evenly (within one) over the brokers and racks
// it is given, and new topics fill the emptiest brokers. Deterministic: same inputs, same
// placement.
import type { MetadataImage } from '../../../metadata/image.js'

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
  evenOut(placement, candidates)
  return placement
}

/**
 * The greedy pass can leave a broker two replicas above another (the last partitions have few
 * choices left). Moves follower replicas from the most loaded brokers to the least loaded while
 * the partition keeps as many racks: leaders, and their evenness, stay. Each move narrows the
 * spread, so the loop ends; it is bounded by the replica count besides.
 */
function evenOut(placement: number[][], candidates: readonly Candidate[]): void {
  const rackOf = new Map(candidates.map((c) => [c.brokerId, c.rack]))
  const rackCount = (ids: readonly number[]) => new Set(ids.map((id) => rackOf.get(id))).size
  for (let moves = placement.length * candidates.length; moves > 0; moves--) {
    const loads = candidates.map((c) => c.topicReplicas)
    const [low, high] = [Math.min(...loads), Math.max(...loads)]
    if (high - low <= 1) return
    const move = findMove(placement, candidates, low, high, rackCount)
    if (!move) return
    const { replicas, position, from, to } = move
    replicas[position] = to.brokerId
    from.topicReplicas--
    from.topicByPosition[position]--
    to.topicReplicas++
    to.topicByPosition[position]++
  }
}

function findMove(
  placement: number[][], candidates: readonly Candidate[], low: number, high: number, rackCount: (ids: readonly number[]) => number,
): { replicas: number[]; position: number; from: Candidate; to: Candidate } | null {
  const least = candidates.filter((c) => c.topicReplicas === low)
  const most = new Map(candidates.filter((c) => c.topicReplicas === high).map((c) => [c.brokerId, c]))
  for (const replicas of placement) {
    for (let position = 1; position < replicas.length; position++) {
      const from = most.get(replicas[position])
      if (!from) continue
      const racks = rackCount(replicas)
      const to = least.find((c) => !replicas.includes(c.brokerId) && rackCount(replicas.map((id, i) => (i === position ? c.brokerId : id))) >= racks)
      if (to) return { replicas, position, from, to }
    }
  }
  return null
}

function leastLoaded(candidates: readonly Candidate[], position: number): Candidate {
  const key = (c: Candidate) =>
    position === 0
      ? [c.topicByPosition[0], c.topicReplicas, c.clusterReplicas, c.brokerId]
      : [c.topicReplicas, c.topicByPosition[position], c.clusterReplicas, c.brokerId]
  let best = candidates[0]
  let bestKey = key(best)
  for (const c of candidates.slice(1)) {
    const k = key(c)
    const i = k.findIndex((x, j) => x !== bestKey[j])
    if (i !== -1 && k[i] < bestKey[i]) [best, bestKey] = [c, k]
  }
  return best
}
