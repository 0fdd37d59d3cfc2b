// The server-side assignors: from the members' subscriptions and the topics' partition counts,
// the target assignment. Pure and deterministic (the same input gives the same target on every
// coordinator). 'uniform' (the default) is sticky: a partition stays with its current target
// owner unless the balance needs it elsewhere; 'range' gives each member a contiguous range of
// each topic it subscribes to, as Kafka's range assignor does.
import { UNIFORM_MOVES_MAX } from '../limits.js'
import { topicPartitions, type TopicPartitions } from './topic-partitions.js'

export interface AssignmentSpec {
  /** Each member with the topics its subscription resolves to (topics that exist). */
  readonly members: ReadonlyMap<string, ReadonlySet<string>>
  /** Partition count of every topic any member subscribes to. */
  readonly topics: ReadonlyMap<string, number>
  /** The previous target, for stickiness. */
  readonly previous: ReadonlyMap<string, TopicPartitions>
}

export type Assignor = (spec: AssignmentSpec) => Map<string, TopicPartitions>

const byId = (spec: AssignmentSpec) => [...spec.members.keys()].sort()

export const rangeAssignor: Assignor = (spec) => {
  const owned = new Map<string, [string, number[]][]>(byId(spec).map((id) => [id, []]))
  for (const [topic, count] of [...spec.topics].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const subscribers = byId(spec).filter((id) => spec.members.get(id)!.has(topic))
    const per = Math.floor(count / Math.max(1, subscribers.length))
    const extra = count % Math.max(1, subscribers.length)
    subscribers.forEach((id, i) => {
      const start = i * per + Math.min(i, extra)
      const length = per + (i < extra ? 1 : 0)
      owned.get(id)!.push([topic, Array.from({ length }, (_, k) => start + k)])
    })
  }
  return new Map([...owned].map(([id, tps]) => [id, topicPartitions(tps)]))
}

export const uniformAssignor: Assignor = (spec) => {
  const ids = byId(spec)
  const owned = new Map<string, [string, number][]>(ids.map((id) => [id, []]))
  const taken = new Set<string>()
  const key = (topic: string, p: number) => `${topic}\u0000${p}`
  const eligible = (id: string, topic: string) => spec.members.get(id)!.has(topic)
  // Stickiness: keep every previous target partition that is still valid for its member.
  for (const id of ids) {
    for (const [topic, ps] of spec.previous.get(id) ?? []) {
      const count = spec.topics.get(topic) ?? 0
      if (!eligible(id, topic)) continue
      for (const p of ps) if (p < count && !taken.has(key(topic, p))) taken.add(key(topic, p)), owned.get(id)!.push([topic, p])
    }
  }
  // Every partition nobody holds goes to the least loaded member that subscribes to its topic.
  for (const [topic, count] of [...spec.topics].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    for (let p = 0; p < count; p++) {
      if (taken.has(key(topic, p))) continue
      const to = leastLoaded(ids, owned, (id) => eligible(id, topic))
      if (to === null) continue
      taken.add(key(topic, p))
      owned.get(to)!.push([topic, p])
    }
  }
  balance(ids, owned, eligible)
  return new Map([...owned].map(([id, tps]) => [id, topicPartitions(tps.map(([t, p]) => [t, [p]] as const))]))
}

function leastLoaded(ids: readonly string[], owned: Map<string, unknown[]>, ok: (id: string) => boolean): string | null {
  let best: string | null = null
  for (const id of ids) if (ok(id) && (best === null || owned.get(id)!.length < owned.get(best)!.length)) best = id
  return best
}

/**
 * Moves partitions from a member holding at least two more than another eligible member, until
 * none does: each move lowers the sum of squared loads, so the loop ends; with one subscription
 * shared by all, loads end within one of each other.
 */
function balance(ids: readonly string[], owned: Map<string, [string, number][]>, eligible: (id: string, topic: string) => boolean): void {
  for (let moves = 0; moves < UNIFORM_MOVES_MAX; moves++) {
    let moved = false
    const byLoad = [...ids].sort((a, b) => owned.get(b)!.length - owned.get(a)!.length || (a < b ? -1 : 1))
    for (const from of byLoad) {
      const mine = owned.get(from)!
      for (let i = mine.length - 1; i >= 0 && !moved; i--) {
        const [topic] = mine[i]
        const to = leastLoaded(ids, owned, (id) => id !== from && eligible(id, topic))
        if (to === null || owned.get(to)!.length >= mine.length - 1) continue
        owned.get(to)!.push(mine[i])
        mine.splice(i, 1)
        moved = true
      }
      if (moved) break
    }
    if (!moved) return
  }
}

export const ASSIGNOR_BY_NAME: Readonly<Record<string, Assignor>> = { uniform: uniformAssignor, range: rangeAssignor }
