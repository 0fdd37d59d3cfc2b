// The built `bitacora` CLI run as a user runs it: a child process whose BITACORA_* settings come
// only from what the test passes (never from the caller's shell), bounded by a timeout, with its
// exit status and output. Shared by the CLI's integration tests.
import type { Test } from 'tap'
import { spawn } from 'node:child_process'
import { createServer, type AddressInfo } from 'node:net'

export const BIN = new URL('../../dist/cli/main.js', import.meta.url).pathname

export interface CliRun {
  status: number | null
  stdout: string
  /** stdout as bytes (not decoded). */
  bytes: Buffer
  stderr: string
  ms: number
}

export interface CliOptions {
  readonly env?: Record<string, string>
  readonly input?: string | Uint8Array
  /** The child is killed past this (a hung command fails the test instead of hanging it). */
  readonly timeoutMs?: number
}

export function runCli(args: readonly string[], o: CliOptions = {}): Promise<CliRun> {
  const { BITACORA_BROKERS: _, BITACORA_CLIENT_CONFIG: _c, BITACORA_PROFILE: _p, ...inherited } = process.env
  const started = Date.now()
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...inherited, ...o.env }, stdio: ['pipe', 'pipe', 'pipe'] })
  const out: Buffer[] = []
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => out.push(d))
  child.stderr.on('data', (d) => (stderr += d))
  child.stdin.on('error', () => {}) // a command that fails early stops reading
  child.stdin.end(o.input ?? '')
  const guard = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 30_000)
  return new Promise((resolve) => child.once('close', (status) => {
    clearTimeout(guard)
    const bytes = Buffer.concat(out)
    resolve({ status, stdout: bytes.toString(), bytes, stderr, ms: Date.now() - started })
  }))
}

/** The expected exit code and one line on stderr, prefixed `bitacora: `, matching `pattern` (no stack trace). */
export function failsWith(t: Test, r: CliRun, code: number, pattern: RegExp): void {
  t.equal(r.status, code, `exit code ${code}`)
  const lines = r.stderr.trimEnd().split('\n')
  t.equal(lines.length, 1, `one line on stderr: ${r.stderr}`)
  t.match(lines[0], /^bitacora: /)
  t.match(lines[0], pattern)
}

/** A free loopback port (listened on, then closed). */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}
