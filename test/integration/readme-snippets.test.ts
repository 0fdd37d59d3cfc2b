// Every code snippet in every README is run (issue 15): a README that tells a new user to type
// something must be true. Each fenced block with a language is a snippet:
//   sh    run by bash in a temp directory against a real broker process. `bitacora` stands for
//         the built CLI (what `npm link` installs); a broker the snippet starts listens on a port
//         chosen free at run time (appended --port) and clients find it through $BITACORA_BROKERS;
//         jobs left in the background are stopped when the snippet ends.
//   ts    written into a temp project that depends on this package (node_modules/bitacora is a
//         link to it) and run with tsx against a real broker; ws://127.0.0.1:9092 becomes its URL.
//   html  served from a localhost page and run in headless Chromium against a real broker.
//   json  parsed.
// Blocks without a language, or marked `text`, are diagrams and listings (an API outline, a file
// format), not something to type. A snippet too heavy to run here (a full
// benchmark, 100,000 simulator seeds) is listed in COVERED with the test that runs the same
// command in a bounded form; a new snippet that is neither runnable nor listed fails this test.
import t, { type Test } from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { chromium } from 'playwright-core'
import { startBroker } from './broker-process.js'
import { freePort } from './cli-process.js'
import { NODE_FLAGS } from '../../src/cli/node-flags.js'

t.setTimeout(300_000)

const ROOT = new URL('../../', import.meta.url).pathname
const BIN = join(ROOT, 'dist/cli/main.js')
const TSX = join(ROOT, 'node_modules/.bin/tsx')
const SNIPPET_TIMEOUT_MS = 60_000

/** Snippets run elsewhere in a bounded form, by their first line: the test that runs them. */
const COVERED: Record<string, string> = {
  'npm install && ./cluster.sh up   # install, build, start a 3-node cluster on ws://127.0.0.1:9092-9094/':
    'test/integration/cluster-sh.test.ts (./cluster.sh up 3, status, kill, stop, cont, restart, down on free ports)',
  'npm run sim -- --seeds 10000      # seeds 1..10000': 'test/sim/sim.test.ts and test/sim/shell-sim.test.ts (seeded slices of both modes)',
  'npm run sim -- --seeds 100000            # seeds 1..100000 (add --from S, --keep-going)': 'test/sim/sim.test.ts and test/sim/shell-sim.test.ts',
  'npm run perf                 # installs nats-server and redis-server, builds, runs everything (about 20 min), writes perf/results/':
    'test/integration/perf-quick.test.ts (the same suite with --quick)',
  'npm run build                                   # the tool runs the broker in dist/':
    'test/integration/chaos.test.ts (the same run, seed 42, 40 s of faults)',
}

interface Snippet {
  file: string
  line: number
  lang: string
  code: string
}

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (['node_modules', 'dist', '.git', 'results'].includes(e.name)) return []
    const path = join(dir, e.name)
    return e.isDirectory() ? markdownFiles(path) : e.name.endsWith('.md') ? [path] : []
  })
}

function snippets(): Snippet[] {
  const out: Snippet[] = []
  for (const path of markdownFiles(ROOT)) {
    const lines = readFileSync(path, 'utf8').split('\n')
    for (let i = 0; i < lines.length; i++) {
      const open = /^\s*```(\w*)\s*$/.exec(lines[i])
      if (!open) continue
      const end = lines.findIndex((l, j) => j > i && /^\s*```\s*$/.test(l))
      if (end < 0) throw new Error(`${relative(ROOT, path)}:${i + 1}: unclosed code block`)
      if (open[1] !== '' && open[1] !== 'text') out.push({ file: relative(ROOT, path), line: i + 1, lang: open[1], code: lines.slice(i + 1, end).join('\n') })
      i = end
    }
  }
  return out
}

function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; input?: string }) {
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), SNIPPET_TIMEOUT_MS)
    child.once('exit', (status) => {
      clearTimeout(timer)
      resolve({ status, stdout, stderr })
    })
    child.stdin.end(options.input ?? '')
  })
}

