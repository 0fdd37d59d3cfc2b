// What AddVoter and RemoveVoter answer when the quorum refuses: its own refusal (QuorumError)
// with its code and message. These responses have no error field of their own, so the refusal
// is the response's top-level error.
import { bitacora, ErrorCode, wireError } from '../../protocol/index.js'
import { QuorumError } from '../controller/node/quorum.js'

/**
 * The wire error for a QuorumError, its message as the quorum wrote it: a NOT_CONTROLLER refusal
 * already names the active controller and where it listens, or says none is known (adding it
 * here said it twice). Anything else is a bug: rethrown, so the session logs it with its stack
 * and answers UNKNOWN_SERVER_ERROR.
 */
export function quorumRefusal(err: unknown): bitacora.IError {
  if (!(err instanceof QuorumError)) throw err
  return wireError(ErrorCode[err.code], err.message)
}
