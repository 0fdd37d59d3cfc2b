// BrokerHeartbeat (Request 32): a registered broker renews its lease with the active controller
// and says how far it has replayed the metadata log; the answer (once committed) says whether it
// is fenced. Peer connections only, for the node the connection proved (broker-registration.ts).
import { uuidHex } from '../../metadata/uuid.js'
import type { bitacora, ResponseProps } from '../../protocol/index.js'
import { membershipAnswer, membershipRefusal, uuidRefusal, type Membership } from './broker-registration.js'

export async function brokerHeartbeat(membership: Membership, req: bitacora.IBrokerHeartbeatRequest, peer: number | null): Promise<ResponseProps> {
  const brokerId = req.brokerId ?? 0
  const refusal = membershipRefusal('heartbeat', brokerId, peer) ?? uuidRefusal('incarnation_id', req.incarnationId)
  if (refusal !== null) return refusal
  const result = await membership.heartbeat({
    brokerId, incarnationId: uuidHex(req.incarnationId!), metadataOffset: req.metadataOffset ?? 0, wantShutDown: req.wantShutDown === true,
  })
  return membershipAnswer(result, (fenced) => ({ brokerHeartbeat: { fenced } }))
}
