// What a broker does when it cannot serve: a data directory held by another broker, a port
// taken, an address that does not exist, a data directory that cannot be one. Each refusal is
// one line on stderr naming the cause, a non-zero exit, and nothing written.
import t, { type Test } from 'tap'
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { join } from 'node:path'
import { loadCodec } from '../../src/codec/index.js'
import { connect, startBroker, tempDataDir } from './broker-process.js'
import { runCli } from './cli-process.js'

const codec = await loadCodec()
/** How long a refused start may take: it must not hang. */
const REFUSAL_MS_MAX = 10_000

/** Runs `bitacora broker ARGS` to its exit (killed past REFUSAL_MS_MAX). */
const runBroker = (args: string[]) => runCli(['broker', ...args], { timeoutMs: REFUSAL_MS_MAX })

/** Every file under `dir` with its size and modification time. */
function snapshot(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .map((e) => join(e.parentPath, e.name))
    .map((p) => `${p} ${statSync(p).size} ${statSync(p).mtimeMs}`)
    .sort()
}

function oneLine(t: Test, stderr: string, pattern: RegExp) {
  const lines = stderr.trim().split('\n')
  t.equal(lines.length, 1, `one line on stderr: ${stderr}`)
  t.match(lines[0], pattern)
  t.notMatch(stderr, /\n\s+at /, 'no stack trace')
}

t.test('a second broker on a data directory in use refuses, writes nothing, and acknowledged records survive', async (t) => {
  const first = await startBroker(t)
  const c = await connect(first.url)
  await c.call({ createTopics: { topics: [{ name: 'kept', partitions: 1 }] } })
  const values = Array.from({ length: 100 }, (_, i) => `v${i}`)
  const r = await c.call({ produce: { acks: -1, timeoutMs: 10_000, topics: [{ name: 'kept', partitions: [{ index: 0, records: codec.encodeBatch(values.map((v) => ({ value: new TextEncoder().encode(v) }))) }] }] } })
  t.equal(r.produce!.topics![0].partitions![0].error, null, 'acknowledged with acks=all')
  const before = snapshot(first.dataDir)

  const second = await runBroker(['--port', '0', '--data-dir', first.dataDir])
  t.equal(second.status, 1, 'exit code 1')
  oneLine(t, second.stderr, new RegExp(`data directory .* is in use by another process \\(pid ${first.child.pid}\\)`))
  t.equal(second.stdout, '', 'it never said it was listening')
  t.same(snapshot(first.dataDir), before, 'the second broker wrote nothing')
  t.match(JSON.parse(readFileSync(join(first.dataDir, 'lock'), 'utf8')), { pid: first.child.pid }, 'the lock file names its holder')

  // The first broker still serves, and after it dies (however) the directory is free again.
  const more = await c.call({ produce: { acks: -1, timeoutMs: 10_000, topics: [{ name: 'kept', partitions: [{ index: 0, records: codec.encodeBatch([{ value: new TextEncoder().encode('after') }]) }] }] } })
  t.equal(more.produce!.topics![0].partitions![0].error, null, 'the first broker still takes writes')
  c.close()
  await first.stop('SIGKILL')
  const third = await startBroker(t, { dataDir: first.dataDir })
  const c3 = await connect(third.url)
  let got: string[] = []
  for (const deadline = Date.now() + 20_000; got.length < 101 && Date.now() < deadline; ) {
    const f = await c3.call({ fetch: { maxWaitMs: 200, topics: [{ name: 'kept', partitions: [{ index: 0, fetchOffset: 0 }] }] } })
    const p = f.fetch!.topics![0].partitions![0]
    if (p.error || p.records!.length === 0) continue
    got = []
    for (const b of (await import('../../src/codec/index.js')).splitBatches(p.records!, true)) {
      const batch = codec.decodeBatch(p.records!.subarray(b[0], b[1]))
      if (!batch.header.control) got.push(...batch.records.map((x) => new TextDecoder().decode(x.value!)))
    }
  }
  t.same(got, [...values, 'after'], 'a broker started after a SIGKILL takes the stale lock and has every acknowledged record')
  c3.close()
})

