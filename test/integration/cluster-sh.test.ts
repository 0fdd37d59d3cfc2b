// ./cluster.sh, run as a user runs it, on loopback ports chosen free at run time (passed by
// BITACORA_BASE_PORT) with its state in a temporary directory (BITACORA_CLUSTER_DIR). Every node
// a test starts is stopped by its teardown (./cluster.sh down, then SIGKILL of any pid left).
import t, { type Test } from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

t.setTimeout(300_000)

const ROOT = new URL('../../', import.meta.url).pathname
const SCRIPT = join(ROOT, 'cluster.sh')
const BIN = join(ROOT, 'dist/cli/main.js')
const UP_TIMEOUT_S = 90

interface Run {
  status: number | null
  stdout: string
  stderr: string
}

function listenOn(port: number): Promise<Server | null> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(null))
    server.listen(port, '127.0.0.1', () => resolve(server))
  })
}

/** A base port whose next `count` ports are free now (each listened on, then closed). */
async function freeBase(count: number): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 40_000)
    const servers = await Promise.all(Array.from({ length: count }, (_, i) => listenOn(base + i)))
    await Promise.all(servers.map((s) => s && new Promise((resolve) => s.close(resolve))))
    if (servers.every((s) => s !== null)) return base
  }
  throw new Error(`no ${count} consecutive free ports found`)
}

interface Cluster {
  dir: string
  base: number
  run(...args: string[]): Promise<Run>
  pids(): number[]
}

async function cluster(t: Test, nodes = 3): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'bitacora-cluster-sh-'))
  const base = await freeBase(nodes)
  const env = { ...process.env, BITACORA_CLUSTER_DIR: dir, BITACORA_BASE_PORT: String(base), BITACORA_UP_TIMEOUT_S: String(UP_TIMEOUT_S) }
  const run = (...args: string[]) => new Promise<Run>((resolve) => {
    const child = spawn('bash', [SCRIPT, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.once('exit', (status) => resolve({ status, stdout, stderr }))
  })
  const pids = () => (existsSync(dir) ? readdirSync(dir) : []).filter((d) => d.startsWith('node-') && existsSync(join(dir, d, 'pid')))
    .map((d) => Number(readFileSync(join(dir, d, 'pid'), 'utf8')))
  t.teardown(async () => {
    const left = pids()
    if (left.length > 0) await run('down')
    for (const pid of pids()) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // gone already
      }
    }
    rmSync(dir, { recursive: true, force: true })
  })
  return { dir, base, run, pids }
}

/** Whether the process runs: not gone, and not a zombie (it exited; whoever inherited it reaps it later). */
const alive = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0] !== 'Z'
  } catch {
    return false
  }
}

