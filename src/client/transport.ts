// The one thing the core needs from a platform: something shaped like the browser's
// WebSocket. The browser entry passes the global WebSocket, the Node entry `ws`; tests and
// other runtimes may pass their own. Only binary messages are used, one frame per message.

/** readyState values, as in the WHATWG WebSocket. */
export const WS_OPEN = 1

export interface WebSocketMessageLike {
  /** ArrayBuffer (browsers, binaryType 'arraybuffer') or a Uint8Array view (ws 'nodebuffer'). */
  data: unknown
}

export interface WebSocketCloseLike {
  code: number
  reason: string
}

/** The subset of the WHATWG WebSocket the client uses. */
export interface WebSocketLike {
  readonly readyState: number
  readonly bufferedAmount: number
  /**
   * Queues one binary message. Must take the bytes (copy or write them) before returning: the
   * caller reuses the buffer for its next frame (ws masks them into a buffer of its own;
   * browsers queue a copy).
   */
  send(data: Uint8Array): void
  /**
   * Closes the socket in any state, connecting included. A socket that reports errors as
   * events nobody may leave unheard (Node's EventEmitter) must hear them itself for its whole
   * life: the client drops its handlers when it closes a socket.
   */
  close(code?: number, reason?: string): void
  /** Drops the connection at once, without a closing handshake (ws has it; browsers do not). */
  terminate?(): void
  onopen: ((event: unknown) => void) | null
  onmessage: ((event: WebSocketMessageLike) => void) | null
  /** The event may carry why (`error`, see failureOf); browsers never say. */
  onerror: ((event: unknown) => void) | null
  onclose: ((event: WebSocketCloseLike) => void) | null
}

/**
 * Why a socket failed, when its error event says: `event.error` (ws's ErrorEvent), an Error
 * whose `status`, if any, is the HTTP status with which the server refused the upgrade.
 * Undefined when the event says nothing (browsers, by design).
 */
export function failureOf(event: unknown): (Error & { status?: number }) | undefined {
  const error = (event as { error?: unknown } | null)?.error
  return error instanceof Error ? error : undefined
}

/** Opens a WebSocket to `url`, configured to deliver binary messages as bytes. */
export type WebSocketFactory = (url: string, options: { maxPayloadBytes: number }) => WebSocketLike

/** The bytes of a binary message, without copying; null for text or Blob messages. */
export function messageBytes(data: unknown): Uint8Array | null {
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  return null
}
