// Browser entry point: the client over the page's global WebSocket. Bundled, with the WASM
// codec inside, as dist/browser/bitacora.js by scripts/bundle-browser.mjs.
import { createClient as createCore, type ClientOptions } from './client.js'
import type { GroupPlatform } from './group-member.js'
import { workerClock } from './heartbeat-clock.js'
import { BROWSER_SESSION_TIMEOUT_MS_DEFAULT, CLIENT_VERSION } from './limits.js'
import type { WebSocketFactory, WebSocketLike } from './transport.js'

export * from './index.js'

/** Opens a global WebSocket delivering binary messages as ArrayBuffers (browsers' default is Blob). */
export const browserWebSocketFactory: WebSocketFactory = (url) => {
  const socket = new WebSocket(url)
  socket.binaryType = 'arraybuffer'
  // The DOM's handler types name DOM event classes; the shapes the core uses are the same.
  return socket as unknown as WebSocketLike
}

/** Group members in a page: heartbeats timed by a Worker, and a session that outlasts a throttled minute. */
export const browserGroupPlatform: GroupPlatform = { sessionTimeoutMsDefault: BROWSER_SESSION_TIMEOUT_MS_DEFAULT, clock: () => workerClock() }

export type BrowserClientOptions = Omit<ClientOptions, 'webSocketFactory'> & { webSocketFactory?: WebSocketFactory }

export function createClient(options: BrowserClientOptions) {
  return createCore({
    clientSoftware: `bitacora-js/${CLIENT_VERSION} (browser)`,
    ...options,
    webSocketFactory: options.webSocketFactory ?? browserWebSocketFactory,
  }, browserGroupPlatform)
}
