// Frame encoding: one WebSocket binary message is one Request or Response. Decoding checks
// the size first and turns any protobuf failure into a typed FrameError, so a malformed frame
// costs one error response, never a crash.
import { bitacora } from './pb.js'
import { ErrorCode } from './errors.js'
import { writeFetchResponse } from './frame-writer.js'

export type Request = bitacora.Request
export type Response = bitacora.Response
export type RequestProps = bitacora.Request.$Properties
export type ResponseProps = bitacora.Response.$Properties
/** Every API a Request may carry. */
export type RequestApiName = NonNullable<bitacora.Request['api']>
/** The APIs answered by a Response of the same name: all but the one-way `raft` between brokers. */
export type ApiName = RequestApiName & keyof bitacora.Response

export class FrameError extends Error {
  override name = 'FrameError'
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

function checkSize(bytes: Uint8Array, maxBytes: number, what: string): void {
  if (bytes.length > maxBytes) {
    throw new FrameError(ErrorCode.FRAME_TOO_LARGE, `${what} frame is ${bytes.length} bytes, over the ${maxBytes}-byte limit`)
  }
}

export function encodeRequest(request: RequestProps): Uint8Array {
  return bitacora.Request.encode(request).finish()
}

/** Encodes a response frame; `lastRecordsHaveHeadroom` as writeFetchResponse. */
export function encodeResponse(response: ResponseProps, options: { lastRecordsHaveHeadroom?: boolean } = {}): Uint8Array {
  // Fetch responses are mostly stored batches: the hand-written writer copies them at most once.
  if (response.fetch != null && response.error == null) return writeFetchResponse(response.correlationId ?? 0, response.fetch, options)
  return bitacora.Response.encode(response).finish()
}

/** Decodes a request frame. `bytes` fields of the result are views into `bytes`. */
export function decodeRequest(bytes: Uint8Array, maxBytes: number): Request {
  checkSize(bytes, maxBytes, 'request')
  let request: Request
  try {
    request = bitacora.Request.decode(bytes)
  } catch (err) {
    throw new FrameError(ErrorCode.MALFORMED_FRAME, `request frame is not valid protobuf: ${(err as Error).message}`, { cause: err })
  }
  if (request.api === undefined) {
    throw new FrameError(ErrorCode.INVALID_REQUEST, 'request names no API (or one this broker does not know)')
  }
  return request
}

export function decodeResponse(bytes: Uint8Array, maxBytes: number): Response {
  checkSize(bytes, maxBytes, 'response')
  try {
    return bitacora.Response.decode(bytes)
  } catch (err) {
    throw new FrameError(ErrorCode.MALFORMED_FRAME, `response frame is not valid protobuf: ${(err as Error).message}`, { cause: err })
  }
}
