// The client's errors. Broker errors arrive as wire codes and become `BitacoraError` (its
// `retriable` flag comes from the one error table in src/protocol/errors.ts); failures that
// happen on this side of the socket are `ClientError`s with a stable `code`. Retry logic reads
// only `retriable`, from either kind.
import { BitacoraError, ErrorCode, type bitacora } from '../protocol/index.js'

export { BitacoraError }

export type ClientErrorCode =
  | 'CONNECTION_FAILED' // could not open the WebSocket or complete the handshake (down, stalled, at its connection limit)
  | 'CONNECTION_REFUSED' // the broker refused the WebSocket (HTTP 4xx: origin not allowed), or a browser's first connection failed
  | 'CONNECTION_CLOSED' // the connection closed while the request was in flight
  | 'REQUEST_TIMEOUT' // no response within the request timeout
  | 'REQUEST_QUEUE_FULL' // too many requests waiting on one connection
  | 'REQUEST_TOO_LARGE' // the request frame is over the broker's max_frame_bytes
  | 'PROTOCOL_ERROR' // the broker sent something the client cannot understand
  | 'HANDSHAKE_FAILED' // the broker refused the handshake (version, credentials)
  | 'NO_BROKER_AVAILABLE' // no broker could be reached (in time); the cause says why
  | 'BUFFER_FULL' // the producer buffer stayed full for maxBlockMs, or too many sends wait
  | 'RECORD_TOO_LARGE' // one record does not fit in a request or in the producer buffer
  | 'DELIVERY_TIMEOUT' // not acknowledged within deliveryTimeoutMs, retries included; the cause says why
  | 'TOPIC_NOT_AVAILABLE' // no usable metadata for the topic within maxBlockMs
  | 'INVALID_ARGUMENT'
  | 'CLIENT_CLOSED'

const RETRIABLE: Record<ClientErrorCode, boolean> = {
  CONNECTION_FAILED: true,
  CONNECTION_REFUSED: false, // a configuration matter (allow the page's origin): retrying cannot help
  CONNECTION_CLOSED: true,
  REQUEST_TIMEOUT: true,
  REQUEST_QUEUE_FULL: true,
  REQUEST_TOO_LARGE: false,
  PROTOCOL_ERROR: true, // the connection is dropped; a new one may well work
  HANDSHAKE_FAILED: false,
  NO_BROKER_AVAILABLE: true,
  BUFFER_FULL: false,
  RECORD_TOO_LARGE: false,
  // As Kafka's TimeoutException: sending again may well succeed (and may duplicate the record,
  // which the broker may have written before the answer was lost).
  DELIVERY_TIMEOUT: true,
  TOPIC_NOT_AVAILABLE: false,
  INVALID_ARGUMENT: false,
  CLIENT_CLOSED: false,
}

export class ClientError extends Error {
  override name = 'ClientError'
  readonly retriable: boolean
  constructor(
    readonly code: ClientErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
    this.retriable = RETRIABLE[code]
  }
}

/** True for errors worth retrying (after a back-off): read from the error, never guessed. */
export function isRetriableError(err: unknown): boolean {
  return (err instanceof BitacoraError || err instanceof ClientError) && err.retriable
}

/** The BitacoraError for a wire error, or null for none (absent, or code NONE). */
export function errorFromWire(wire: bitacora.IError | null | undefined, context?: string): BitacoraError | null {
  if (wire == null || !wire.code) return null
  const message = wire.message ? (context ? `${context}: ${wire.message}` : wire.message) : undefined
  return new BitacoraError(wire.code, message)
}

export function isErrorCode(err: unknown, code: keyof typeof ErrorCode): boolean {
  return err instanceof BitacoraError && err.code === code
}

/** True for failures to reach a broker at all (as opposed to a broker's answer). */
export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof ClientError)) return false
  return err.code === 'CONNECTION_FAILED' || err.code === 'CONNECTION_CLOSED' || err.code === 'NO_BROKER_AVAILABLE' || err.code === 'CONNECTION_REFUSED'
}