function tempDir(t: Test, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

const all = snippets()
t.ok(all.length >= 8, `found the snippets (${all.length})`)
for (const first of Object.keys(COVERED)) t.ok(all.some((s) => s.code.split('\n')[0] === first), `COVERED names a snippet that exists: ${first}`)

for (const s of all) {
  const name = `${s.file}:${s.line} (${s.lang})`
  const covered = COVERED[s.code.split('\n')[0]]
  if (covered !== undefined) {
    t.ok(existsSync(join(ROOT, covered.split(' ')[0])), `${name} runs in ${covered}`)
    continue
  }
  switch (s.lang) {
    case 'json':
      t.doesNotThrow(() => JSON.parse(s.code), `${name} is JSON`)
      break
    case 'sh':
      t.test(name, (t) => runShell(t, s))
      break
    case 'ts':
      t.test(name, (t) => runTypeScript(t, s))
      break
    case 'html':
      t.test(name, (t) => runPage(t, s))
      break
    default:
      t.fail(`${name}: no runner for '${s.lang}' snippets (add one, or give the block no language if it is not code)`)
  }
}

async function runShell(t: Test, s: Snippet): Promise<void> {
  const cwd = tempDir(t, 'bitacora-readme-')
  const port = await freePort()
  // `bitacora` on PATH, as `npm link` puts it there; a broker gets the free port.
  mkdirSync(join(cwd, '.bin'))
  const wrapper = join(cwd, '.bin/bitacora')
  const node = `node ${NODE_FLAGS.join(' ')} ${JSON.stringify(BIN)}` // what main.ts's shebang runs
  writeFileSync(wrapper, `#!/bin/sh\nif [ "$1" = broker ]; then exec ${node} "$@" --port ${port}; fi\nexec ${node} "$@"\n`, { mode: 0o755 })
  const prelude = [
    'set -eo pipefail',
    `PATH=${JSON.stringify(join(cwd, '.bin'))}:$PATH`,
    // Stop what the snippet left running and wait for it (a broker stops cleanly on SIGTERM),
    // keeping the snippet's own exit status.
    'trap \'status=$?; kill $(jobs -p) 2>/dev/null || true; wait; exit $status\' EXIT',
  ].join('\n')
  const r = await run('bash', ['-c', `${prelude}\n${s.code}\n`], { cwd, env: { BITACORA_BROKERS: `ws://127.0.0.1:${port}/`, npm_config_loglevel: 'error' } })
  t.equal(r.status, 0, `exit 0\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`)
  t.notMatch(r.stderr, /\n\s+at /, 'no stack trace')
}

async function runTypeScript(t: Test, s: Snippet): Promise<void> {
  const broker = await startBroker(t)
  const dir = tempDir(t, 'bitacora-readme-ts-')
  mkdirSync(join(dir, 'node_modules'))
  symlinkSync(ROOT, join(dir, 'node_modules/bitacora'))
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', dependencies: { bitacora: 'file:' + ROOT } }))
  writeFileSync(join(dir, 'snippet.ts'), s.code.replaceAll('ws://127.0.0.1:9092', broker.url.replace(/\/$/, '')))
  const r = await run(TSX, ['snippet.ts'], { cwd: dir })
  t.equal(r.status, 0, `exit 0\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`)
}

async function runPage(t: Test, s: Snippet): Promise<void> {
  const broker = await startBroker(t)
  const brokerHttp = broker.url.replace(/^ws:/, 'http:').replace(/\/$/, '')
  // The snippet loads the client from the broker and connects to it: BROKER is where it runs.
  const html = s.code.replaceAll('http://127.0.0.1:9092', brokerHttp).replaceAll('ws://127.0.0.1:9092', broker.url.replace(/\/$/, ''))
  const page = createServer((_, res) => {
    res.writeHead(200, { 'content-type': 'text/html' })
    res.end(`<!doctype html><meta charset="utf-8"><body>${html}</body>`)
  })
  await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve))
  t.teardown(() => page.close())
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
  t.teardown(() => browser.close())
  const tab = await browser.newPage()
  const errors: string[] = []
  tab.on('pageerror', (err) => errors.push(err.message))
  await tab.goto(`http://localhost:${(page.address() as AddressInfo).port}/`)
  // The page snippet signals the end of its work by setting data-done on <body> (see the snippet).
  await tab.waitForSelector('body[data-done]', { timeout: SNIPPET_TIMEOUT_MS }).catch(() => undefined)
  t.same(errors, [], 'no page error')
  t.equal(await tab.getAttribute('body', 'data-done'), 'ok', `the page finished: ${await tab.textContent('body')}`)
}
