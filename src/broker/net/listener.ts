// The broker's listener: one HTTP server carrying the WebSocket endpoint (`/`), the browser
// client (`/bitacora.js`, bundle.ts) and a health endpoint (`/health`). It listens before the broker opens anything, so a taken port fails the
// start at once; until `serve` is called, upgrades are refused with 503 "starting".
//
// Every TCP connection is admitted or refused on arrival (admission.ts) and must finish the
// protocol handshake within handshakeTimeoutMs; a connection with no request for idleTimeoutMs
// is closed. Upgrades are refused with 403 for page origins not on the allow-list. Refusals
// are logged rate-limited (refusal-log.ts).
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { WebSocketServer } from 'ws'
import { SWEEP_INTERVAL_MS_MAX, type BrokerLimits } from '../limits.js'
import type { Logger } from '../log.js'
import { startupError } from '../startup-error.js'
import { ConnectionAdmission } from './admission.js'
import { BUNDLE_PATHS, bundleFile } from './bundle.js'
import { isOriginAllowed } from './origin.js'
import { RefusalLog } from './refusal-log.js'
import { Session, type SessionOptions } from './session.js'

export interface ListenOptions {
  readonly host: string
  /** 0 picks a free port. */
  readonly port: number
  readonly allowedOrigins: readonly string[]
  readonly allowLocalhostOrigins: boolean
  /** Whether connectionsPerIpMax also applies to loopback addresses. */
  readonly limitLoopbackConnections: boolean
  readonly limits: BrokerLimits
  /** The body of GET /health. */
  readonly health: () => Record<string, unknown>
}

export interface Listener {
  readonly port: number
  /** ws://host:port/ */
  readonly url: string
  /** Starts taking WebSocket connections. */
  serve(options: SessionOptions): void
  /** Closes every connection and stops listening. */
  close(): Promise<void>
}

/** One accepted TCP connection, from arrival to close. */
interface Accepted {
  readonly ip: string
  readonly acceptedAt: number
  /** Why the connection is refused (answered once its upgrade request arrives), or null. */
  readonly refusal: string | null
  session: Session | null
}

export async function listen(o: ListenOptions, log: Logger): Promise<Listener> {
  const { limits } = o
  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.frameBytesMax, perMessageDeflate: false })
  const admission = new ConnectionAdmission({ ...limits, limitLoopbackConnections: o.limitLoopbackConnections })
  const refusals = new RefusalLog(log)
  const accepted = new Map<Socket, Accepted>()
  let sessionOptions: SessionOptions | null = null

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (req.method === 'GET' && path === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ status: sessionOptions ? 'ok' : 'starting', ...o.health(), connections: admission.connections }))
      return
    }
    const bundled = BUNDLE_PATHS[path]
    if (req.method === 'GET' && bundled !== undefined) {
      // A page may load the client only from an origin that may also connect.
      const origin = req.headers.origin
      const cors: Record<string, string> = origin !== undefined && allowed(origin) ? { 'access-control-allow-origin': origin, vary: 'origin' } : {}
      void bundleFile(bundled.file).then((bytes) => {
        if (bytes === null) {
          res.writeHead(404, { 'content-type': 'text/plain' })
          res.end('the browser bundle is not built: run npm run build\n')
          return
        }
        res.writeHead(200, { 'content-type': bundled.type, 'cache-control': 'no-cache', ...cors })
        res.end(bytes)
      })
      return
    }
    res.writeHead(404, { 'content-type': 'text/plain' })
    res.end('not found: the WebSocket endpoint is ws://HOST:PORT/, the browser client /bitacora.js, health /health\n')
  })
  const allowed = (origin: string | undefined) => isOriginAllowed(origin, o.allowedOrigins, selfOrigins, o.allowLocalhostOrigins)

  // A refused connection is answered 503 with the reason once its upgrade request arrives (a
  // response sent before the request could be lost to a reset); at most connectionsMax wait so.
  let refusedWaiting = 0
  server.on('connection', (socket: Socket) => {
    const ip = socket.remoteAddress ?? 'unknown'
    const admitted = admission.admit(ip)
    if (!admitted.admitted) {
      refusals.refused('limit', { reason: admitted.reason, remote: ip })
      if (refusedWaiting >= limits.connectionsMax) return void socket.destroy()
      refusedWaiting++
      accepted.set(socket, { ip, acceptedAt: Date.now(), refusal: admitted.reason, session: null })
      socket.once('close', () => {
        accepted.delete(socket)
        refusedWaiting--
      })
      return
    }
    accepted.set(socket, { ip, acceptedAt: Date.now(), refusal: null, session: null })
    socket.once('close', () => {
      accepted.delete(socket)
      admission.release(ip)
    })
  })

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const conn = accepted.get(req.socket)
    if (conn === undefined) return void socket.destroy()
    if (conn.refusal !== null) return void socket.end(httpRefusal(503, conn.refusal))
    const refuse = (status: number, reason: string, kind: string) => {
      refusals.refused(kind, { status, reason, origin: req.headers.origin, remote: conn.ip })
      socket.end(httpRefusal(status, reason))
    }
    if (sessionOptions === null) return refuse(503, 'the broker is starting; retry shortly', 'starting')
    const origin = req.headers.origin
    if (!allowed(origin)) {
      return refuse(403, `origin ${origin} is not allowed (start the broker with --allow-origin ${origin})`, 'origin')
    }
    const options = sessionOptions
    const upgrade = { origin, remote: conn.ip, refusals }
    wss.handleUpgrade(req, socket, head, (ws) => (conn.session = new Session(ws, options, log, upgrade)))
  })

  const sweepMs = Math.max(10, Math.min(SWEEP_INTERVAL_MS_MAX, Math.floor(Math.min(limits.handshakeTimeoutMs, limits.idleTimeoutMs) / 4)))
  const sweeper = setInterval(() => sweep(accepted, limits, Date.now()), sweepMs).unref()

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(o.port, o.host, () => {
        server.off('error', reject)
        resolve()
      })
    })
  } catch (err) {
    clearInterval(sweeper)
    throw startupError(`cannot listen on ${o.host}:${o.port}`, err)
  }
  server.on('error', (err) => log.error('listener error', { error: err.message }))
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : o.port
  const host = o.host.includes(':') ? `[${o.host}]` : o.host
  const selfOrigins = [`http://${host}:${port}`]

  return {
    port,
    url: `ws://${host}:${port}/`,
    serve: (options) => void (sessionOptions = options),
    close: async () => {
      clearInterval(sweeper)
      refusals.flush()
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      for (const socket of accepted.keys()) socket.destroy()
      await closed
      wss.close()
    },
  }
}

/** Closes connections past their handshake deadline, and idle sessions. */
function sweep(accepted: ReadonlyMap<Socket, Accepted>, limits: BrokerLimits, now: number): void {
  for (const [socket, conn] of accepted) {
    const session = conn.session
    if (session === null || !session.handshaken) {
      if (now - conn.acceptedAt < limits.handshakeTimeoutMs) continue
      if (session === null) socket.destroy()
      else session.close(1008, `no handshake within ${limits.handshakeTimeoutMs} ms (--handshake-timeout-ms)`)
    } else {
      const idleSince = session.idleSince
      if (idleSince !== null && now - idleSince >= limits.idleTimeoutMs) {
        session.close(1000, `idle for ${limits.idleTimeoutMs} ms (--idle-timeout-ms); reconnect to continue`)
      }
    }
  }
}

function httpRefusal(status: number, reason: string): string {
  const text = status === 403 ? 'Forbidden' : 'Service Unavailable'
  return `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(reason) + 1}\r\n\r\n${reason}\n`
}
