// A data directory written by the one-node release (topics in topics.json, partitions under
// <topic id>-<p>, single-voter quorum state) is upgraded into the metadata log on the first
// start of this release: the same topics with the same ids and configs, their records intact,
// topics.json renamed and never read again. The fixture is made by that release itself: its
// sources, taken from git at the last commit that had the one-node metadata store, run with
// tsx (the generated protocol code and the WASM module come from this build: the proto is
// unchanged since). A node started on it with --controller-voters refuses, touching nothing.
import t from 'tap'
import { execFileSync, spawn } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadCodec, splitBatches } from '../../src/codec/index.js'
import { bitacora } from '../../src/protocol/index.js'
import { connect, startBroker, tempDataDir } from './broker-process.js'

const ROOT = new URL('../..', import.meta.url).pathname
const BIN = join(ROOT, 'dist/cli/main.js')
const START_TIMEOUT_MS = 30_000
const codec = await loadCodec()
const text = (v: string) => new TextEncoder().encode(v)

/** The sources of the last release with topics.json, extracted under the repository (so its packages resolve). */
function oldRelease(): string {
  const git = (...args: string[]) => execFileSync('git', ['-C', ROOT, ...args], { encoding: 'utf8' }).trim()
  const removal = git('rev-list', '-n', '1', 'HEAD', '--', 'src/broker/controller/metadata-store.ts')
  if (removal === '') throw new Error('git history has no src/broker/controller/metadata-store.ts: cannot build the one-node release')
  mkdirSync(join(ROOT, '.tap'), { recursive: true })
  const dir = mkdtempSync(join(ROOT, '.tap', 'one-node-release-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  execFileSync('sh', ['-c', `git -C "${ROOT}" archive "${removal}^" src assembly asconfig.json | tar -x -C "${dir}"`])
  cpSync(join(ROOT, 'src/protocol/generated'), join(dir, 'src/protocol/generated'), { recursive: true })
  // Its own codec module: today's exports codes and layouts its src/codec does not know.
  execFileSync(process.execPath, [join(ROOT, 'node_modules/assemblyscript/bin/asc.js'), 'assembly/index.ts', '--target', 'release'], { cwd: dir })
  const wasm = readFileSync(join(dir, 'build/codec.wasm'))
  writeFileSync(join(dir, 'src/codec/wasm-binary.ts'), `export const CODEC_WASM_BASE64 =\n  '${wasm.toString('base64')}'\n`)
  return dir
}

/** Runs the old release's broker on `dataDir`, lets `work` use it, then stops it cleanly. */
async function withOldBroker(release: string, dataDir: string, work: (url: string) => Promise<void>): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(release, 'src/cli/main.ts'), 'broker', '--port', '0', '--data-dir', dataDir], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  t.teardown(() => child.kill('SIGKILL'))
  let stderr = ''
  child.stderr.on('data', (d) => (stderr += d))
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the old release did not start in ${START_TIMEOUT_MS} ms: ${stderr}`)), START_TIMEOUT_MS)
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
      const m = /listening on (ws:\/\/\S+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(m[1])
      }
    })
    child.once('exit', (code) => reject(new Error(`the old release exited with ${code}: ${stderr}`)))
  })
  await work(url)
  child.kill('SIGTERM')
  await exited
}

function run(args: string[]): { status: number | null; stderr: string } {
  try {
    execFileSync(process.execPath, [BIN, 'broker', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 })
    return { status: 0, stderr: '' }
  } catch (err) {
    const e = err as { status: number | null; stderr: string }
    return { status: e.status, stderr: e.stderr }
  }
}

async function values(url: string, topic: string, partition: number, want: number): Promise<string[]> {
  const c = await connect(url)
  let out: string[] = []
  for (const deadline = Date.now() + 20_000; out.length < want && Date.now() < deadline; ) {
    const p = (await c.call({ fetch: { maxWaitMs: 200, topics: [{ name: topic, partitions: [{ index: partition, fetchOffset: 0 }] }] } })).fetch!.topics![0].partitions![0]
    if (p.error || !p.records?.length) continue
    out = splitBatches(p.records, true)
      .map(([s, e]) => codec.decodeBatch(p.records!.subarray(s, e)))
      .filter((b) => !b.header.control)
      .flatMap((b) => b.records.map((r) => new TextDecoder().decode(r.value!)))
  }
  c.close()
  return out
}

const describeTopics = async (url: string) => {
  const c = await connect(url)
  const m = (await c.call({ metadata: { topics: [] } })).metadata!
  const cfg = (await c.call({ describeConfigs: { resources: [{ resource: { type: bitacora.ConfigResourceType.TOPIC, name: 'legacy.orders' } }] } })).describeConfigs!
  c.close()
  return {
    topics: m.topics!.map((x) => `${x.name} ${Buffer.from(x.topicId!).toString('hex')} ${x.partitions!.length}`).sort(),
    configs: cfg.results![0].entries!.filter((e) => !e.isDefault).map((e) => `${e.name}=${e.value}`),
  }
}

t.test('a data directory of the one-node release is upgraded into the metadata log, records and ids intact', async (t) => {
  const release = oldRelease()
  const dataDir = tempDataDir(t)
  let before: Awaited<ReturnType<typeof describeTopics>> | null = null
  await withOldBroker(release, dataDir, async (url) => {
    const c = await connect(url)
    const created = await c.call({ createTopics: { topics: [{ name: 'legacy.orders', partitions: 2, configs: { 'retention.ms': '86400000' } }, { name: 'legacy.events', partitions: 1 }] } })
    t.same(created.createTopics!.topics!.map((x) => x.error), [null, null], 'the old release created two topics')
    for (const [topic, partition, value] of [['legacy.orders', 0, 'o0'], ['legacy.orders', 1, 'o1'], ['legacy.events', 0, 'e0']] as const) {
      const r = await c.call({ produce: { acks: -1, timeoutMs: 10_000, topics: [{ name: topic, partitions: [{ index: partition, records: codec.encodeBatch([{ value: text(value) }]) }] }] } })
      t.equal(r.produce!.topics![0].partitions![0].error, null, `${topic}/${partition} took a record`)
    }
    c.close()
    before = await describeTopics(url)
  })
  const topicsJson = readFileSync(join(dataDir, 'topics.json'), 'utf8')
  t.match(topicsJson, /legacy\.orders/, 'the old release wrote topics.json')
  t.notOk(existsSync(join(dataDir, '__cluster_metadata-0')), 'and no metadata log')

  const refused = run(['--port', '0', '--data-dir', dataDir, '--id', '0', '--controller-voters', '0@ws://127.0.0.1:1/,1@ws://127.0.0.1:2/'])
  t.equal(refused.status, 1, 'started into a cluster, it refuses (exit 1)')
  t.match(refused.stderr.trim(), /^bitacora broker: .* holds topics\.json of a one-node release: start this node once without --controller-voters so it upgrades them into its metadata log$/)
  t.equal(readFileSync(join(dataDir, 'topics.json'), 'utf8'), topicsJson, 'topics.json untouched')

  const upgraded = await startBroker(t, { dataDir })
  t.same(await describeTopics(upgraded.url), before, 'the same topics, ids, partition counts and configs')
  t.same(await values(upgraded.url, 'legacy.orders', 1, 1), ['o1'], 'records intact')
  t.same(await values(upgraded.url, 'legacy.events', 0, 1), ['e0'])
  t.notOk(existsSync(join(dataDir, 'topics.json')), 'topics.json is no longer there to be read')
  t.equal(readFileSync(join(dataDir, 'topics.json.upgraded'), 'utf8'), topicsJson, 'it was renamed, not deleted')
  t.match(upgraded.stderr(), /topics\.json upgraded into the metadata log/)
  await upgraded.stop()

  writeFileSync(join(dataDir, 'topics.json.upgraded'), '{"version":1,"topics":[]}') // not read again
  const again = await startBroker(t, { dataDir })
  t.same(await describeTopics(again.url), before, 'a restart reads the metadata log, not the old file')
  t.same(await values(again.url, 'legacy.orders', 0, 1), ['o0'])
  t.same(readdirSync(dataDir).filter((d) => d.endsWith('.deleted')), [], 'nothing was deleted')
})
