// AlterConfigs: sets and resets a topic's config overrides, validated as a whole first.
import { checkTopicConfigs, TOPIC_CONFIGS } from '../../metadata/topic-config.js'
import { bitacora, ErrorCode, wireError } from '../../protocol/index.js'
import { TopicAdminError, type TopicAdmin } from '../controller/topic-admin.js'
import { isWireError, resolveTopicResource } from './config-resource.js'
import { topicLimitProblem, type TopicLimits } from './topic-limits.js'

export async function alterConfigs(
  admin: Pick<TopicAdmin, 'image' | 'setConfigs'>, limits: TopicLimits, req: bitacora.IAlterConfigsRequest,
): Promise<bitacora.IAlterConfigsResponse> {
  const results: bitacora.AlterConfigsResponse.IResult[] = []
  for (const target of req.resources ?? []) {
    const topic = resolveTopicResource(admin.image, target.resource)
    if (isWireError(topic)) {
      results.push({ resource: target.resource, error: topic })
      continue
    }
    const next: Record<string, string> = { ...topic.configs, ...Object.fromEntries(Object.entries(target.set ?? {})) }
    const unknownReset = (target.reset ?? []).find((k) => !TOPIC_CONFIGS.some((e) => e.name === k))
    for (const key of target.reset ?? []) delete next[key]
    const bad = unknownReset ? `unknown topic config '${unknownReset}'` : (checkTopicConfigs(next) ?? topicLimitProblem(next, limits))
    if (bad) {
      results.push({ resource: target.resource, error: wireError(ErrorCode.INVALID_CONFIG, bad) })
      continue
    }
    try {
      if (!req.validateOnly) await admin.setConfigs(topic.name, next)
      results.push({ resource: target.resource, error: null })
    } catch (err) {
      const error = err instanceof TopicAdminError ? wireError(err.code, err.message) : wireError(ErrorCode.UNKNOWN_SERVER_ERROR, (err as Error).message)
      results.push({ resource: target.resource, error })
    }
  }
  return { results }
}
