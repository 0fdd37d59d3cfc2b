// CreateTopics on the active controller: each topic validated on its own and created (its
// records committed to the metadata log before the answer), then, for the partitions this broker
// hosts, answered once they can take writes (so a client's first produce succeeds). On any
// other node the request fails whole with NOT_CONTROLLER (a ControllerRequestError): clients'
// requests reach the controller through forward-admin.ts.
import { checkTopicConfigs, type TopicConfigs } from '../../metadata/topic-config.js'
import { bitacora, ErrorCode, wireError } from '../../protocol/index.js'
import { ControllerRequestError, type CreatableTopic, type TopicAdmin, type TopicOutcome } from '../controller/active/topic-admin.js'
import { ADMIN_TIMEOUT_MS_MAX, CREATE_READY_TIMEOUT_MS, type BrokerLimits } from '../limits.js'
import type { PartitionLookup } from '../partition/replica-manager.js'
import { topicIdBytes } from './topic-id.js'
import { topicLimitProblem } from './topic-limits.js'

export interface CreateTopicsDeps {
  readonly admin: Pick<TopicAdmin, 'createTopics' | 'image' | 'nodeId'>
  readonly partitions: PartitionLookup
  readonly limits: Pick<BrokerLimits, 'batchBytesMax' | 'frameBytesMax'>
}

export async function createTopics(deps: CreateTopicsDeps, req: bitacora.ICreateTopicsRequest): Promise<bitacora.ICreateTopicsResponse> {
  const timeoutMs = adminTimeoutMs(req.timeoutMs, CREATE_READY_TIMEOUT_MS)
  const deadline = Date.now() + timeoutMs
  const asked = (req.topics ?? []).map((t): CreatableTopic => ({
    name: t.name ?? '', partitions: t.partitions ?? 0, replicationFactor: t.replicationFactor ?? 0, configs: Object.fromEntries(Object.entries(t.configs ?? {})),
  }))
  // What only this broker knows (its frame limit) is checked here; the rest by the controller.
  const local = asked.map((t) => brokerProblem(t.configs, deps.limits))
  const toController = asked.filter((_, i) => local[i] === null)
  let outcomes: readonly TopicOutcome[]
  try {
    outcomes = await deps.admin.createTopics({ topics: toController, validateOnly: req.validateOnly === true }, timeoutMs)
  } catch (err) {
    if (!(err instanceof ControllerRequestError) || err.code === ErrorCode.NOT_CONTROLLER) throw err
    const error = wireError(err.code, err.message)
    return { topics: asked.map((t, i) => ({ name: t.name, error: local[i] === null ? error : wireError(ErrorCode.INVALID_CONFIG, local[i]!) })) }
  }
  let next = 0
  const results = asked.map((t, i) => (local[i] !== null ? { name: t.name, error: wireError(ErrorCode.INVALID_CONFIG, local[i]!) } : outcomes[next++]))
  return { topics: await Promise.all(results.map((r) => ('topicId' in r ? answer(deps, r, deadline) : r))) }
}

/** A request's timeout: `asked`, or `byDefault` when it asks none (0), at most ADMIN_TIMEOUT_MS_MAX. */
export function adminTimeoutMs(asked: number | null | undefined, byDefault: number): number {
  return Math.min(asked || byDefault, ADMIN_TIMEOUT_MS_MAX)
}

function brokerProblem(configs: TopicConfigs, limits: CreateTopicsDeps['limits']): string | null {
  return checkTopicConfigs(configs) === null ? topicLimitProblem(configs, limits) : null
}

/** A created topic's answer once the partitions hosted here have a leader; a refused one's at once. */
async function answer(deps: CreateTopicsDeps, o: TopicOutcome, deadline: number): Promise<bitacora.ITopicResult> {
  if (o.error) return { name: o.name, error: wireError(o.error.code, o.error.message) }
  if (o.topicId === null) return { name: o.name, error: null } // validate only
  return { name: o.name, topicId: topicIdBytes(o.topicId), error: await leadersHere(deps, o.name, o.topicId, deadline) }
}

/**
 * Null once every partition of the topic hosted on this broker has a leader it can name (itself,
 * ready for writes, or another replica it follows); the error to answer if not by `deadline`.
 */
export async function leadersHere(deps: { readonly admin: Pick<TopicAdmin, 'image' | 'nodeId'>; readonly partitions: PartitionLookup }, name: string, topicId: string, deadline: number): Promise<bitacora.IError | null> {
  const partitions = deps.admin.image.topicById(topicId)?.partitions ?? 0
  const hosted = Array.from({ length: partitions }, (_, p) => deps.partitions.partition(name, p)).filter((r) => r !== undefined)
  const ready = await Promise.all(hosted.map((r) => r.waitLeaderKnown(Math.max(0, deadline - Date.now()))))
  return ready.every(Boolean) ? null : wireError(ErrorCode.REQUEST_TIMED_OUT, `topic "${name}" was created; some of its partitions on broker ${deps.admin.nodeId} have no leader yet`)
}
