// AllocateProducerIds (Request 38): a broker asks the active controller for the next block of
// producer ids (controller/decisions/reports.ts: allocateProducerIds), recorded in the metadata
// log (a producerIdBlock record) before the answer, so no id is ever handed out twice. Peer
// connections only, for the node the connection proved and the incarnation it registered with.
import { uuidHex } from '../../metadata/uuid.js'
import { wireError, type bitacora, type ResponseProps } from '../../protocol/index.js'
import type { Decided } from '../controller/active/membership-service.js'
import type { ProducerIdsRequest } from '../controller/decisions/reports.js'
import { membershipRefusal, uuidRefusal } from './broker-registration.js'

/** What the API uses of the controller: the allocation decided, answered once committed. */
export interface ProducerIdAllocator {
  allocate(req: ProducerIdsRequest): Promise<Decided<{ readonly firstId: number; readonly size: number }>>
}

export async function allocateProducerIds(ids: ProducerIdAllocator, req: bitacora.IAllocateProducerIdsRequest, peer: number | null): Promise<ResponseProps> {
  const brokerId = req.brokerId ?? 0
  const refusal = membershipRefusal('ask for producer ids', brokerId, peer) ?? uuidRefusal('incarnation_id', req.incarnationId)
  if (refusal !== null) return refusal
  const result = await ids.allocate({ brokerId, incarnationId: uuidHex(req.incarnationId!) })
  if (!result.ok) return { error: wireError(result.error.code, result.error.message) }
  return { allocateProducerIds: { firstId: result.answer.firstId, size: result.answer.size } }
}
