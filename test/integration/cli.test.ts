// The built `bitacora` command (dist/, as npm links it), run as a user would.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

const bin = new URL('../../dist/cli/main.js', import.meta.url).pathname
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' })

t.test('version prints the package version', async (t) => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))
  const r = run('version')
  t.equal(r.status, 0)
  t.equal(r.stdout.trim(), pkg.version)
})

t.test('an unknown command is one clear line and exit code 2', async (t) => {
  const r = run('frobnicate')
  t.equal(r.status, 2)
  t.equal(r.stderr.trim().split('\n').length, 1)
  t.match(r.stderr, /unknown command 'frobnicate'/)
})