t.test('a taken port: one line naming the address and the cause, exit 1, data directory untouched', async (t) => {
  const blocker = createServer()
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
  t.teardown(() => blocker.close())
  const port = (blocker.address() as AddressInfo).port
  const dataDir = tempDataDir(t)
  const r = await runBroker(['--port', String(port), '--data-dir', dataDir])
  t.equal(r.status, 1)
  t.ok(r.ms < REFUSAL_MS_MAX, `exited in ${r.ms} ms`)
  oneLine(t, r.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: .*in use.*EADDRINUSE`))
  t.same(readdirSync(dataDir).filter((f) => f !== 'meta.properties'), [], 'no topics, no lock left behind')
  // The lock was released: a broker on a free port starts on the same directory at once.
  const ok = await startBroker(t, { dataDir })
  t.match(ok.url, /^ws:\/\/127\.0\.0\.1:\d+\/$/)
})

t.test('an address that is not one, and a data directory that is a file: one line each', async (t) => {
  const bad = await runBroker(['--port', '0', '--host', '256.1.1.1', '--data-dir', tempDataDir(t)])
  t.equal(bad.status, 1)
  oneLine(t, bad.stderr, /cannot listen on 256\.1\.1\.1:0: /)
  const file = join(tempDataDir(t), 'not-a-dir')
  writeFileSync(file, 'x')
  const notDir = await runBroker(['--port', '0', '--data-dir', file])
  t.equal(notDir.status, 1)
  oneLine(t, notDir.stderr, /cannot create data directory .*not-a-dir: .*(EEXIST|ENOTDIR)/)
  const under = await runBroker(['--port', '0', '--data-dir', join(file, 'sub')])
  t.equal(under.status, 1)
  oneLine(t, under.stderr, /cannot create data directory .*not-a-dir\/sub: .*ENOTDIR/)
})

t.test('a bad config file or flag: one line, exit 2', async (t) => {
  const dir = tempDataDir(t)
  const file = join(dir, 'broker.json')
  writeFileSync(file, JSON.stringify({ maxConnections: 10 }))
  const r = await runBroker(['--config', file, '--data-dir', dir])
  t.equal(r.status, 2)
  oneLine(t, r.stderr, /unknown setting 'maxConnections'; did you mean 'max-connections'\?/)
  const flag = await runBroker(['--max-batch-bytes', '20000000', '--data-dir', dir])
  t.equal(flag.status, 2)
  oneLine(t, flag.stderr, /--max-batch-bytes \(20000000\) must leave 1024 bytes of room in --max-frame-bytes/)
})

t.test("a node refuses another node's or another cluster's data directory, having written nothing; an old directory is upgraded", async (t) => {
  const first = await startBroker(t, { args: ['--id', '1'] })
  const meta = readFileSync(join(first.dataDir, 'meta.properties'), 'utf8')
  t.match(meta, /^node\.id=1$/m)
  const clusterId = /^cluster\.id=(.+)$/m.exec(meta)![1]
  const directoryId = /^directory\.id=(.+)$/m.exec(meta)![1]
  await first.stop('SIGTERM')
  const before = snapshot(first.dataDir)

  const otherNode = await runBroker(['--port', '0', '--data-dir', first.dataDir, '--id', '2'])
  t.equal(otherNode.status, 1)
  oneLine(t, otherNode.stderr, /belongs to node 1 \(meta\.properties\); start it with --id 1, or give node 2 its own --data-dir/)
  const otherCluster = await runBroker(['--port', '0', '--data-dir', first.dataDir, '--id', '1', '--cluster-id', 'another-cluster'])
  t.equal(otherCluster.status, 1)
  oneLine(t, otherCluster.stderr, new RegExp(`belongs to cluster ${clusterId}, not another-cluster`))
  t.same(snapshot(first.dataDir), before, 'neither wrote anything')

  const again = await startBroker(t, { dataDir: first.dataDir, args: ['--id', '1', '--cluster-id', clusterId] })
  t.match(readFileSync(join(first.dataDir, 'meta.properties'), 'utf8'), new RegExp(`directory\\.id=${directoryId}`), 'the directory id is made once')
  await again.stop('SIGTERM')

  // A directory written before meta.properties existed: the cluster id alone, in `cluster-id`.
  rmSync(join(first.dataDir, 'meta.properties'))
  writeFileSync(join(first.dataDir, 'cluster-id'), clusterId + '\n')
  const upgraded = await startBroker(t, { dataDir: first.dataDir, args: ['--id', '1'] })
  const c = await connect(upgraded.url)
  const hs = (await c.call({ handshake: { protocolVersion: 1, clientId: 't' } })).handshake!
  t.equal(hs.clusterId, clusterId, 'the old cluster id is kept')
  t.notOk(existsSync(join(first.dataDir, 'cluster-id')), 'and moved into meta.properties')
  t.match(readFileSync(join(first.dataDir, 'meta.properties'), 'utf8'), new RegExp(`cluster\\.id=${clusterId}`))
  c.close()
})
