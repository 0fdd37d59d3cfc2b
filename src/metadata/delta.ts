// Replaying a batch of records over an image (Kafka's MetadataDelta): every record is checked
// against the image as the records before it in the batch left it, and the first one that does
// not fit refuses the whole batch. The base image is never touched: maps are copied on first
// write, and a topic the batch changes is copied once into a working copy, so a batch of 1,000
// leader reports for one topic costs one copy of its partitions, not 1,000.
import type { BrokerImage, PartitionImage, ProducerIdBlock, TopicImage } from './image.js'
import { BROKER_URL_CHARS_MAX, CONFIG_VALUE_CHARS_MAX, INT32_MAX, NAME_CHARS_MAX, PRODUCER_ID_MAX, RACK_CHARS_MAX, REPLICAS_PER_PARTITION_MAX } from './limits.js'
import type { MetadataRecord, ReplicaAssignment } from './records.js'
import { topicNameProblem } from './topic-name.js'
import { isUuidHex } from './uuid.js'

/** A record that does not fit the image it is applied to: a bug in the writer, or a corrupt log. */
export class MetadataError extends Error {
  override name = 'MetadataError'
}

/** What an image is made of (MetadataImage wraps it). */
export interface ImageParts {
  readonly brokers: ReadonlyMap<number, BrokerImage>
  readonly topicsById: ReadonlyMap<string, TopicImage>
  readonly topicIdsByName: ReadonlyMap<string, string>
  /** The last block of producer ids handed out; the next starts where it ends. */
  readonly producerIds: ProducerIdBlock | null
  /** Features at a level above 0. */
  readonly features: ReadonlyMap<string, number>
}

/** What a batch changed, for those who react to it (reconciling local replicas, caches). */
export interface MetadataChanges {
  /** Topics created or changed by the batch (their current state is in the new image). */
  readonly changedTopicIds: ReadonlySet<string>
  /** Topics of the base image the batch removed, as they were. */
  readonly removedTopics: readonly TopicImage[]
  readonly changedBrokerIds: ReadonlySet<number>
}

interface WorkingTopic {
  readonly name: string
  readonly id: string
  readonly partitionStates: PartitionImage[]
  readonly configs: Record<string, string>
}

export function replay(base: ImageParts, records: readonly MetadataRecord[]): { parts: ImageParts; changes: MetadataChanges } {
  const delta = new Delta(base)
  records.forEach((record, i) => {
    try {
      delta.replay(record)
    } catch (err) {
      if (!(err instanceof MetadataError)) throw err
      throw new MetadataError(`record ${i + 1} of ${records.length} (${record.type}): ${err.message}; nothing of the batch was applied`)
    }
  })
  return delta.build()
}

class Delta {
  private brokers: Map<number, BrokerImage> | null = null
  private topicsById: Map<string, TopicImage> | null = null
  private topicIdsByName: Map<string, string> | null = null
  private producerIds: ProducerIdBlock | null
  private features: Map<string, number> | null = null
  private readonly working = new Map<string, WorkingTopic>()
  private readonly removed = new Map<string, TopicImage>()
  private readonly changedBrokerIds = new Set<number>()

  constructor(private readonly base: ImageParts) {
    this.producerIds = base.producerIds
  }

