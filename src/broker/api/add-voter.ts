// AddVoter: makes a node a controller voter (KIP-853, one change at a time). Only the active
// controller does it: the node first catches up as an observer, within the request's time;
// the answer is the voter set then in force. A node that does not catch up in time is refused
// (REQUEST_TIMED_OUT) and the quorum goes on without it.
import { bitacora, ErrorCode, wireError } from '../../protocol/index.js'
import type { ControllerQuorum } from '../controller/node/quorum.js'
import { ADD_VOTER_TIMEOUT_MS_DEFAULT, ADD_VOTER_TIMEOUT_MS_MAX } from '../limits.js'
import { quorumRefusal } from './quorum-refusal.js'

export async function addVoter(
  quorum: ControllerQuorum, req: bitacora.IAddVoterRequest,
): Promise<{ addVoter: bitacora.IAddVoterResponse } | { error: bitacora.IError }> {
  const nodeId = req.nodeId ?? 0
  if (nodeId < 0) return { error: wireError(ErrorCode.INVALID_REQUEST, `AddVoter: node id must be >= 0, got ${nodeId}`) }
  const url = voterUrl(req.url ?? '')
  if (typeof url !== 'string') return { error: wireError(ErrorCode.INVALID_REQUEST, `AddVoter: ${url.problem}`) }
  const timeoutMs = req.timeoutMs || ADD_VOTER_TIMEOUT_MS_DEFAULT
  if (timeoutMs > ADD_VOTER_TIMEOUT_MS_MAX) {
    return { error: wireError(ErrorCode.INVALID_REQUEST, `AddVoter: timeout ${timeoutMs} ms is over the most a node may take to catch up, ${ADD_VOTER_TIMEOUT_MS_MAX} ms`) }
  }
  try {
    return { addVoter: { voters: [...(await quorum.addVoter(nodeId, url, timeoutMs))] } }
  } catch (err) {
    return { error: quorumRefusal(err) }
  }
}

/** The node's URL, normalized (`ws://host:port/`), or why it is not one a voter can have. */
export function voterUrl(given: string): string | { problem: string } {
  let url: URL
  try {
    url = new URL(given)
  } catch {
    return { problem: `'${given}' is not a URL; give the node's listener as ws://HOST:PORT/` }
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') return { problem: `'${given}' must be a ws:// or wss:// URL (the node's listener)` }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    return { problem: `'${given}' must be only ws://HOST:PORT/ (no credentials, query or fragment)` }
  }
  return url.href
}
