// The Node flags of src/cli/node-flags.ts reach every way a broker starts: `bitacora` (main.ts's
// shebang, run here through the kernel as a user's shell would), cluster.sh, and the spawners
// of tests and perf (NODE_FLAGS itself; test/integration/cluster-sh.test.ts checks a node's log).
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { missingNodeFlags, NODE_FLAGS } from '../../src/cli/node-flags.js'

const ROOT = new URL('../../', import.meta.url).pathname
const shebang = readFileSync(join(ROOT, 'src/cli/main.ts'), 'utf8').split('\n')[0]!

t.test('missingNodeFlags names the flags a process lacks', async (t) => {
  t.strictSame(missingNodeFlags([]), [...NODE_FLAGS])
  t.strictSame(missingNodeFlags(['--enable-source-maps', ...NODE_FLAGS]), [])
  t.strictSame(missingNodeFlags(['--initial-heap-size=32']), [...NODE_FLAGS], 'another value is not the flag')
})

t.test("main.ts's shebang starts node with NODE_FLAGS", async (t) => {
  t.equal(shebang, `#!/usr/bin/env -S node ${NODE_FLAGS.join(' ')}`)
  const dir = mkdtempSync(join(tmpdir(), 'bitacora-shebang-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const script = join(dir, 'argv.mjs')
  writeFileSync(script, `${shebang}\nconsole.log(JSON.stringify(process.execArgv))\n`)
  chmodSync(script, 0o755)
  const run = spawnSync(script, { encoding: 'utf8' })
  t.equal(run.status, 0, run.stderr)
  t.strictSame(JSON.parse(run.stdout), [...NODE_FLAGS], 'the kernel and env -S pass them to node')
})

t.test('cluster.sh starts its brokers with NODE_FLAGS', async (t) => {
  const script = readFileSync(join(ROOT, 'cluster.sh'), 'utf8')
  t.match(script, new RegExp(`^NODE_FLAGS=${NODE_FLAGS.join(' ')} `, 'm'))
  t.match(script, /nohup node \$NODE_FLAGS "\$BIN" broker /)
})
