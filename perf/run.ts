// `npm run perf [-- --quick] [-- --no-setup] [-- --no-build] [-- --out DIR] [-- --profile DIR]`
// One command: installs the peers (scripts/setup-system.sh peers), builds, measures this
// machine's limits, runs the codec micro-benchmarks, then Bitácora (1 broker) and its peers
// (NATS JetStream, Redis Streams with AOF everysec and always) on the same workloads, then the
// replicated systems keeping 3 copies (Bitácora 3 brokers RF=3, NATS JetStream R3 on 3
// servers, Redis with 2 replicas and WAIT 2), one system at a time on loopback ports, then how
// cost grows on 3 brokers (partitions, producers, record size: perf/scaling.ts) and their acks
// latencies with a delay between brokers (perf/network-delay.ts), leader failover
// (perf/cluster-timings.ts), an idle cluster's CPU and memory (perf/idle-cluster.ts) and one
// broker's restart with a large log after SIGTERM and after SIGKILL (perf/restart.ts), and writes <out>/<timestamp>.json, <timestamp>.md with
// SVG charts beside it, and latest.md (+ latest-*.svg). Every server started is stopped at the
// end, on failure and on SIGINT/SIGTERM.
import { spawnSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { runJsonScript } from './child-json.js'
import type { PartitionFailoverTimes } from './cluster-timings.js'
import type { IdleClusterResult } from './idle-cluster.js'
import { measureDisk } from './limits/disk.js'
import { measureWebSocket } from './limits/websocket.js'
import { planFor, type Plan } from './plan.js'
import { cleanupAll, installCleanupHandlers } from './processes.js'
import { writeReport } from './report/write.js'
import type { Measured, MicroRow, PerfResults, RunRecord } from './report/types.js'
import { measureNetworkDelays } from './network-delay.js'
import { measureRestart } from './restart.js'
import { runWorkload } from './run-workload.js'
import { measureScaling, SCALING_REPLICATION } from './scaling.js'
import { startBitacoraCluster } from './servers/bitacora-cluster.js'
import { natsVersion } from './servers/nats.js'
import { redisVersion } from './servers/redis.js'
import { SYSTEMS, type SystemDef } from './systems.js'
import type { WorkloadSpec } from './workload.js'
import type { E2eReceived, E2eResult, E2eSent } from '../src/cli/perf-e2e.js'

const ROOT = new URL('..', import.meta.url).pathname

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean' }, 'no-setup': { type: 'boolean' }, 'no-build': { type: 'boolean' },
    out: { type: 'string' }, profile: { type: 'string' }, only: { type: 'string', multiple: true },
  },
})

function step(title: string): void {
  console.log(`\n== ${title}`)
}

function sh(command: string, commandArgs: string[]): void {
  const r = spawnSync(command, commandArgs, { cwd: ROOT, stdio: 'inherit' })
  if (r.status !== 0) throw new Error(`${command} ${commandArgs.join(' ')} failed (${r.status ?? r.signal})`)
}

async function micro(plan: Plan): Promise<PerfResults['micro']> {
  try {
    return { rows: (await runJsonScript<{ results: MicroRow[] }>('perf/micro.ts', plan.microArgs)).results }
  } catch (err) {
    return { rows: [], error: (err as Error).message }
  }
}

/** Runs a perf script that measures one figure; its failure is reported, not thrown. */
async function measured<T>(script: string, scriptArgs: string[]): Promise<Measured<T>> {
  try {
    return { value: await runJsonScript<T>(script, scriptArgs) }
  } catch (err) {
    console.log(`  FAILED: ${(err as Error).message}`)
    return { error: (err as Error).message.split('\n')[0] }
  }
}

