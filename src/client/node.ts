// Node entry point: the client over `ws` (with `bufferutil`, when installed, masking frames
// natively: about 3x the throughput of masking in JavaScript on this project's machine).
import { randomFillSync } from 'node:crypto'
import WebSocket from 'ws'
import { createClient as createCore, type ClientOptions } from './client.js'
import { CLIENT_VERSION } from './limits.js'
import type { WebSocketFactory, WebSocketLike } from './transport.js'

export * from './index.js'

/**
 * Masking keys as ws makes them (random), never all zero: ws does not copy a frame it would
 * mask with a zero key but writes the caller's buffer as it is, and the connection reuses that
 * buffer for its next frame (WebSocketLike.send must take the bytes before returning).
 */
export function generateMask(mask: Buffer, fill: (b: Buffer, offset: number, size: number) => void = randomFillSync): void {
  fill(mask, 0, 4)
  if ((mask[0] | mask[1] | mask[2] | mask[3]) === 0) mask[0] = 1
}

/** Opens a `ws` WebSocket delivering binary messages as Uint8Array views (no copy). */
export const nodeWebSocketFactory: WebSocketFactory = (url, { maxPayloadBytes }) => {
  const socket = new WebSocket(url, { maxPayload: maxPayloadBytes, perMessageDeflate: false, generateMask })
  socket.binaryType = 'nodebuffer' // a Buffer is a Uint8Array; the core uses it only as one
  // ws's handler types name its own event classes; the shapes the core uses are the same.
  return socket as unknown as WebSocketLike
}

export type NodeClientOptions = Omit<ClientOptions, 'webSocketFactory'> & { webSocketFactory?: WebSocketFactory }

export function createClient(options: NodeClientOptions) {
  return createCore({
    clientSoftware: `bitacora-js/${CLIENT_VERSION} (node ${globalThis.process?.version ?? ''})`,
    ...options,
    webSocketFactory: options.webSocketFactory ?? nodeWebSocketFactory,
  })
}
