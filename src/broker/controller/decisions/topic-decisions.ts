// Topic administration, decided by the active controller: CreateTopics (validated as the
// one-node broker does, replicas placed over the unfenced brokers), DeleteTopics, AlterConfigs.
// Each topic or resource of a request succeeds or fails on its own; a name is checked against
// the records appended but not committed too. Pure (state.ts).
import type { MetadataImage, MetadataRecord } from '../../../metadata/image.js'
import { configChangeRecords, newTopicRecords } from '../../../metadata/records.js'
import { checkTopicConfigs, TOPIC_CONFIGS, type TopicConfigs } from '../../../metadata/topic-config.js'
import { topicNameProblem } from '../../../metadata/topic-name.js'
import { ErrorCode } from '../../../protocol/index.js'
import { VOTERS_MAX } from '../../../raft/limits.js'
import { ADMIN_ITEMS_PER_REQUEST_MAX } from './limits.js'
import { placeReplicas } from './placement.js'
import { refused, type ControllerError, type ControllerState, type Decision, type DecisionContext } from './state.js'

export interface CreatableTopic {
  readonly name: string
  /** 0: the default. */
  readonly partitions: number
  /** 0: the default. */
  readonly replicationFactor: number
  readonly configs: TopicConfigs
}

export interface CreateTopicsRequest {
  readonly topics: readonly CreatableTopic[]
  /** Check only: no records. */
  readonly validateOnly: boolean
}

export interface DeleteTopicsRequest {
  readonly names: readonly string[]
}

export interface ConfigChange {
  readonly topic: string
  readonly set: TopicConfigs
  /** Keys that go back to their defaults. */
  readonly reset: readonly string[]
}

export interface AlterConfigsRequest {
  readonly changes: readonly ConfigChange[]
  readonly validateOnly: boolean
}

/** One topic's (or config resource's) outcome: its id when it has one, or why it was refused. */
export interface TopicOutcome {
  readonly name: string
  readonly topicId: string | null
  readonly error: ControllerError | null
}

/** Creates each valid topic of the request; the rest are refused one by one. */
export function createTopics(state: ControllerState, req: CreateTopicsRequest, ctx: DecisionContext): Decision<readonly TopicOutcome[]> {
  if (req.topics.length > ADMIN_ITEMS_PER_REQUEST_MAX) return refused(ErrorCode.INVALID_REQUEST, `a request may create at most ${ADMIN_ITEMS_PER_REQUEST_MAX} topics, got ${req.topics.length}`)
  const outcomes: TopicOutcome[] = []
  const records: MetadataRecord[] = []
  const seen = new Set<string>()
  let image = state.latest
  for (const topic of req.topics) {
    const error = seen.has(topic.name)
      ? { code: ErrorCode.INVALID_REQUEST, message: `topic "${topic.name}" appears twice in the request` }
      : createProblem(state, image, topic)
    seen.add(topic.name)
    if (error) {
      outcomes.push({ name: topic.name, topicId: null, error })
      continue
    }
    const topicId = ctx.newUuid()
    const unfenced = image.brokers.filter((b) => !b.fenced)
    const placement = placeReplicas(image, unfenced, topic.partitions || state.config.defaultPartitions, topic.replicationFactor || state.config.defaultReplicationFactor)
    const created = newTopicRecords({ name: topic.name, id: topicId, configs: topic.configs }, placement)
    image = image.apply(created)
    records.push(...created)
    outcomes.push({ name: topic.name, topicId: req.validateOnly ? null : topicId, error: null })
  }
  return state.decided(outcomes, req.validateOnly ? [] : records, ctx)
}

