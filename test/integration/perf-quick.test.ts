// `npm run perf -- --quick` without setup and build (pretest builds; CI's setup installs the
// peers): every step runs with tiny counts and the report is written with every section, so
// the perf suite never rots. Writes to a temp dir, not perf/results.
import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

t.setTimeout(420_000)

const ROOT = new URL('../..', import.meta.url).pathname

t.test('perf --quick writes the JSON and the Markdown report with every section', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'bitacora-perf-quick-'))
  t.teardown(() => rmSync(out, { recursive: true, force: true }))
  const child = spawn(process.execPath, ['--import', 'tsx', 'perf/run.ts', '--quick', '--no-build', '--out', out], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (d) => (output += d))
  child.stderr.on('data', (d) => (output += d))
  t.teardown(() => void (child.exitCode === null && child.kill('SIGINT')))
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  t.equal(code, 0, `perf run exits 0\n${output.slice(-3000)}`)

  const files = readdirSync(out)
  const json = files.find((f) => /^\d{4}-.*\.json$/.test(f))
  t.ok(json, 'a <timestamp>.json')
  t.ok(files.includes('latest.md'), 'latest.md')
  for (const chart of ['throughput-100', 'throughput-1024', 'latency-100', 'latency-1024', 'e2e', 'scaling-partitions-throughput', 'scaling-producers-cpu', 'scaling-recordSize-throughput']) {
    t.ok(files.includes(`latest-${chart}.svg`), `chart ${chart}`)
    t.match(readFileSync(join(out, `latest-${chart}.svg`), 'utf8'), /^<svg /)
  }
  const md = readFileSync(join(out, 'latest.md'), 'utf8')
  for (const section of ['## Targets', "## 1. This machine's limits", '## 2. Producers', 'seed talk, slide 11', '## 3. Consumers', '## 4. End-to-end latency', '## 5. Codec micro-benchmarks', '## 6. How cost grows', '## 7. Over a network', '## 8. Failover', '## 9. An idle cluster', '## 10. Restart', '## Charts', '## Reproduce']) {
    t.ok(md.includes(section), `section ${section}`)
  }
  t.match(md, /records sent|records\/s/)

  const results = JSON.parse(readFileSync(join(out, json!), 'utf8'))
  t.ok(results.limits.websocket && results.limits.disk, 'machine limits measured')
  t.ok(results.micro.rows.length > 0, 'micro-benchmarks ran')
  const failed = results.runs.filter((r: { error?: string }) => r.error)
  t.same(failed, [], 'no workload failed')
  for (const system of ['Bitácora', 'NATS JetStream', 'Redis Streams']) {
    for (const kind of ['produce', 'consume', 'e2e']) {
      t.ok(results.runs.some((r: { system: string; kind: string }) => r.system === system && r.kind === kind), `${system} ${kind}`)
    }
  }
  // The replicated systems: 3 copies of each record, each system's own way.
  for (const system of ['Bitácora 3 brokers', 'NATS JetStream 3 servers', 'Redis Streams + 2 replicas']) {
    for (const kind of ['produce', 'consume', 'e2e']) {
      t.ok(results.runs.some((r: { system: string; kind: string; copies?: number }) => r.system === system && r.kind === kind && r.copies === 3), `${system} ${kind}, 3 copies`)
    }
  }
  t.match(md, /\| 3 brokers RF=3 acks=all, share of 1 broker acks=all \(100 B, same run\) \| [\d,]+ of [\d,]+ = \d+ % \|/, 'the RF=3 / 1-broker ratio headline')
  // How cost grows: every point of the quick plan measured, with the brokers' CPU counted.
  const points = results.scaling.points as Array<{ dimension: string; value: number; records: number; brokerCpuUsPerRecord: number; error?: string }>
  t.same(points.filter((p) => p.error), [], 'no scaling point failed')
  t.same(points.map((p) => `${p.dimension} ${p.value}`), ['partitions 1', 'partitions 8', 'producers 1', 'producers 2', 'recordSize 10', 'recordSize 1024'])
  for (const p of points) t.ok(p.records > 0 && p.brokerCpuUsPerRecord > 0, `${p.dimension} ${p.value}: records acknowledged and broker CPU measured`)
  // Over a network: acks=1 and acks=all through proxies delaying 5 ms each way; an acks=all
  // write waits for a follower's round trip, so at least 2 × 5 ms.
  const network = results.network.points as Array<{ delayMs: number; acks: number; records: number; p50Ms: number; error?: string }>
  t.same(network.filter((p) => p.error), [], 'no network point failed')
  const all = network.find((p) => p.acks === -1 && p.delayMs === 5)
  t.ok(all && all.records > 0 && all.p50Ms >= 10, `acks=all with 5 ms between brokers waits for a round trip (p50 ${all?.p50Ms} ms)`)
  t.match(md, /ahead of Redis Streams \+ 2 replicas WAIT 2: producer 100 B \(Bitácora 3 brokers acks=all\)/, 'a replicated peer compared with the replicated Bitácora')
  // Failover: each SIGKILL of the partition's leader is followed by an acknowledged write.
  const kills = results.failover.value as { rounds: number; firstAckMs: number[] } | undefined
  t.ok(kills && kills.firstAckMs.length === kills.rounds && kills.firstAckMs.every((ms) => ms > 0), `every failover round timed (${results.failover.error ?? JSON.stringify(kills?.firstAckMs)})`)
  // An idle cluster: each of the 3 brokers' CPU and RSS measured.
  const idle = results.idle.value as { brokers: Array<{ cpuPercent: number[]; rssMb: number }> } | undefined
  t.ok(idle?.brokers.length === 3 && idle.brokers.every((b) => b.cpuPercent.length > 0 && b.rssMb > 0), `idle CPU and RSS of 3 brokers (${results.idle.error ?? 'measured'})`)
  t.match(md, /\| idle: 30 RF=3 partitions on 3 brokers, per broker \| CPU [\d.]+–[\d.]+ % of a core, RSS \d+–\d+ MB \|/, 'the idle headline')
  for (const acks of ['acks=0', 'acks=1', 'acks=all']) {
    t.ok(results.runs.some((r: { system: string; mode: string; produce?: unknown }) => r.system === 'Bitácora' && r.mode === acks && r.produce), `Bitácora ${acks}`)
  }
  // Restart: one broker after SIGTERM (opened from its clean-shutdown markers) and after SIGKILL (recovered).
  const restart = results.restart as { error?: string; runs: Array<{ how: string; servingMs: number; logs: { partitions: number; cleanShutdown: number } | null }> }
  t.notOk(restart.error, 'the restart measurement ran')
  const clean = restart.runs.find((r) => r.how === 'clean')
  const killed = restart.runs.find((r) => r.how === 'killed')
  t.ok(clean && clean.servingMs > 0 && clean.logs !== null && clean.logs.cleanShutdown === clean.logs.partitions, 'after SIGTERM every partition opened from its marker')
  t.ok(killed && killed.servingMs > 0 && killed.logs?.cleanShutdown === 0, 'after SIGKILL every partition recovered')
  t.match(md, /\| 1 \| after SIGTERM \(clean\) \| [\d,]+ \| [\d,]+ \|/, 'the restart table')
  t.match(output, /records sent, [\d.]+ records\/sec \([\d.]+ MB\/sec\), [\d.]+ ms avg latency, [\d.]+ ms max latency, [\d.]+ ms 50th, [\d.]+ ms 95th, [\d.]+ ms 99th, [\d.]+ ms 99\.9th\./, "Kafka's producer line")
})
