// The CLI's two kinds of failure, and the one line a user sees for any error. Usage errors
// (bad flags) exit 2; operational errors (unknown topic, unreachable broker, a broker
// refusal) exit 1. Anything else is a bug and keeps its stack.
import { BitacoraError, ClientError, CodecError } from '../client/node.js'
import { ConfigError } from '../broker/config.js'

export class UsageError extends Error {
  override name = 'UsageError'
}

export class OperationalError extends Error {
  override name = 'OperationalError'
}

export interface Failure {
  message: string
  exitCode: number
}

/** The line to print and the exit code for `err`; `null` for an unexpected error (a bug). */
export function failureOf(err: unknown): Failure | null {
  if (err instanceof UsageError || err instanceof ConfigError) return { message: err.message, exitCode: 2 }
  if (err instanceof OperationalError) return { message: err.message, exitCode: 1 }
  if (err instanceof BitacoraError || err instanceof CodecError) return { message: err.message, exitCode: 1 }
  if (err instanceof ClientError) {
    const cause = err.cause instanceof Error && !err.message.includes(err.cause.message) ? `: ${err.cause.message}` : ''
    return { message: `${err.message}${cause}`, exitCode: 1 }
  }
  return null
}
