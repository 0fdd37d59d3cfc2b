// Every child process and temporary directory the perf run makes is registered here and
// removed at the end, on failure, and on SIGINT/SIGTERM (children get SIGTERM, then SIGKILL
// after a grace period). Children are started on loopback only by their callers.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const children = new Set<ChildProcess>()
const dirs = new Set<string>()
const GRACE_MS = 5_000

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `bitacora-perf-${prefix}-`))
  dirs.add(dir)
  return dir
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
  dirs.delete(dir)
}

/** A port that was free a moment ago on 127.0.0.1 (for servers that cannot take port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

export interface Child {
  process: ChildProcess
  /** Everything written on stdout and stderr so far (last 64 KiB). */
  output(): string
  exited: Promise<number | null>
  /** SIGTERM, then SIGKILL after the grace period; resolves once it exited. */
  stop(): Promise<void>
}

export function startChild(command: string, args: string[], options: SpawnOptions & { echo?: (line: string) => void } = {}): Child {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options })
  children.add(child)
  let out = ''
  let partial = ''
  const onData = (d: Buffer) => {
    const s = d.toString()
    out = (out + s).slice(-65536)
    if (options.echo) {
      const lines = (partial + s).split('\n')
      partial = lines.pop() ?? ''
      for (const line of lines) options.echo(line)
    }
  }
  child.stdout?.on('data', onData)
  child.stderr?.on('data', onData)
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      children.delete(child)
      resolve(code)
    })
    child.once('error', () => {
      children.delete(child)
      resolve(-1)
    })
  })
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return void (await exited)
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), GRACE_MS)
    await exited
    clearTimeout(timer)
  }
  return { process: child, output: () => out, exited, stop }
}

/** Waits until `ready(output)` holds, failing if the child exits first or `timeoutMs` passes. */
export async function waitFor(child: Child, what: string, ready: (output: string) => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!ready(child.output())) {
    if (child.process.exitCode !== null || child.process.signalCode !== null) throw new Error(`${what} exited before it was ready:\n${child.output().slice(-2000)}`)
    if (Date.now() > deadline) throw new Error(`${what} not ready after ${timeoutMs} ms:\n${child.output().slice(-2000)}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Stops every child still running and removes every temporary directory. */
export async function cleanupAll(): Promise<void> {
  await Promise.all([...children].map(async (c) => {
    if (c.exitCode !== null || c.signalCode !== null) return
    c.kill('SIGTERM')
    const timer = setTimeout(() => c.kill('SIGKILL'), GRACE_MS)
    await new Promise((r) => c.once('exit', r))
    clearTimeout(timer)
  }))
  for (const dir of [...dirs]) removeDir(dir)
}

/** Synchronous last resort when the process exits without cleanupAll() having run. */
function killAllNow(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  for (const dir of [...dirs]) rmSync(dir, { recursive: true, force: true })
}

let installed = false
/** On SIGINT/SIGTERM: clean up, then exit 130/143. On any exit: kill what is left. */
export function installCleanupHandlers(): void {
  if (installed) return
  installed = true
  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`\nperf: ${signal}, stopping every server started...`)
    cleanupAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143))
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  process.once('exit', killAllNow)
}