  replay(r: MetadataRecord): void {
    switch (r.type) {
      case 'brokerRegistration': {
        checkBrokerId(r.brokerId, 'broker id')
        checkUuid(r.incarnationId, 'incarnation id')
        checkUuid(r.directoryId, 'directory id')
        if (r.url.length === 0 || r.url.length > BROKER_URL_CHARS_MAX) fail(`a broker URL must be 1..${BROKER_URL_CHARS_MAX} characters, got ${r.url.length}`)
        if (r.rack.length > RACK_CHARS_MAX) fail(`a rack name must be at most ${RACK_CHARS_MAX} characters, got ${r.rack.length}`)
        const { brokerId, incarnationId, url, rack, directoryId } = r
        return this.setBroker({ brokerId, incarnationId, url, rack, directoryId, fenced: true })
      }
      case 'fenceBroker':
      case 'unfenceBroker': {
        const broker = this.broker(r.brokerId)
        return this.setBroker({ ...broker, fenced: r.type === 'fenceBroker' })
      }
      case 'topic':
        return this.createTopic(r.name, r.topicId)
      case 'partition':
        return this.addPartition(r.topicId, r.index, r.replicas)
      case 'partitionLeader':
        return this.reportLeader(r.topicId, r.partition, r.leader, r.leaderEpoch, r.isr ?? [])
      case 'partitionReassignment':
        return this.reassign(r.topicId, r.partition, r)
      case 'topicConfigSet': {
        checkConfigKey(r.key)
        if (r.value.length > CONFIG_VALUE_CHARS_MAX) fail(`config ${r.key}: a value must be at most ${CONFIG_VALUE_CHARS_MAX} characters`)
        this.topicToChange(r.topicId).configs[r.key] = r.value
        return
      }
      case 'topicConfigRemoved':
        checkConfigKey(r.key)
        delete this.topicToChange(r.topicId).configs[r.key]
        return
      case 'removeTopic':
        return this.removeTopic(r.topicId)
      case 'producerIdBlock':
        return this.handOutProducerIds(r)
      case 'featureLevel': {
        if (r.name.length === 0 || r.name.length > NAME_CHARS_MAX) fail(`a feature name must be 1..${NAME_CHARS_MAX} characters`)
        checkInt(r.level, 0, INT32_MAX, 'a feature level')
        this.features ??= new Map(this.base.features)
        if (r.level === 0) this.features.delete(r.name)
        else this.features.set(r.name, r.level)
        return
      }
      default:
        fail(`unknown record type ${(r as { type: unknown }).type}`)
    }
  }

  build(): { parts: ImageParts; changes: MetadataChanges } {
    let topicsById = this.topicsById
    if (this.working.size > 0) {
      topicsById ??= new Map(this.base.topicsById)
      for (const t of this.working.values()) topicsById.set(t.id, freezeTopic(t))
    }
    return {
      parts: {
        brokers: this.brokers ?? this.base.brokers,
        topicsById: topicsById ?? this.base.topicsById,
        topicIdsByName: this.topicIdsByName ?? this.base.topicIdsByName,
        producerIds: this.producerIds,
        features: this.features ?? this.base.features,
      },
      changes: { changedTopicIds: new Set(this.working.keys()), removedTopics: [...this.removed.values()], changedBrokerIds: this.changedBrokerIds },
    }
  }

  private broker(id: number): BrokerImage {
    const broker = (this.brokers ?? this.base.brokers).get(id)
    if (broker === undefined) fail(`no broker ${id} is registered`)
    return broker
  }

  private setBroker(broker: BrokerImage): void {
    this.brokers ??= new Map(this.base.brokers)
    this.brokers.set(broker.brokerId, broker)
    this.changedBrokerIds.add(broker.brokerId)
  }

  private createTopic(name: string, id: string): void {
    const nameProblem = topicNameProblem(name)
    if (nameProblem) fail(nameProblem)
    checkUuid(id, 'topic id')
    if ((this.topicIdsByName ?? this.base.topicIdsByName).has(name)) fail(`topic "${name}" already exists`)
    if (this.working.has(id) || (this.topicsById ?? this.base.topicsById).has(id)) fail(`topic id ${id} is taken`)
    this.topicIdsByName ??= new Map(this.base.topicIdsByName)
    this.topicIdsByName.set(name, id)
    this.working.set(id, { name, id, partitionStates: [], configs: Object.create(null) as Record<string, string> })
  }

  /** The topic's working copy (made on first change). */
  private topicToChange(id: string): WorkingTopic {
    const current = this.working.get(id)
    if (current) return current
    const topic = (this.topicsById ?? this.base.topicsById).get(id)
    if (topic === undefined) fail(`no topic has id ${id} (never created, or removed)`)
    const copy = { name: topic.name, id, partitionStates: [...topic.partitionStates], configs: Object.assign(Object.create(null) as Record<string, string>, topic.configs) }
    this.working.set(id, copy)
    return copy
  }

  private addPartition(topicId: string, index: number, replicas: readonly number[]): void {
    const topic = this.topicToChange(topicId)
    if (index !== topic.partitionStates.length) fail(`topic "${topic.name}" has ${topic.partitionStates.length} partitions: its next is ${topic.partitionStates.length}, not ${index}`)
    checkReplicas(replicas)
    const frozen = Object.freeze([...replicas])
    topic.partitionStates.push(Object.freeze({ replicas: frozen, leader: -1, leaderEpoch: -1, isr: unreportedIsr(frozen, []), isrReported: false }))
  }

