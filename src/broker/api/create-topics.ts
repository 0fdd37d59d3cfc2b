// CreateTopics: validates each topic on its own, creates it all or nothing, and answers once
// its partitions can take writes (so a client's first produce succeeds).
import { randomUUID } from 'node:crypto'
import { topicNameProblem } from '../../metadata/topic-name.js'
import { checkTopicConfigs, type TopicConfigs } from '../../metadata/topic-config.js'
import { bitacora, ErrorCode, wireError } from '../../protocol/index.js'
import { TopicAdminError, type TopicAdmin } from '../controller/topic-admin.js'
import { CREATE_READY_TIMEOUT_MS, type BrokerLimits } from '../limits.js'
import type { PartitionLookup } from '../partition/replica-manager.js'
import { topicIdBytes } from './topic-id.js'
import { topicLimitProblem } from './topic-limits.js'

export interface CreateTopicsDeps {
  readonly admin: Pick<TopicAdmin, 'create' | 'image'>
  readonly partitions: PartitionLookup
  /** Partitions of a topic created without a count. */
  readonly defaultPartitions: number
  readonly limits: Pick<BrokerLimits, 'partitionsPerTopicMax' | 'topicsMax' | 'batchBytesMax' | 'frameBytesMax'>
}

export async function createTopics(deps: CreateTopicsDeps, req: bitacora.ICreateTopicsRequest): Promise<bitacora.ICreateTopicsResponse> {
  const results: bitacora.ITopicResult[] = []
  const seen = new Set<string>()
  for (const t of req.topics ?? []) {
    const name = t.name ?? ''
    const problem = seen.has(name)
      ? ([ErrorCode.INVALID_REQUEST, `topic "${name}" appears twice in the request`] as const)
      : requestProblem(deps, t)
    seen.add(name)
    if (problem) results.push({ name, error: wireError(...problem) })
    else if (req.validateOnly) results.push({ name, error: null })
    else results.push(await create(deps, t, req.timeoutMs || CREATE_READY_TIMEOUT_MS))
  }
  return { topics: results }
}

function requestProblem(deps: CreateTopicsDeps, t: bitacora.ICreatableTopic): readonly [ErrorCode, string] | null {
  const name = t.name ?? ''
  const partitions = t.partitions || deps.defaultPartitions
  const { partitionsPerTopicMax, topicsMax } = deps.limits
  const nameProblem = topicNameProblem(name)
  if (nameProblem) return [ErrorCode.INVALID_TOPIC_EXCEPTION, nameProblem]
  if (deps.admin.image.topic(name)) return [ErrorCode.TOPIC_ALREADY_EXISTS, `topic "${name}" already exists`]
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > partitionsPerTopicMax) {
    return [ErrorCode.INVALID_PARTITIONS, `partitions must be in [1, ${partitionsPerTopicMax}], got ${partitions}`]
  }
  if (t.replicationFactor && t.replicationFactor !== 1) {
    return [ErrorCode.INVALID_REPLICATION_FACTOR, `replication factor ${t.replicationFactor} needs more brokers than this cluster has (1)`]
  }
  const configs = Object.fromEntries(Object.entries(t.configs ?? {}))
  const configProblem = checkTopicConfigs(configs) ?? topicLimitProblem(configs, deps.limits)
  if (configProblem) return [ErrorCode.INVALID_CONFIG, configProblem]
  if (deps.admin.image.topicCount >= topicsMax) return [ErrorCode.POLICY_VIOLATION, `the broker holds its maximum of ${topicsMax} topics`]
  return null
}

async function create(deps: CreateTopicsDeps, t: bitacora.ICreatableTopic, readyTimeoutMs: number): Promise<bitacora.ITopicResult> {
  const name = t.name ?? ''
  const configs: TopicConfigs = Object.fromEntries(Object.entries(t.configs ?? {}))
  const topic = { name, id: randomUUID().replaceAll('-', ''), partitions: t.partitions || deps.defaultPartitions, configs }
  try {
    await deps.admin.create(topic)
  } catch (err) {
    if (err instanceof TopicAdminError) return { name, error: wireError(err.code, err.message) }
    return { name, error: wireError(ErrorCode.UNKNOWN_SERVER_ERROR, `creating topic "${name}" failed, nothing was created: ${(err as Error).message}`) }
  }
  const ready = await Promise.all(
    Array.from({ length: topic.partitions }, (_, p) => deps.partitions.partition(name, p)?.waitLeaderReady(readyTimeoutMs)),
  )
  const error = ready.every(Boolean) ? null : wireError(ErrorCode.REQUEST_TIMED_OUT, `topic "${name}" was created; some partitions have no leader yet`)
  return { name, topicId: topicIdBytes(topic.id), error }
}
