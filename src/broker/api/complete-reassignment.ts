// CompleteReassignment (Request 36): a partition's leader tells the active controller that its
// Raft group's committed voters are now the move's target; the controller records them as the
// partition's replicas (controller/decisions/reassignment.ts). Peer connections only, and only
// about the node the connection proved: a broker completes moves it leads, never another's.
import { uuidHex } from '../../metadata/uuid.js'
import { wireError, type bitacora, type ResponseProps } from '../../protocol/index.js'
import type { Decided } from '../controller/active/membership-service.js'
import type { CompleteReassignmentRequest } from '../controller/decisions/reassignment.js'
import { membershipRefusal, uuidRefusal } from './broker-registration.js'

/** What the API uses of the controller: the completion decided, answered once committed. */
export interface ReassignmentCompletions {
  complete(req: CompleteReassignmentRequest): Promise<Decided<unknown>>
}

export async function completeReassignment(controller: ReassignmentCompletions, req: bitacora.ICompleteReassignmentRequest, peer: number | null): Promise<ResponseProps> {
  const brokerId = req.brokerId ?? 0
  const refusal = membershipRefusal('complete a partition move', brokerId, peer) ?? uuidRefusal('topic_id', req.topicId)
  if (refusal !== null) return refusal
  const result = await controller.complete({
    topicId: uuidHex(req.topicId!), partition: req.partition ?? 0, leader: brokerId, leaderEpoch: req.leaderEpoch ?? 0, voters: req.voters ?? [],
  })
  return result.ok ? { completeReassignment: {} } : { error: wireError(result.error.code, result.error.message) }
}