  /** Records a partition's leader (and ISR), unless it is no news (leaderIsNews). */
  private reportLeader(topicId: string, partition: number, leader: number, leaderEpoch: number, isr: readonly number[]): void {
    const topic = (this.working.get(topicId) ?? (this.topicsById ?? this.base.topicsById).get(topicId)) ?? fail(`no topic has id ${topicId} (never created, or removed)`)
    const current = topic.partitionStates[partition] ?? fail(`topic "${topic.name}" has no partition ${partition} (it has ${topic.partitionStates.length})`)
    if (leader !== -1) checkBrokerId(leader, 'a leader')
    checkInt(leaderEpoch, 0, INT32_MAX, 'a leader epoch')
    if (leader !== -1 && !current.replicas.includes(leader)) fail(`broker ${leader} is not a replica of ${topic.name}-${partition} (replicas: ${current.replicas.join(', ')})`)
    const isrProblem = isrProblemOf(isr, leader, current.replicas)
    if (isrProblem !== null) fail(`${topic.name}-${partition}: ${isrProblem}`)
    if (!leaderIsNews(current, { leader, leaderEpoch, isr })) return
    const reported = isr.length > 0
    const sorted = reported ? Object.freeze([...isr].sort((a, b) => a - b)) : unreportedIsr(current.replicas, current.reassignment?.adding ?? [])
    this.topicToChange(topicId).partitionStates[partition] = Object.freeze({ ...current, leader, leaderEpoch, isr: sorted, isrReported: reported })
  }

  /** A partition's replicas change (a reassignment starts, reverses or ends); a recorded leader no longer among them is forgotten. */
  private reassign(topicId: string, partition: number, a: ReplicaAssignment): void {
    const topic = this.topicToChange(topicId)
    const current = topic.partitionStates[partition] ?? fail(`topic "${topic.name}" has no partition ${partition} (it has ${topic.partitionStates.length})`)
    checkReplicas(a.replicas)
    for (const [what, list] of [['adding', a.adding], ['removing', a.removing]] as const) {
      const stray = list.find((id) => !a.replicas.includes(id))
      if (stray !== undefined) fail(`${what} names broker ${stray}, not among the replicas [${a.replicas.join(', ')}]`)
      if (new Set(list).size !== list.length) fail(`${what} [${list.join(', ')}] names a broker twice`)
    }
    const both = a.adding.find((id) => a.removing.includes(id))
    if (both !== undefined) fail(`broker ${both} is both added and removed`)
    if (a.removing.length === a.replicas.length) fail('a reassignment may not remove every replica')
    const leader = a.replicas.includes(current.leader) ? current.leader : -1
    const moving = a.adding.length > 0 || a.removing.length > 0
    const replicas = Object.freeze([...a.replicas])
    // A replica no longer in the partition leaves its ISR at once; the leader's next report says the rest.
    const isr = current.isrReported ? Object.freeze(current.isr.filter((id) => replicas.includes(id))) : unreportedIsr(replicas, a.adding)
    topic.partitionStates[partition] = Object.freeze({
      replicas, leader, leaderEpoch: current.leaderEpoch, isr, isrReported: current.isrReported && isr.length > 0,
      ...(moving ? { reassignment: Object.freeze({ adding: Object.freeze([...a.adding]), removing: Object.freeze([...a.removing]) }) } : {}),
    })
  }

  private removeTopic(id: string): void {
    const topic = this.topicToChange(id)
    this.working.delete(id)
    const before = this.base.topicsById.get(id)
    if (before) this.removed.set(id, before)
    this.topicsById ??= new Map(this.base.topicsById)
    this.topicsById.delete(id)
    this.topicIdsByName ??= new Map(this.base.topicIdsByName)
    this.topicIdsByName.delete(topic.name)
  }

