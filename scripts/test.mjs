#!/usr/bin/env node
// Runs every test suite the way CI does and ends with the line `N passed, N failed`.
//
// Phases:
//   typecheck  - one `tsc --noEmit` over src/, test/ and perf/ (cheaper than per-file type checks)
//   unit       - pure in-process tests, two files at a time
//   process    - tests that start broker processes or browsers, one file at a time
//                (parallel clusters on 2 cores cause false timeouts and elections)
// Arguments are passed to every tap phase (e.g. `npm test -- --grep foo`), except `--coverage`:
// coverage is off unless asked for (`npm run test:coverage`) because V8's precise coverage slows
// CPU-bound tests by up to 40 % (test/sim/sim.test.ts: 35 s without, 56 s with) and every broker
// process a test starts inherits it; CI must stay under 30 minutes on 2 cores.
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

const PROCESS_DIRS = ['test/integration', 'test/browser']
const coverage = process.argv.includes('--coverage')
// Without coverage, the processes tests start skip tap's tracking hook (test/setup/untracked-children.mjs).
const untracked = new URL('../test/setup/untracked-children.mjs', import.meta.url).href
const extraArgs = [...process.argv.slice(2).filter((a) => a !== '--coverage'), ...(coverage ? [] : ['--disable-coverage', `--node-arg=--import=${untracked}`])]

function listTests(dir) {
  const out = []
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) out.push(...listTests(path))
    else if (name.endsWith('.test.ts')) out.push(path)
  }
  return out
}

const all = listTests('test')
const isProcessTest = (f) => PROCESS_DIRS.some((d) => f.startsWith(d + '/'))
const phases = [
  { name: 'unit', files: all.filter((f) => !isProcessTest(f)), jobs: 2 },
  { name: 'process', files: all.filter(isProcessTest), jobs: 1 },
]

let passed = 0
let failed = 0

const typecheck = spawnSync('npx', ['tsc', '-p', 'tsconfig.check.json'], { stdio: 'inherit' })
if (typecheck.status === 0) passed++
else {
  failed++
  console.error('typecheck failed')
}

for (const phase of phases) {
  if (phase.files.length === 0) continue
  console.log(`\n== ${phase.name}: ${phase.files.length} files, ${phase.jobs} at a time ==`)
  const res = spawnSync(
    'npx',
    ['tap', `--jobs=${phase.jobs}`, '--reporter=tap', ...extraArgs, ...phase.files],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 30 },
  )
  process.stdout.write(res.stdout ?? '')
  // tap's TAP reporter closes with a line like `# { total: 12, pass: 11, fail: 1 }`.
  const summary = /^# \{ total: (\d+)(?:, pass: (\d+))?(?:, fail: (\d+))?/m.exec(res.stdout ?? '')
  const phasePass = summary ? Number(summary[2] ?? 0) : 0
  let phaseFail = summary ? Number(summary[3] ?? 0) : 0
  // A crashed runner or a file that died without reporting still fails the run.
  if (res.status !== 0 && phaseFail === 0) phaseFail = 1
  passed += phasePass
  failed += phaseFail
}

console.log(`${passed} passed, ${failed} failed`)
process.exit(failed === 0 ? 0 : 1)
