// Starts a real broker process (the built CLI) on a free loopback port and talks the raw
// protocol to it. Every broker started here is stopped by the test's teardown.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import WebSocket from 'ws'
import { NODE_FLAGS } from '../../src/cli/node-flags.js'
import { decodeResponse, encodeRequest, type RequestProps, type Response } from '../../src/protocol/index.js'

const BIN = new URL('../../dist/cli/main.js', import.meta.url).pathname
const START_TIMEOUT_MS = 15_000

export interface BrokerProcess {
  url: string
  dataDir: string
  child: ChildProcess
  /** SIGTERM and wait (clean stop), or SIGKILL and wait (crash). */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>
  stderr(): string
}

interface Teardown {
  teardown(fn: () => unknown): void
}

export function tempDataDir(t: Teardown): string {
  const dir = mkdtempSync(join(tmpdir(), 'bitacora-test-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

export async function startBroker(t: Teardown, options: { dataDir?: string; args?: string[] } = {}): Promise<BrokerProcess> {
  const dataDir = options.dataDir ?? tempDataDir(t)
  const child = spawn(process.execPath, [...NODE_FLAGS, BIN, 'broker', '--port', '0', '--data-dir', dataDir, ...(options.args ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr!.on('data', (d) => (stderr += d))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const stop = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    await exited
  }
  t.teardown(() => stop('SIGKILL'))
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`broker did not start in ${START_TIMEOUT_MS} ms: ${stderr}`)), START_TIMEOUT_MS)
    let out = ''
    child.stdout!.on('data', (d) => {
      out += d
      const m = /listening on (ws:\/\/\S+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(m[1])
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`broker exited with ${code} before listening: ${stderr}`))
    })
  })
  return { url, dataDir, child, stop, stderr: () => stderr }
}

export interface RawClient {
  ws: WebSocket
  call(body: Omit<RequestProps, 'correlationId'>): Promise<Response>
  /** Resolves with the close code and reason. */
  closed: Promise<{ code: number; reason: string }>
  close(): void
}

/** A raw protocol connection (handshaken unless `handshake: false`). */
export async function connect(url: string, options: { handshake?: boolean; origin?: string } = {}): Promise<RawClient> {
  const ws = new WebSocket(url, options.origin ? { origin: options.origin } : {})
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  )
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  let nextId = 1
  const pending = new Map<number, (r: Response) => void>()
  ws.on('message', (data) => {
    const r = decodeResponse(data as Buffer, 1 << 30)
    pending.get(r.correlationId)?.(r)
    pending.delete(r.correlationId)
  })
  const client: RawClient = {
    ws,
    closed,
    call: (body) =>
      new Promise((resolve) => {
        const correlationId = nextId++
        pending.set(correlationId, resolve)
        ws.send(encodeRequest({ correlationId, ...body }))
      }),
    close: () => ws.close(),
  }
  if (options.handshake !== false) await client.call({ handshake: { protocolVersion: 1, clientId: 'test' } })
  return client
}