  private handOutProducerIds(r: { brokerId: number; firstId: number; size: number }): void {
    checkBrokerId(r.brokerId, 'broker id')
    checkInt(r.size, 1, INT32_MAX, 'a producer id block size')
    checkInt(r.firstId, 0, PRODUCER_ID_MAX, 'a first producer id')
    const next = this.producerIds === null ? 0 : this.producerIds.firstId + this.producerIds.size
    if (r.firstId < next) fail(`producer ids below ${next} were handed out already (this block starts at ${r.firstId})`)
    if (r.firstId + r.size - 1 > PRODUCER_ID_MAX) fail(`producer ids end at ${PRODUCER_ID_MAX}`)
    this.producerIds = Object.freeze({ brokerId: r.brokerId, firstId: r.firstId, size: r.size })
  }
}

type Leadership = Pick<PartitionImage, 'leader' | 'leaderEpoch'> & { readonly isr?: readonly number[] }

/**
 * Whether a report says more than what is recorded: a newer epoch, who leads an epoch recorded
 * without a leader, or (the same leader, same epoch) an ISR that differs from the recorded one.
 * An older epoch is never news (its leader's ISR is stale).
 */
export function leaderIsNews(recorded: Leadership, report: Leadership): boolean {
  if (report.leaderEpoch !== recorded.leaderEpoch) return report.leaderEpoch > recorded.leaderEpoch
  if (recorded.leader === -1) return report.leader !== -1
  return report.leader === recorded.leader && report.isr !== undefined && report.isr.length > 0 && !sameMembers(report.isr, recorded.isr ?? [])
}

/** Why `isr` cannot be a partition's ISR under `leader` (null: it can; empty: not reported). */
export function isrProblemOf(isr: readonly number[], leader: number, replicas: readonly number[]): string | null {
  if (isr.length === 0) return null
  if (leader === -1) return `an ISR [${isr.join(', ')}] without a leader`
  if (!isr.includes(leader)) return `the ISR [${isr.join(', ')}] lacks its leader ${leader}`
  if (new Set(isr).size !== isr.length) return `the ISR [${isr.join(', ')}] names a broker twice`
  const stranger = isr.find((id) => !replicas.includes(id))
  return stranger === undefined ? null : `ISR member ${stranger} is not a replica (replicas: ${replicas.join(', ')})`
}

function sameMembers(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((id) => b.includes(id))
}

/** The ISR until a leader reports one: the replicas, ascending (as a reported one is kept), less any a reassignment is adding (they join as observers). */
function unreportedIsr(replicas: readonly number[], adding: readonly number[]): readonly number[] {
  return Object.freeze(replicas.filter((id) => !adding.includes(id)).sort((a, b) => a - b))
}

function freezeTopic(t: WorkingTopic): TopicImage {
  // fromEntries defines keys (a key "__proto__" stays a key, never a prototype). In key order, so
  // equal images are equal in every view, whatever order keys were set in: a snapshot's bytes
  // (record-codec writes the configs map in this order) are a function of the image alone.
  const configs = Object.freeze(Object.fromEntries(Object.entries(t.configs).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))))
  return Object.freeze({ name: t.name, id: t.id, partitions: t.partitionStates.length, partitionStates: Object.freeze(t.partitionStates), configs })
}

function fail(message: string): never {
  throw new MetadataError(message)
}

function checkInt(n: number, min: number, max: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < min || n > max) fail(`${what} must be an integer in [${min}, ${max}], got ${n}`)
}

function checkReplicas(replicas: readonly number[]): void {
  if (replicas.length === 0 || replicas.length > REPLICAS_PER_PARTITION_MAX) fail(`a partition has 1..${REPLICAS_PER_PARTITION_MAX} replicas, got ${replicas.length}`)
  for (const id of replicas) checkBrokerId(id, 'a replica')
  if (new Set(replicas).size !== replicas.length) fail(`replicas [${replicas.join(', ')}] name a broker twice`)
}

function checkBrokerId(id: number, what: string): void {
  checkInt(id, 0, INT32_MAX, what)
}

function checkUuid(hex: string, what: string): void {
  if (!isUuidHex(hex)) fail(`${what} must be 32 lowercase hex digits, got "${hex}"`)
}

function checkConfigKey(key: string): void {
  if (key.length === 0 || key.length > NAME_CHARS_MAX) fail(`a config key must be 1..${NAME_CHARS_MAX} characters`)
}
