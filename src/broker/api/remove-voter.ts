// RemoveVoter: takes a node out of the controller voters (KIP-853, one change at a time). Only
// the active controller does it; removing the last voter is refused. The answer is the voter
// set then in force.
import { bitacora, ErrorCode, wireError } from '../../protocol/index.js'
import type { ControllerQuorum } from '../controller/node/quorum.js'
import { quorumRefusal } from './quorum-refusal.js'

export async function removeVoter(
  quorum: ControllerQuorum, req: bitacora.IRemoveVoterRequest,
): Promise<{ removeVoter: bitacora.IRemoveVoterResponse } | { error: bitacora.IError }> {
  const nodeId = req.nodeId ?? 0
  if (nodeId < 0) return { error: wireError(ErrorCode.INVALID_REQUEST, `RemoveVoter: node id must be >= 0, got ${nodeId}`) }
  try {
    return { removeVoter: { voters: [...(await quorum.removeVoter(nodeId))] } }
  } catch (err) {
    return { error: quorumRefusal(err) }
  }
}