async function runSystem(def: SystemDef, plan: Plan, runs: RunRecord[]): Promise<void> {
  step(`${def.name} (${def.modes.map((m) => m.label).join(', ')})`)
  const server = await def.start()
  const cpuProfDir = args.profile && def.kind === 'bitacora' ? args.profile : undefined
  const primary = def.modes.find((m) => m.label === def.primary)!
  const base = { system: def.kind, url: server.url, maxSeconds: plan.maxSeconds, replicationFactor: def.copies } as const
  const record = async (r: Omit<RunRecord, 'system'>, spec: WorkloadSpec) => {
    const entry: RunRecord = { system: def.name, ...r, ...(def.copies > 1 ? { copies: def.copies } : {}) }
    console.log(`  ${def.name} ${r.mode} ${r.kind} ${r.recordSize} B${spec.rate ? ` at ${spec.rate} records/s` : ''}`)
    try {
      if (r.kind === 'produce') entry.produce = await runWorkload(spec, cpuProfDir ? { cpuProfDir } : {})
      else if (r.kind === 'consume') entry.consume = await runWorkload(spec, cpuProfDir ? { cpuProfDir } : {})
      else entry.e2e = { ...(await e2eInTwoProcesses(spec)), fraction: r.e2e?.fraction ?? 0 }
    } catch (err) {
      entry.error = (err as Error).message.split('\n')[0]
      console.log(`    FAILED: ${entry.error}`)
    }
    runs.push(entry)
    return entry
  }
  try {
    const slug = `${def.kind}${def.primary.replace(/[^a-z0-9]/gi, '')}r${def.copies}`
    for (const size of plan.sizes) {
      let written = plan.records[size]!
      for (const mode of def.modes) {
        const topic = `perf-${size}-${slug}-${mode.label.replace(/[^a-z0-9]/gi, '')}`
        const meta = { mode: mode.label, durability: mode.durability, note: mode.note, kind: 'produce' as const, recordSize: size }
        const entry = await record(meta, { ...base, kind: 'produce', topic, recordSize: size, records: plan.records[size]!, ...(mode.acks !== undefined ? { acks: mode.acks } : {}) })
        // A producer stopped by maxSeconds wrote fewer: its consumer reads what is there, not a timeout's worth.
        if (mode === primary && entry.produce !== undefined) written = Math.max(1, entry.produce.records)
      }
      const topic = `perf-${size}-${slug}-${primary.label.replace(/[^a-z0-9]/gi, '')}`
      await record(
        { mode: primary.label, durability: primary.durability, note: primary.note, kind: 'consume', recordSize: size },
        { ...base, kind: 'consume', topic, recordSize: size, records: written },
      )
    }
    const peak = runs.find((r) => r.system === def.name && r.mode === primary.label && r.kind === 'produce' && r.recordSize === plan.e2eRecordSize)?.produce?.recordsPerSec
    if (!peak) {
      console.log('    no peak measured: end-to-end runs skipped')
      return
    }
    for (const fraction of plan.e2eFractions) {
      const rate = Math.max(1, Math.round(peak * fraction))
      await record(
        { mode: primary.label, durability: primary.durability, note: primary.note, kind: 'e2e', recordSize: plan.e2eRecordSize, e2e: { fraction } as RunRecord['e2e'] },
        { ...base, kind: 'e2e-send', topic: `e2e-${slug}-${Math.round(fraction * 100)}`, recordSize: plan.e2eRecordSize, rate, seconds: plan.e2eSeconds, warmupSeconds: plan.e2eWarmupSeconds, maxSeconds: plan.e2eSeconds + plan.maxSeconds, ...(primary.acks !== undefined ? { acks: primary.acks, lingerMs: 0 } : {}) },
      )
    }
  } finally {
    await server.stop()
  }
}

/**
 * End-to-end latency with the consumer and the producer in processes of their own: the receiver
 * creates the topic and starts consuming, then the sender runs at the spec's rate.
 */
async function e2eInTwoProcesses(send: WorkloadSpec): Promise<E2eResult> {
  let ready!: () => void
  const consuming = new Promise<void>((resolve) => (ready = resolve))
  const receiving = runWorkload<E2eReceived>({ ...send, kind: 'e2e-receive', maxSeconds: send.maxSeconds }, { onReady: ready })
  await Promise.race([consuming, receiving])
  // If the sender fails, its error is the one reported; the receiver then stops at maxSeconds.
  receiving.catch(() => {})
  const sent = await runWorkload<E2eSent>(send)
  const received = await receiving
  if (received.sent < 0) throw new Error(`the receiver saw no end marker within ${send.maxSeconds} s (${received.received} records received)`)
  return { ...sent, received: received.received, latency: received.latency }
}

