// AlterConfigs on the active controller: sets and resets a topic's config overrides (each change
// validated whole and committed to the metadata log before the answer). What only this broker
// knows — its frame limit — is checked first. Elsewhere the request fails whole with
// NOT_CONTROLLER (clients' requests are forwarded: forward-admin.ts).
import { bitacora, ErrorCode, wireError } from '../../protocol/index.js'
import { ADMIN_COMMIT_TIMEOUT_MS_DEFAULT } from '../controller/decisions/limits.js'
import { ControllerRequestError, type ConfigChange, type TopicAdmin } from '../controller/active/topic-admin.js'
import { isWireError, resolveTopicResource } from './config-resource.js'
import { topicLimitProblem, type TopicLimits } from './topic-limits.js'

export async function alterConfigs(
  admin: Pick<TopicAdmin, 'image' | 'alterConfigs'>, limits: TopicLimits, req: bitacora.IAlterConfigsRequest,
): Promise<bitacora.IAlterConfigsResponse> {
  const targets = req.resources ?? []
  const errors: Array<bitacora.IError | null> = []
  const changes: ConfigChange[] = []
  for (const target of targets) {
    const topic = resolveTopicResource(admin.image, target.resource)
    if (isWireError(topic)) {
      errors.push(topic)
      continue
    }
    const set = Object.fromEntries(Object.entries(target.set ?? {}))
    const next: Record<string, string> = { ...topic.configs, ...set }
    for (const key of target.reset ?? []) delete next[key]
    const problem = topicLimitProblem(next, limits)
    errors.push(problem === null ? null : wireError(ErrorCode.INVALID_CONFIG, problem))
    if (problem === null) changes.push({ topic: topic.name, set, reset: target.reset ?? [] })
  }
  let outcomes
  try {
    outcomes = changes.length === 0 ? [] : await admin.alterConfigs({ changes, validateOnly: req.validateOnly === true }, ADMIN_COMMIT_TIMEOUT_MS_DEFAULT)
  } catch (err) {
    if (!(err instanceof ControllerRequestError) || err.code === ErrorCode.NOT_CONTROLLER) throw err
    outcomes = changes.map((c) => ({ name: c.topic, topicId: null, error: { code: err.code, message: err.message } }))
  }
  let next = 0
  return {
    results: targets.map((target, i) => {
      if (errors[i] !== null) return { resource: target.resource, error: errors[i] }
      const o = outcomes[next++]
      return { resource: target.resource, error: o.error ? wireError(o.error.code, o.error.message) : null }
    }),
  }
}
