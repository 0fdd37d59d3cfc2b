// The broker's listener: one HTTP server carrying the WebSocket endpoint (`/`), a health
// endpoint (`/health`) and, later, the console. The WebSocket upgrade is refused with 403 for
// page origins not on the allow-list and 503 past the connection limit.
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer } from 'ws'
import type { BrokerContext } from './handlers/context.js'
import type { Logger } from './log.js'
import { isOriginAllowed } from './origin.js'
import { Session } from './session.js'

export interface Listener {
  readonly server: Server
  readonly port: number
  close(): Promise<void>
}

export async function listen(ctx: Omit<BrokerContext, 'url'>, log: Logger, onUrl: (url: string) => void): Promise<Listener> {
  const { limits } = ctx.config
  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.frameBytesMax, perMessageDeflate: false })
  let selfOrigins: string[] = []
  let sessionCtx: BrokerContext | null = null

  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ status: 'ok', brokerId: ctx.config.brokerId, clusterId: ctx.clusterId, connections: wss.clients.size }))
      return
    }
    res.writeHead(404, { 'content-type': 'text/plain' })
    res.end('not found: the WebSocket endpoint is ws://HOST:PORT/ and health is /health\n')
  })

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refuse = (status: number, reason: string) => {
      log.warn('websocket refused', { status, reason, origin: req.headers.origin, remote: req.socket.remoteAddress })
      socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n${reason}\n`)
    }
    const origin = req.headers.origin
    if (!isOriginAllowed(origin, ctx.config.allowedOrigins, selfOrigins, ctx.config.allowLocalhostOrigins)) {
      return refuse(403, `Forbidden: origin ${origin} is not allowed (add it with --allow-origin)`)
    }
    if (wss.clients.size >= limits.connectionsMax) {
      return refuse(503, `Service Unavailable: the broker has its maximum of ${limits.connectionsMax} connections`)
    }
    wss.handleUpgrade(req, socket, head, (ws) => new Session(ws, sessionCtx!, log))
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(ctx.config.port, ctx.config.host, () => resolve())
  })
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : ctx.config.port
  const host = ctx.config.host.includes(':') ? `[${ctx.config.host}]` : ctx.config.host
  const url = `ws://${host}:${port}/`
  selfOrigins = [`http://${host}:${port}`]
  sessionCtx = { ...ctx, url }
  onUrl(url)

  return {
    server,
    port,
    close: async () => {
      for (const ws of wss.clients) ws.terminate()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      wss.close()
    },
  }
}
