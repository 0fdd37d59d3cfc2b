// The built `bitacora` command (dist/, as npm links it), run as a user would.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

const bin = new URL('../../dist/cli/main.js', import.meta.url).pathname
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' })

t.test('version prints the package version', async (t) => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))
  for (const args of [['version'], ['--version'], ['-V']]) {
    const r = run(...args)
    t.equal(r.status, 0, args[0])
    t.equal(r.stdout, `${pkg.version}\n`, args[0])
  }
})

t.test('bare bitacora is a usage error: the usage on stderr, exit 2; help is exit 0', async (t) => {
  const bare = run()
  t.equal(bare.status, 2)
  t.equal(bare.stdout, '')
  t.match(bare.stderr, /^usage: bitacora <command>/)
  for (const args of [['help'], ['--help'], ['-h']]) {
    const r = run(...args)
    t.equal(r.status, 0, args[0])
    t.equal(r.stdout, bare.stderr, `${args[0]}: the same usage, on stdout`)
  }
})

t.test('an unknown command is one clear line and exit code 2', async (t) => {
  const r = run('frobnicate')
  t.equal(r.status, 2)
  t.equal(r.stderr.trim().split('\n').length, 1)
  t.match(r.stderr, /unknown command 'frobnicate'/)
})