t.test('the built CLI is newer than the sources (cluster.sh would rebuild it mid-test)', async (t) => {
  const stale = spawnSync('find', ['src', 'proto', '-newer', BIN, '-print', '-quit'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim()
  t.equal(stale, '', 'run npm run build before this test')
})

t.test('shellcheck finds nothing', async (t) => {
  const setup = spawnSync('bash', [join(ROOT, 'scripts/setup-system.sh'), 'lint'], { encoding: 'utf8', timeout: 600_000 })
  t.equal(setup.status, 0, `scripts/setup-system.sh lint installs shellcheck: ${setup.stderr}`)
  const r = spawnSync('shellcheck', [SCRIPT], { encoding: 'utf8' })
  t.equal(r.status, 0, r.stdout)
})

t.test('usage errors print the usage and exit 2', async (t) => {
  const c = await cluster(t)
  const cases: Array<[string[], RegExp]> = [
    [[], /cluster\.sh: no command given/],
    [['frob'], /cluster\.sh: unknown command 'frob'/],
    [['up', 'x'], /up: N must be a node count from 1 to 16, not 'x'/],
    [['up', '0'], /up: N must be a node count from 1 to 16, not '0'/],
    [['up', '17'], /not '17'/],
    [['up', '3', '4'], /up takes at most one argument/],
    [['status', 'now'], /status takes no arguments/],
    [['kill'], /kill needs a node ID/],
    [['down', '1'], /down takes no arguments/],
  ]
  for (const [args, message] of cases) {
    const r = await c.run(...args)
    t.equal(r.status, 2, `${args.join(' ')}: exit 2`)
    t.match(r.stderr, message)
    t.match(r.stderr, /usage: \.\/cluster\.sh <command>/)
  }
  const help = await c.run('help')
  t.equal(help.status, 0)
  t.match(help.stdout, /^usage: \.\/cluster\.sh <command>/)
  t.match(help.stdout, /BITACORA_BASE_PORT/)
})

t.test('with no cluster: status, down and node commands say so (exit 1); clean has nothing to do', async (t) => {
  const c = await cluster(t)
  for (const args of [['status'], ['down'], ['kill', '1'], ['stop', '2'], ['restart', '1'], ['logs', '1']]) {
    const r = await c.run(...args)
    t.equal(r.status, 1, `${args.join(' ')}: exit 1`)
    t.equal(r.stderr, `cluster.sh: no cluster in ${c.dir} (start one: ./cluster.sh up)\n`)
  }
  const clean = await c.run('clean')
  t.equal(clean.status, 0)
  t.equal(clean.stdout, `removed the cluster's data and logs from ${c.dir}\n`, 'an empty directory is removed')
  t.notOk(existsSync(c.dir))
})

t.test('a taken port fails up naming it, before any node starts', async (t) => {
  const c = await cluster(t)
  const squatter = await listenOn(c.base + 1)
  t.ok(squatter, 'holding the second port')
  t.teardown(() => new Promise((resolve) => squatter!.close(resolve)))
  const r = await c.run('up', '3')
  t.equal(r.status, 1)
  t.equal(r.stderr.trim().split('\n').at(-1),
    `cluster.sh: port ${c.base + 1} (node 2) is taken by another process; stop it, or use other ports: BITACORA_BASE_PORT for a new cluster (./cluster.sh clean first)`)
  t.strictSame(c.pids(), [], 'no node started')
  t.notOk(existsSync(join(c.dir, 'cluster-id')), 'no cluster made')
  t.equal((await c.run('status')).status, 1, 'still no cluster')
})

t.test('clean removes what cluster.sh made and nothing else', async (t) => {
  const c = await cluster(t)
  const squatter = await listenOn(c.base)
  t.teardown(() => new Promise((resolve) => squatter!.close(resolve)))
  t.equal((await c.run('up', '2')).status, 1, 'an up that stopped at the port check left its settings')
  writeFileSync(join(c.dir, 'notes.txt'), 'mine\n')
  const r = await c.run('clean')
  t.equal(r.status, 0, r.stderr)
  t.strictSame(readdirSync(c.dir), ['notes.txt'])
})

t.test('up 3, status, kill/stop/cont/restart, logs, down, clean', async (t) => {
  const c = await cluster(t, 3)
  const urls = [0, 1, 2].map((i) => `ws://127.0.0.1:${c.base + i}/`)
  const up = await c.run('up', '3')
  t.equal(up.status, 0, `up: ${up.stdout}\n${up.stderr}`)
  t.match(up.stdout, /waiting until a controller is elected, every node has caught up and every broker is registered and unfenced/)
  t.match(up.stdout, /ready in \d+ s:/)
  for (const [i, url] of urls.entries()) t.match(up.stdout, new RegExp(`node ${i + 1}  ${url}  controller voter \\+ broker  pid \\d+`))
  t.match(up.stdout, `export BITACORA_BROKERS=${urls.join(',')}`)
  const clusterId = readFileSync(join(c.dir, 'cluster-id'), 'utf8').trim()
  const pids = c.pids()
  t.equal(pids.length, 3)

  // What up waited for holds: one leader, three voters, every one caught up, every broker registered and unfenced.
  const describe = spawnSync(process.execPath, [BIN, 'cluster', 'describe', '--json', '-b', urls.join(',')], { encoding: 'utf8' })
  t.equal(describe.status, 0, describe.stderr)
  const d = JSON.parse(describe.stdout) as {
    clusterId: string; leaderId: number; voters: Array<{ nodeId: number; lag: number }>; observers: unknown[]; brokers: Array<{ id: number; url: string; fenced: boolean }>
  }
  t.equal(d.clusterId, clusterId)
  t.ok(d.leaderId >= 1 && d.leaderId <= 3, `leader ${d.leaderId}`)
  t.strictSame(d.voters.map((v) => [v.nodeId, v.lag]).sort(), [[1, 0], [2, 0], [3, 0]])
  t.strictSame(d.observers, [])
  t.strictSame(d.brokers.map((b) => [b.id, b.url, b.fenced]), urls.map((url, i) => [i + 1, url, false]), 'every broker registered, at its URL, and unfenced')

  const again = await c.run('up')
  t.equal(again.status, 0)
  t.match(again.stdout, `the cluster in ${c.dir} is already running (nodes 1 2 3)`)
  t.strictSame(c.pids(), pids, 'nothing restarted')
  t.equal((await c.run('up', '4')).status, 1, 'another size while running is refused')

  const status = await c.run('status')
  t.equal(status.status, 0, status.stderr)
  for (const [i, url] of urls.entries()) t.match(status.stdout, new RegExp(`node ${i + 1}  ${url}  running  pid ${pids[i]}`))
  t.match(status.stdout, `ClusterId:        ${clusterId}`)

  const unknown = await c.run('kill', '9')
  t.equal(unknown.status, 2)
  t.match(unknown.stderr, "kill: no node '9' in this cluster (nodes 1..3)")

  t.equal((await c.run('stop', '2')).status, 0)
  const stopped = await c.run('status')
  t.equal(stopped.status, 1, 'not every node runs')
  t.match(stopped.stdout, `node 2  ${urls[1]}  stopped  pid ${pids[1]}`)
  t.equal((await c.run('cont', '2')).status, 0)
  t.match((await c.run('status')).stdout, `node 2  ${urls[1]}  running`)

  const killed = await c.run('kill', '3')
  t.equal(killed.status, 0)
  t.notOk(alive(pids[2]), 'node 3 is gone')
  t.match((await c.run('status')).stdout, `node 3  ${urls[2]}  down`)
  t.equal((await c.run('kill', '3')).status, 1, 'killing a node that is down says so')
  const restarted = await c.run('restart', '3')
  t.equal(restarted.status, 0, restarted.stderr)
  t.match(restarted.stdout, `restarted node 3 at ${urls[2]}`)

  const logs = await c.run('logs', '3')
  t.equal(logs.status, 0)
  t.match(logs.stdout, `listening on ${urls[2]}`)
  t.notMatch(logs.stdout, 'runs without', 'the node runs with the Node flags a broker needs (src/cli/node-flags.ts)')

  const refused = await c.run('clean')
  t.equal(refused.status, 1)
  t.match(refused.stderr, 'nodes 1 2 3 are running; ./cluster.sh down first')

  const before = c.pids()
  const down = await c.run('down')
  t.equal(down.status, 0, down.stderr)
  t.equal(down.stdout, 'stopped nodes 1 2 3\n')
  const running = before.filter(alive)
  t.strictSame(running, [], 'every node process has exited')
  t.equal((await c.run('down')).stdout, 'no node was running\n')

  const clean = await c.run('clean')
  t.equal(clean.status, 0)
  t.notOk(existsSync(c.dir))
})
