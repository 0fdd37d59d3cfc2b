// CreateTopics, DeleteTopics and AlterConfigs from a client go to the active controller whichever
// node the client sent them to (Kafka's forwarding), through the controller channel
// (net/controller-channel.ts): run on this node when it is the controller, else sent over its
// peer link, and sent again to the next controller when one dies or steps down, within the
// request's timeout. The controller gets that timeout less a margin, so its own answer comes
// back first; past the deadline every item answers REQUEST_TIMED_OUT saying the outcome is
// unknown, never NOT_CONTROLLER. Once the controller has answered, this node waits (within the
// deadline) until its own image shows the change — and a created topic's partitions hosted here
// have a leader —, so the client's next request here sees it.
import type { MetadataImage } from '../../metadata/image.js'
import { uuidHex } from '../../metadata/uuid.js'
import { bitacora, ErrorCode, wireError, type ApiName, type RequestProps, type ResponseProps } from '../../protocol/index.js'
import { ADMIN_COMMIT_TIMEOUT_MS_DEFAULT } from '../controller/decisions/limits.js'
import type { TopicAdmin } from '../controller/active/topic-admin.js'
import { CREATE_READY_TIMEOUT_MS, FORWARD_TIMEOUT_MARGIN_MS } from '../limits.js'
import type { PartitionLookup } from '../partition/replica-manager.js'
import { adminTimeoutMs, leadersHere } from './create-topics.js'

/** The way to the active controller (net/controller-channel.ts): resolves with its answer or an error saying why none came. */
export interface ToController {
  send<A extends ApiName>(api: A, body: NonNullable<RequestProps[A]>, timeoutMs: number): Promise<ResponseProps>
}

export interface ForwardingDeps {
  readonly controller: ToController
  readonly admin: Pick<TopicAdmin, 'image' | 'nodeId' | 'seen'>
  readonly partitions: PartitionLookup
}

export async function forwardCreateTopics(deps: ForwardingDeps, req: bitacora.ICreateTopicsRequest): Promise<bitacora.ICreateTopicsResponse> {
  const timeoutMs = adminTimeoutMs(req.timeoutMs, CREATE_READY_TIMEOUT_MS)
  const deadline = Date.now() + timeoutMs
  const response = await deps.controller.send('createTopics', { ...req, timeoutMs: forwardedTimeoutMs(timeoutMs) }, timeoutMs)
  const error = failure(response)
  if (error !== null) return { topics: (req.topics ?? []).map((t) => ({ name: t.name ?? '', error })) }
  const topics = response.createTopics?.topics ?? []
  const created = topics.filter((t) => t.error == null && (t.topicId?.length ?? 0) > 0).map((t) => ({ name: t.name ?? '', id: uuidHex(t.topicId!) }))
  if (created.length === 0) return { topics }
  await deps.admin.seen((image) => created.every((t) => image.topicById(t.id) !== undefined), remaining(deadline))
  const notReady = new Map(await Promise.all(created.map(async (t) => [t.id, await leadersHere(deps, t.name, t.id, deadline)] as const)))
  return { topics: topics.map((t) => (t.error == null && t.topicId?.length ? { ...t, error: notReady.get(uuidHex(t.topicId)) ?? null } : t)) }
}

export async function forwardDeleteTopics(deps: ForwardingDeps, req: bitacora.IDeleteTopicsRequest): Promise<bitacora.IDeleteTopicsResponse> {
  const timeoutMs = adminTimeoutMs(req.timeoutMs, ADMIN_COMMIT_TIMEOUT_MS_DEFAULT)
  const deadline = Date.now() + timeoutMs
  const response = await deps.controller.send('deleteTopics', { ...req, timeoutMs: forwardedTimeoutMs(timeoutMs) }, timeoutMs)
  const error = failure(response)
  if (error !== null) return { topics: (req.names ?? []).map((name) => ({ name, error })) }
  const topics = response.deleteTopics?.topics ?? []
  const deleted = topics.filter((t) => t.error == null && (t.topicId?.length ?? 0) > 0).map((t) => uuidHex(t.topicId!))
  if (deleted.length > 0) await deps.admin.seen((image) => deleted.every((id) => image.topicById(id) === undefined), remaining(deadline))
  return { topics }
}

export async function forwardAlterConfigs(deps: ForwardingDeps, req: bitacora.IAlterConfigsRequest): Promise<bitacora.IAlterConfigsResponse> {
  // AlterConfigs names no timeout: the controller commits within its default, and the margin is this node's.
  const timeoutMs = ADMIN_COMMIT_TIMEOUT_MS_DEFAULT + FORWARD_TIMEOUT_MARGIN_MS
  const deadline = Date.now() + timeoutMs
  const response = await deps.controller.send('alterConfigs', req, timeoutMs)
  const error = failure(response)
  if (error !== null) return { results: (req.resources ?? []).map((r) => ({ resource: r.resource, error })) }
  const results = response.alterConfigs?.results ?? []
  const altered = req.validateOnly ? [] : (req.resources ?? []).filter((_, i) => results[i] !== undefined && results[i].error == null)
  if (altered.length > 0) await deps.admin.seen((image) => altered.every((target) => shows(image, target)), remaining(deadline))
  return { results }
}

/** The controller's timeout: the request's less the margin, so its answer arrives before this node gives up. */
function forwardedTimeoutMs(timeoutMs: number): number {
  return Math.max(1, timeoutMs - FORWARD_TIMEOUT_MARGIN_MS)
}

/** The error of a request the controller did not answer (the channel's REQUEST_TIMED_OUT, say), or null. */
function failure(response: ResponseProps): bitacora.IError | null {
  const error = response.error
  if (error == null || (error.code ?? ErrorCode.NONE) === ErrorCode.NONE) return null
  return wireError(error.code ?? ErrorCode.UNKNOWN_SERVER_ERROR, error.message ?? '')
}

/** Whether `image` holds a config change as asked: every key set to its value, every reset key gone. */
function shows(image: MetadataImage, target: bitacora.AlterConfigsRequest.ITarget): boolean {
  const configs = image.topic(target.resource?.name ?? '')?.configs
  if (configs === undefined) return true // deleted since: nothing left to wait for
  return Object.entries(target.set ?? {}).every(([k, v]) => configs[k] === v) && (target.reset ?? []).every((k) => !(k in configs))
}

function remaining(deadline: number): number {
  return Math.max(1, deadline - Date.now())
}
