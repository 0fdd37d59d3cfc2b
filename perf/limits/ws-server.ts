// The far end of the WebSocket limit measurement, in its own process like a broker: counts what
// it receives, or sends frames as fast as the socket takes them. Prints its URL when listening.
//   text "count"              reset the counters
//   text "report"             answer {"bytes":N,"messages":N,"cpuMs":N} (received, and CPU
//                             time spent, since "count")
//   text "send SIZE SECONDS"  send SIZE-byte frames for SECONDS, then {"cpuMs":N}: this
//                             process's CPU time from the start until the last frame was queued
import { WebSocketServer, type WebSocket } from 'ws'
import { cpuMsSince } from './cpu.js'

const WINDOW_BYTES = 8 * 1024 * 1024

function sendFor(ws: WebSocket, size: number, seconds: number): void {
  const frame = Buffer.alloc(size, 1)
  const until = performance.now() + seconds * 1000
  let outstanding = 0
  const maxOutstanding = Math.max(16, Math.floor(WINDOW_BYTES / Math.max(1, size)))
  const cpu = process.cpuUsage()
  let done = false
  const pump = () => {
    while (!done && outstanding < maxOutstanding) {
      if (performance.now() >= until) {
        done = true
        ws.send(JSON.stringify({ cpuMs: cpuMsSince(cpu) }))
        return
      }
      outstanding++
      ws.send(frame, { binary: true }, () => {
        outstanding--
        if (outstanding === maxOutstanding >> 1) setImmediate(pump)
      })
    }
  }
  pump()
}

const server = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 16 * 1024 * 1024 })
server.on('listening', () => {
  const address = server.address()
  if (typeof address === 'object' && address !== null) console.log(`ws-limit listening on ws://127.0.0.1:${address.port}/`)
})
server.on('connection', (ws) => {
  let bytes = 0
  let messages = 0
  let cpu = process.cpuUsage()
  ws.on('message', (data, isBinary) => {
    if (isBinary) {
      bytes += (data as Buffer).length
      messages++
      return
    }
    const [cmd, a, b] = data.toString().split(' ')
    if (cmd === 'count') {
      bytes = 0
      messages = 0
      cpu = process.cpuUsage()
    } else if (cmd === 'report') {
      ws.send(JSON.stringify({ bytes, messages, cpuMs: cpuMsSince(cpu) }))
    } else if (cmd === 'send') {
      sendFor(ws, Number(a), Number(b))
    }
  })
})
process.once('SIGTERM', () => server.close(() => process.exit(0)))
