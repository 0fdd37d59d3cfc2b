// A request the controller refused or could not complete: the wire code to answer, and a message
// that says what to do. NOT_CONTROLLER names the active controller when this node knows it.
import type { ErrorCode } from '../../../protocol/index.js'

export class ControllerRequestError extends Error {
  override name = 'ControllerRequestError'
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message)
  }
}