async function main(): Promise<void> {
  installCleanupHandlers()
  const started = performance.now()
  const plan = planFor(args.quick ?? false)
  const outDir = args.out ?? join(ROOT, 'perf/results')
  mkdirSync(outDir, { recursive: true })
  if (args.profile) mkdirSync(args.profile, { recursive: true })
  if (!args['no-setup']) {
    step('setup: peers (scripts/setup-system.sh peers)')
    sh('bash', ['scripts/setup-system.sh', 'peers'])
  }
  if (!args['no-build']) {
    step('build (npm run build)')
    sh('npm', ['run', '--silent', 'build'])
  }
  const results: PerfResults = {
    date: new Date().toISOString(), quick: plan.quick, durationSeconds: 0,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '?', node: process.version, loadAvgStart: loadavg(), loadAvgEnd: [], nats: await natsVersion(), redis: await redisVersion() },
    plan, limits: {}, micro: { rows: [] }, runs: [],
  }

  step(`1. machine limits (${plan.limitSeconds} s each)`)
  try {
    results.limits.websocket = await measureWebSocket(plan.limitSeconds)
    results.limits.disk = measureDisk(plan.limitSeconds)
    console.log(`  ${JSON.stringify(results.limits)}`)
  } catch (err) {
    results.limits.error = (err as Error).message
    console.log(`  FAILED: ${results.limits.error}`)
  }

  step('2. codec micro-benchmarks (perf/micro.ts)')
  results.micro = await micro(plan)

  step('3-4. Bitácora and peers, same workloads')
  for (const def of SYSTEMS) {
    if (args.only && !args.only.includes(def.kind)) continue
    try {
      await runSystem(def, plan, results.runs)
    } catch (err) {
      console.log(`  ${def.name}: FAILED ${(err as Error).message}`)
      results.runs.push({ system: def.name, mode: def.primary, durability: def.modes[0]!.durability, note: '', kind: 'produce', recordSize: 0, error: (err as Error).message.split('\n')[0] })
    }
  }

  if (!args.only || args.only.includes('bitacora')) {
    step('6. how cost grows: 3 brokers RF=3 acks=all (perf/scaling.ts)')
    try {
      const cluster = await startBitacoraCluster(SCALING_REPLICATION)
      try {
        results.scaling = { points: await measureScaling(plan.scaling, cluster) }
      } finally {
        await cluster.stop()
      }
    } catch (err) {
      results.scaling = { points: [], error: (err as Error).message.split('\n')[0] }
      console.log(`  FAILED: ${results.scaling.error}`)
    }
  }

  if (!args.only || args.only.includes('bitacora')) {
    step('7. over a network: 3 brokers with a delay between them (perf/network-delay.ts)')
    results.network = { points: await measureNetworkDelays(plan.network) }
  }

  if (!args.only || args.only.includes('bitacora')) {
    step(`8. failover: SIGKILL of an RF=3 partition's leader under acks=all writes, ${plan.failovers} times (perf/cluster-timings.ts)`)
    results.failover = await measured<PartitionFailoverTimes>('perf/cluster-timings.ts', ['--only', 'partition-failover', '--failovers', String(plan.failovers)])
    const idle = plan.idle
    step(`9. idle: ${idle.partitions} RF=3 partitions on 3 brokers (perf/idle-cluster.ts)`)
    results.idle = await measured<IdleClusterResult>('perf/idle-cluster.ts', [
      '--partitions', String(idle.partitions), '--windows', String(idle.windows), '--seconds', String(idle.windowSeconds), '--settle-seconds', String(idle.settleSeconds),
    ])
    step(`10. restart: one broker, ${(plan.restart.bytes / 1024 ** 3).toFixed(2)} GiB in its log (perf/restart.ts)`)
    results.restart = await measureRestart(plan.restart)
  }

  results.machine.loadAvgEnd = loadavg()
  results.durationSeconds = (performance.now() - started) / 1000
  step('11. report')
  const files = writeReport(results, outDir)
  for (const f of files) console.log(`  wrote ${f}`)
}

try {
  await main()
} catch (err) {
  console.error(`perf: ${(err as Error).stack ?? err}`)
  process.exitCode = 1
} finally {
  await cleanupAll()
}
