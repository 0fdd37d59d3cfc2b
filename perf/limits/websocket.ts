// This machine's WebSocket limits over loopback, measured in the run with `ws` (and bufferutil,
// as the client uses it) between this process and a child process: bandwidth each way with
// 64 KiB frames, and messages/s each way with small (100-byte) frames. Client-to-server frames
// are masked, as a producer's are. Each measurement runs for `seconds`, and records the CPU
// time each end spent per MiB (user + system, process.cpuUsage): what moving the bytes costs a
// client and a broker that share this machine's cores (perf/report/bounds.ts).
import { createRequire } from 'node:module'
import WebSocket from 'ws'
import { startChild, waitFor } from '../processes.js'
import { cpuMsSince } from './cpu.js'

const SERVER = new URL('./ws-server.ts', import.meta.url).pathname
const WINDOW_BYTES = 32 * 1024 * 1024

export interface WsDirection {
  MiBps: number
  messagesPerSec: number
  /** CPU ms per MiB moved, of the sending and of the receiving process (absent in results from before 2026-12-02). */
  senderCpuMsPerMiB?: number
  receiverCpuMsPerMiB?: number
}

export interface WebSocketLimits {
  bufferutil: boolean
  /** 64 KiB frames. */
  bandwidthClientToServer: WsDirection
  bandwidthServerToClient: WsDirection
  /** 100-byte frames. */
  smallClientToServer: WsDirection
  smallServerToClient: WsDirection
}

async function clientToServer(ws: WebSocket, next: () => Promise<string>, size: number, seconds: number): Promise<WsDirection> {
  ws.send('count')
  const cpu = process.cpuUsage()
  const frame = Buffer.alloc(size, 2)
  const maxOutstanding = Math.max(16, Math.floor(WINDOW_BYTES / size))
  let outstanding = 0
  let wake: (() => void) | null = null
  const start = performance.now()
  const until = start + seconds * 1000
  while (performance.now() < until) {
    while (outstanding >= maxOutstanding) await new Promise<void>((r) => (wake = r))
    outstanding++
    ws.send(frame, { binary: true }, () => {
      outstanding--
      if (wake && outstanding <= maxOutstanding >> 1) {
        const w = wake
        wake = null
        w()
      }
    })
    if (outstanding % 64 === 0) await new Promise((r) => setImmediate(r))
  }
  ws.send('report')
  const report = JSON.parse(await next()) as { bytes: number; messages: number; cpuMs: number }
  const elapsed = (performance.now() - start) / 1000
  const mib = report.bytes / 1048576
  return { MiBps: mib / elapsed, messagesPerSec: report.messages / elapsed, senderCpuMsPerMiB: cpuMsSince(cpu) / mib, receiverCpuMsPerMiB: report.cpuMs / mib }
}

async function serverToClient(ws: WebSocket, counter: { bytes: number; messages: number }, next: () => Promise<string>, size: number, seconds: number): Promise<WsDirection> {
  counter.bytes = 0
  counter.messages = 0
  const start = performance.now()
  const cpu = process.cpuUsage()
  ws.send(`send ${size} ${seconds}`)
  const end = JSON.parse(await next()) as { cpuMs: number }
  const elapsed = (performance.now() - start) / 1000
  const mib = counter.bytes / 1048576
  return { MiBps: mib / elapsed, messagesPerSec: counter.messages / elapsed, senderCpuMsPerMiB: end.cpuMs / mib, receiverCpuMsPerMiB: cpuMsSince(cpu) / mib }
}

export async function measureWebSocket(seconds: number): Promise<WebSocketLimits> {
  let bufferutil = false
  try {
    createRequire(import.meta.url)('bufferutil')
    bufferutil = true
  } catch {}
  const child = startChild(process.execPath, ['--import', 'tsx', SERVER])
  try {
    await waitFor(child, 'ws limit server', (out) => /listening on ws:\/\/\S+/.test(out))
    const url = /listening on (ws:\/\/\S+)/.exec(child.output())![1]
    const ws = new WebSocket(url, { perMessageDeflate: false })
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve())
      ws.once('error', reject)
    })
    const counter = { bytes: 0, messages: 0 }
    const texts: string[] = []
    let waiting: ((s: string) => void) | null = null
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        counter.bytes += (data as Buffer).length
        counter.messages++
        return
      }
      const s = data.toString()
      if (waiting) {
        const w = waiting
        waiting = null
        w(s)
      } else texts.push(s)
    })
    const next = () => (texts.length > 0 ? Promise.resolve(texts.shift()!) : new Promise<string>((r) => (waiting = r)))
    const big = 64 * 1024
    // Warm-up each way: JIT and socket buffers (their CPU would otherwise count in the costs).
    await clientToServer(ws, next, big, Math.min(0.5, seconds))
    await serverToClient(ws, counter, next, big, Math.min(0.5, seconds))
    const result: WebSocketLimits = {
      bufferutil,
      bandwidthClientToServer: await clientToServer(ws, next, big, seconds),
      bandwidthServerToClient: await serverToClient(ws, counter, next, big, seconds),
      smallClientToServer: await clientToServer(ws, next, 100, seconds),
      smallServerToClient: await serverToClient(ws, counter, next, 100, seconds),
    }
    ws.close()
    return result
  } finally {
    await child.stop()
  }
}
