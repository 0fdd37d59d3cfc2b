// DeleteTopics: each named topic is forgotten, then its data removed.
import { bitacora, ErrorCode, wireError } from '../../protocol/index.js'
import { TopicAdminError, type TopicAdmin } from '../controller/topic-admin.js'
import { topicIdBytes } from './topic-id.js'

export async function deleteTopics(admin: Pick<TopicAdmin, 'delete'>, req: bitacora.IDeleteTopicsRequest): Promise<bitacora.IDeleteTopicsResponse> {
  const results: bitacora.ITopicResult[] = []
  for (const name of req.names ?? []) {
    try {
      const topic = await admin.delete(name)
      results.push({ name, topicId: topicIdBytes(topic.id), error: null })
    } catch (err) {
      const error = err instanceof TopicAdminError ? wireError(err.code, err.message) : wireError(ErrorCode.UNKNOWN_SERVER_ERROR, (err as Error).message)
      results.push({ name, error })
    }
  }
  return { topics: results }
}
