// DeleteTopics on the active controller: each named topic removed (committed to the metadata
// log before the answer; this broker's partitions of it are deleted by then). Elsewhere the
// request fails whole with NOT_CONTROLLER (clients' requests are forwarded: forward-admin.ts).
import { bitacora, ErrorCode, wireError } from '../../protocol/index.js'
import { ControllerRequestError, type TopicAdmin } from '../controller/active/topic-admin.js'
import { ADMIN_COMMIT_TIMEOUT_MS_DEFAULT } from '../controller/decisions/limits.js'
import { adminTimeoutMs } from './create-topics.js'
import { topicIdBytes } from './topic-id.js'

export async function deleteTopics(admin: Pick<TopicAdmin, 'deleteTopics'>, req: bitacora.IDeleteTopicsRequest): Promise<bitacora.IDeleteTopicsResponse> {
  const names = req.names ?? []
  try {
    const outcomes = await admin.deleteTopics(names, adminTimeoutMs(req.timeoutMs, ADMIN_COMMIT_TIMEOUT_MS_DEFAULT))
    return {
      topics: outcomes.map((o) => (o.error ? { name: o.name, error: wireError(o.error.code, o.error.message) } : { name: o.name, topicId: topicIdBytes(o.topicId!), error: null })),
    }
  } catch (err) {
    if (!(err instanceof ControllerRequestError) || err.code === ErrorCode.NOT_CONTROLLER) throw err
    return { topics: names.map((name) => ({ name, error: wireError(err.code, err.message) })) }
  }
}
