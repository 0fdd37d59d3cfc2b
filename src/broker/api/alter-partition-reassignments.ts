// AlterPartitionReassignments (Request 35, as Kafka's): move partitions to new replicas, or cancel
// a move in progress. Decided by the active controller (controller/decisions/reassignment.ts),
// answered once the move is recorded — the move itself then runs on each partition's leader
// (controller/node/partition-mover.ts) and `topics describe` shows it. A client's request is
// forwarded to the controller (as CreateTopics: forward-admin.ts) and answered once this node's
// image shows the moves recorded, so the client's next describe here sees them.
import { bitacora, ErrorCode, wireError } from '../../protocol/index.js'
import { ControllerRequestError } from '../controller/active/request-error.js'
import { ADMIN_COMMIT_TIMEOUT_MS_DEFAULT } from '../controller/decisions/limits.js'
import { type ReassignOutcome, type ReassignPartition } from '../controller/decisions/reassignment.js'
import { targetReplicas } from '../../metadata/image.js'
import { FORWARD_TIMEOUT_MARGIN_MS } from '../limits.js'
import { adminTimeoutMs } from './create-topics.js'
import type { ForwardingDeps } from './forward-admin.js'

/** What the API uses of the active controller. */
export interface Reassignments {
  /** Rejects with a ControllerRequestError when the request as a whole fails (NOT_CONTROLLER, REQUEST_TIMED_OUT). */
  alter(partitions: readonly ReassignPartition[], timeoutMs: number): Promise<readonly ReassignOutcome[]>
}

type Req = bitacora.IAlterPartitionReassignmentsRequest
type Res = bitacora.IAlterPartitionReassignmentsResponse
type Result = bitacora.AlterPartitionReassignmentsResponse.IResult

/** On the active controller. NOT_CONTROLLER is thrown (the whole request: the forwarding node tries the next controller). */
export async function alterPartitionReassignments(controller: Reassignments, req: Req): Promise<Res> {
  const { partitions, refused } = parse(req)
  let outcomes: readonly ReassignOutcome[] = []
  try {
    outcomes = partitions.length === 0 ? [] : await controller.alter(partitions, adminTimeoutMs(req.timeoutMs, ADMIN_COMMIT_TIMEOUT_MS_DEFAULT))
  } catch (err) {
    if (!(err instanceof ControllerRequestError) || err.code === ErrorCode.NOT_CONTROLLER) throw err
    outcomes = partitions.map((p) => ({ topic: p.topic, partition: p.partition, error: { code: err.code, message: err.message } }))
  }
  const results: Result[] = outcomes.map((o) => ({ topic: o.topic, partition: o.partition, error: o.error === null ? null : wireError(o.error.code, o.error.message) }))
  return { results: [...refused, ...results] }
}

/** A client's request, sent to the active controller; answered once this node's image shows each recorded move. */
export async function forwardPartitionReassignments(deps: ForwardingDeps, req: Req): Promise<Res> {
  const timeoutMs = adminTimeoutMs(req.timeoutMs, ADMIN_COMMIT_TIMEOUT_MS_DEFAULT)
  const deadline = Date.now() + timeoutMs
  const response = await deps.controller.send('alterPartitionReassignments', { ...req, timeoutMs: Math.max(1, timeoutMs - FORWARD_TIMEOUT_MARGIN_MS) }, timeoutMs)
  const error = response.error
  if (error != null && (error.code ?? ErrorCode.NONE) !== ErrorCode.NONE) {
    const whole = wireError(error.code ?? ErrorCode.UNKNOWN_SERVER_ERROR, error.message ?? '')
    return { results: (req.topics ?? []).flatMap((t) => (t.partitions ?? []).map((p) => ({ topic: t.name ?? '', partition: p.partition ?? 0, error: whole }))) }
  }
  const results = response.alterPartitionReassignments?.results ?? []
  const moves = parse(req).partitions.filter((p) => p.replicas !== null && results.some((r) => r.topic === p.topic && r.partition === p.partition && r.error == null))
  if (moves.length > 0) {
    await deps.admin.seen((image) => moves.every((m) => {
      const p = image.topic(m.topic)?.partitionStates[m.partition]
      return p === undefined || targetReplicas(p).join() === m.replicas!.join()
    }), Math.max(1, deadline - Date.now()))
  }
  return { results }
}

/** The request's partitions, and the results of those malformed (refused here, before the controller). */
function parse(req: Req): { partitions: ReassignPartition[]; refused: Result[] } {
  const partitions: ReassignPartition[] = []
  const refused: Result[] = []
  for (const t of req.topics ?? []) {
    for (const p of t.partitions ?? []) {
      const topic = t.name ?? ''
      const partition = p.partition ?? 0
      const replicas = p.replicas ?? []
      if (p.cancel === true && replicas.length > 0) {
        refused.push({ topic, partition, error: wireError(ErrorCode.INVALID_REQUEST, `${topic}/${partition}: a cancel names no replicas (it goes back to those the move started from)`) })
        continue
      }
      partitions.push({ topic, partition, replicas: p.cancel === true ? null : replicas })
    }
  }
  return { partitions, refused }
}
