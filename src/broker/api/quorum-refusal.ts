// What DescribeQuorum, AddVoter and RemoveVoter answer when they cannot do their job: the
// quorum's own refusal (QuorumError) with its code and message. These
// responses have no error field of their own, so the refusal is the response's top-level error.
import { bitacora, ErrorCode, wireError } from '../../protocol/index.js'
import { QuorumError, type ControllerQuorum } from '../controller/node/quorum.js'

/**
 * The wire error for a QuorumError: its code and message; for NOT_CONTROLLER, the message also
 * names the active controller and where it listens, when known (a person reads it; the client
 * finds the controller through DescribeQuorum). Anything else is a bug: rethrown, so the
 * session logs it with its stack and answers UNKNOWN_SERVER_ERROR.
 */
export function quorumRefusal(err: unknown, quorum: ControllerQuorum): bitacora.IError {
  if (!(err instanceof QuorumError)) throw err
  if (err.code !== 'NOT_CONTROLLER') return wireError(ErrorCode[err.code], err.message)
  const id = err.controllerId ?? quorum.controllerId
  if (id === null) return wireError(ErrorCode.NOT_CONTROLLER, `${err.message} (no controller is elected right now; retry shortly)`)
  const url = quorum.status().voters.find((v) => v.nodeId === id)?.url
  return wireError(ErrorCode.NOT_CONTROLLER, `${err.message} (the active controller is node ${id}${url ? ` at ${url}` : ''})`)
}