/** Why `topic` cannot be created in `image`, or null. Checked in the order the one-node broker checks. */
function createProblem(state: ControllerState, image: MetadataImage, topic: CreatableTopic): ControllerError | null {
  const { name } = topic
  const { defaultPartitions, defaultReplicationFactor, partitionsPerTopicMax, topicsMax } = state.config
  const partitions = topic.partitions || defaultPartitions
  const replicationFactor = topic.replicationFactor || defaultReplicationFactor
  const nameProblem = topicNameProblem(name)
  if (nameProblem) return { code: ErrorCode.INVALID_TOPIC_EXCEPTION, message: nameProblem }
  if (image.topic(name)) {
    const committed = state.committed.topic(name) !== undefined
    return { code: ErrorCode.TOPIC_ALREADY_EXISTS, message: committed ? `topic "${name}" already exists` : `topic "${name}" already exists (its creation is being committed)` }
  }
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > partitionsPerTopicMax) {
    return { code: ErrorCode.INVALID_PARTITIONS, message: `partitions must be in [1, ${partitionsPerTopicMax}], got ${partitions}` }
  }
  const unfenced = image.brokers.filter((b) => !b.fenced).map((b) => b.brokerId)
  // A partition's replicas are the voters of its Raft group, which holds at most VOTERS_MAX.
  if (!Number.isInteger(replicationFactor) || replicationFactor < 1 || replicationFactor > VOTERS_MAX) {
    return { code: ErrorCode.INVALID_REPLICATION_FACTOR, message: `replication factor must be in [1, ${VOTERS_MAX}] (the most voters a partition's Raft group holds), got ${replicationFactor}` }
  }
  if (replicationFactor > unfenced.length) {
    const live = unfenced.length === 0 ? 'none is' : unfenced.length === 1 ? `only broker ${unfenced[0]} is` : `only ${unfenced.length} are (${unfenced.join(', ')})`
    return { code: ErrorCode.INVALID_REPLICATION_FACTOR, message: `replication factor ${replicationFactor} needs ${replicationFactor} live (unfenced) brokers; ${live}` }
  }
  const configProblem = checkTopicConfigs(topic.configs)
  if (configProblem) return { code: ErrorCode.INVALID_CONFIG, message: configProblem }
  if (image.topicCount >= topicsMax) return { code: ErrorCode.POLICY_VIOLATION, message: `the cluster holds its maximum of ${topicsMax} topics` }
  return null
}

/** Removes each named topic (its partitions and configs with it). */
export function deleteTopics(state: ControllerState, req: DeleteTopicsRequest, ctx: DecisionContext): Decision<readonly TopicOutcome[]> {
  if (req.names.length > ADMIN_ITEMS_PER_REQUEST_MAX) return refused(ErrorCode.INVALID_REQUEST, `a request may delete at most ${ADMIN_ITEMS_PER_REQUEST_MAX} topics, got ${req.names.length}`)
  const outcomes: TopicOutcome[] = []
  const records: MetadataRecord[] = []
  let image = state.latest
  for (const name of req.names) {
    const topic = image.topic(name)
    if (!topic) {
      outcomes.push({ name, topicId: null, error: { code: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, message: `no topic named "${name}"` } })
      continue
    }
    const removal: MetadataRecord = { type: 'removeTopic', topicId: topic.id }
    image = image.apply([removal])
    records.push(removal)
    outcomes.push({ name, topicId: topic.id, error: null })
  }
  return state.decided(outcomes, records, ctx)
}

/** Sets and resets config keys of each named topic; a change is validated whole, against the topic's configs then. */
export function alterConfigs(state: ControllerState, req: AlterConfigsRequest, ctx: DecisionContext): Decision<readonly TopicOutcome[]> {
  if (req.changes.length > ADMIN_ITEMS_PER_REQUEST_MAX) return refused(ErrorCode.INVALID_REQUEST, `a request may alter at most ${ADMIN_ITEMS_PER_REQUEST_MAX} resources, got ${req.changes.length}`)
  const outcomes: TopicOutcome[] = []
  const records: MetadataRecord[] = []
  let image = state.latest
  for (const change of req.changes) {
    const topic = image.topic(change.topic)
    if (!topic) {
      outcomes.push({ name: change.topic, topicId: null, error: { code: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, message: `no topic named "${change.topic}"` } })
      continue
    }
    const next: Record<string, string> = { ...topic.configs, ...change.set }
    const unknownReset = change.reset.find((k) => !TOPIC_CONFIGS.some((e) => e.name === k))
    for (const key of change.reset) delete next[key]
    const problem = unknownReset !== undefined ? `unknown topic config '${unknownReset}'` : checkTopicConfigs(next)
    if (problem) {
      outcomes.push({ name: change.topic, topicId: topic.id, error: { code: ErrorCode.INVALID_CONFIG, message: problem } })
      continue
    }
    const changed = configChangeRecords(topic.id, topic.configs, next)
    image = image.apply(changed)
    records.push(...changed)
    outcomes.push({ name: change.topic, topicId: topic.id, error: null })
  }
  return state.decided(outcomes, req.validateOnly ? [] : records, ctx)
}
