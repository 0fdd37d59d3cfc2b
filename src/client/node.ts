// Node entry point: the client over `ws` (with `bufferutil`, when installed, masking frames
// natively: about 3x the throughput of masking in JavaScript on this project's machine).
import { randomFillSync } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import WebSocket from 'ws'
import { createClient as createCore, type ClientOptions } from './client.js'
import { CLIENT_VERSION, REFUSAL_BODY_BYTES_MAX } from './limits.js'
import type { WebSocketFactory, WebSocketLike } from './transport.js'

export * from './index.js'

/**
 * Masking keys as ws makes them (random), never all zero: ws does not copy a frame it would
 * mask with a zero key but writes the caller's buffer as it is, and the connection reuses that
 * buffer for its next frame (WebSocketLike.send must take the bytes before returning).
 */
export function generateMask(mask: Uint8Array, fill: (b: Uint8Array, offset: number, size: number) => void = randomFillSync): void {
  fill(mask, 0, 4)
  if ((mask[0] | mask[1] | mask[2] | mask[3]) === 0) mask[0] = 1
}

/** Opens a `ws` WebSocket delivering binary messages as Uint8Array views (no copy). */
export const nodeWebSocketFactory: WebSocketFactory = (url, { maxPayloadBytes }) => {
  const socket = new WebSocket(url, { maxPayload: maxPayloadBytes, perMessageDeflate: false, generateMask })
  socket.binaryType = 'nodebuffer' // a Buffer is a Uint8Array; the core uses it only as one
  // An 'error' event nobody listens to kills the process, and ws emits them after the client
  // has let go of a socket (closing one still connecting emits one). The client's onerror
  // comes and goes; this listener stays for the socket's whole life.
  socket.on('error', ignore)
  socket.on('unexpected-response', (_request: unknown, response: IncomingMessage) => reportRefusal(socket, response))
  // ws's handler types name its own event classes; the shapes the core uses are the same.
  return socket as unknown as WebSocketLike
}

function ignore(): void {}

/**
 * The server answered the upgrade with a plain HTTP response (a broker: 403 origin not allowed,
 * 503 at its connection limit). Reads the start of its body, the broker's reason, and fails the
 * socket with an error saying it (with `status`, see failureOf), where ws would say only
 * "Unexpected server response". The connect timeout bounds the read.
 */
function reportRefusal(socket: WebSocket, response: IncomingMessage): void {
  const chunks: Buffer[] = []
  let bytes = 0
  let reported = false
  const report = () => {
    if (reported) return
    reported = true
    response.destroy()
    if (socket.readyState !== WebSocket.CONNECTING) return // the client gave up meanwhile
    const body = Buffer.concat(chunks).subarray(0, REFUSAL_BODY_BYTES_MAX).toString('utf8').trim()
    const status = response.statusCode ?? 0
    socket.emit('error', Object.assign(new Error(`HTTP ${status}: ${body || response.statusMessage || 'no reason given'}`), { status }))
    socket.terminate()
  }
  response.on('data', (chunk: Buffer) => {
    chunks.push(chunk)
    bytes += chunk.length
    if (bytes >= REFUSAL_BODY_BYTES_MAX) report()
  })
  response.on('end', report)
  response.on('close', report)
  response.on('error', report)
}

export type NodeClientOptions = Omit<ClientOptions, 'webSocketFactory'> & { webSocketFactory?: WebSocketFactory }

export function createClient(options: NodeClientOptions) {
  return createCore({
    clientSoftware: `bitacora-js/${CLIENT_VERSION} (node ${globalThis.process?.version ?? ''})`,
    ...options,
    webSocketFactory: options.webSocketFactory ?? nodeWebSocketFactory,
  })
}
