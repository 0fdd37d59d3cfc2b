// Issue 18's replicated throughput: one producer, 100-byte records, acks=all, against
// (a) one broker and (b) three brokers with the topic at replication factor 3, in the same run,
// so the ratio compares like with like on the same (shared, 2-core) machine. Run it under the
// process-test lock: flock /tmp/bitacora-process-tests.lock npx tsx perf/rf3.ts
//
//   npx tsx perf/rf3.ts [--records 2000000] [--runs 3] [--only 1|3] [--profile DIR]
//
// Each run starts fresh brokers (the built CLI in dist/: `npm run build` first), runs the perf
// suite's producer workload (perf/workload.ts, the same runner as `npm run perf`) and stops them.
// --profile DIR: every broker writes a CPU profile into DIR (perf/cpu-profile-hook.mjs), the
// workload client too (--cpu-prof).
import { parseArgs } from 'node:util'
import { cleanupAll, installCleanupHandlers } from './processes.js'
import { cpuSeconds } from './proc-stats.js'
import { runWorkload } from './run-workload.js'
import { startBitacora } from './servers/bitacora.js'
import { Teardowns } from './teardowns.js'
import type { WorkloadSpec } from './workload.js'
import { ProcessCluster } from '../test/integration/quorum-nodes.js'

const { values: args } = parseArgs({
  options: { records: { type: 'string' }, runs: { type: 'string' }, only: { type: 'string' }, profile: { type: 'string' } },
})
const RECORDS = Number(args.records ?? 2_000_000)
const RUNS = Number(args.runs ?? 3)
const RECORD_BYTES = 100
/** A producer run that has not finished by then is cut short (and reported with fewer records). */
const MAX_SECONDS = 120

interface ProduceResult {
  records: number
  recordsPerSec: number
  failed: number
  latency: { p50Ms: number; p99Ms: number }
  /** The producing client's CPU seconds (perf/workload.ts). */
  cpuSeconds: number
}

/** A run's figures, with each broker's CPU seconds over the workload (the leader first). */
interface RunResult extends ProduceResult {
  brokerCpuSeconds: number[]
}

/** Each process's CPU seconds while `work` runs. */
async function charged<T>(pids: readonly number[], work: () => Promise<T>): Promise<{ result: T; cpu: number[] }> {
  const before = pids.map(cpuSeconds)
  const result = await work()
  return { result, cpu: pids.map((pid, i) => cpuSeconds(pid) - before[i]) }
}

function spec(url: string, replicationFactor: number): WorkloadSpec {
  return { system: 'bitacora', url, kind: 'produce', topic: `rf${replicationFactor}`, recordSize: RECORD_BYTES, records: RECORDS, maxSeconds: MAX_SECONDS, acks: -1, replicationFactor }
}

const PROFILE_HOOK = new URL('./cpu-profile-hook.mjs', import.meta.url).pathname

/**
 * Runs `start` with the environment set to profile the brokers it spawns (Node refuses --cpu-prof
 * in NODE_OPTIONS, so a preloaded hook does the sampling), then puts it back.
 */
async function profiled<T>(start: () => Promise<T>): Promise<T> {
  if (!args.profile) return start()
  const saved = { NODE_OPTIONS: process.env.NODE_OPTIONS, BITACORA_CPU_PROFILE_DIR: process.env.BITACORA_CPU_PROFILE_DIR }
  process.env.NODE_OPTIONS = `--import ${PROFILE_HOOK}`
  process.env.BITACORA_CPU_PROFILE_DIR = args.profile
  try {
    return await start()
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
}

async function oneBroker(): Promise<RunResult> {
  const server = await profiled(() => startBitacora())
  try {
    const { result, cpu } = await charged([server.pid], () => runWorkload<ProduceResult>(spec(server.url, 1), profileOptions()))
    return { ...result, brokerCpuSeconds: cpu }
  } finally {
    await server.stop()
  }
}

async function threeBrokers(): Promise<RunResult> {
  const t = new Teardowns()
  try {
    const c = await ProcessCluster.create(t, [1, 2, 3])
    await profiled(() => c.startAll())
    try {
      const pids = new Map(c.ids.map((id) => [id, c.processes.get(id)!.child.pid!]))
      const { result, cpu } = await charged([...pids.values()], () => runWorkload<ProduceResult>(spec(c.url(1), 3), profileOptions()))
      // A figure for the wrong replication factor is worse than none (a stale dist/ once made RF=1).
      const partition = (await c.metadata(1, ['rf3'])).topics?.[0]?.partitions?.[0]
      const replicas = partition?.replicas ?? []
      if (replicas.length !== 3) throw new Error(`topic rf3 has replicas [${replicas.join(', ')}], not 3: rebuild dist/ (npm run build)?`)
      const leaderIndex = [...pids.keys()].indexOf(partition?.leaderId ?? -1)
      const leaderFirst = leaderIndex < 0 ? cpu : [cpu[leaderIndex], ...cpu.filter((_, i) => i !== leaderIndex)]
      return { ...result, brokerCpuSeconds: leaderFirst }
    } finally {
      // SIGTERM (a clean exit writes a --cpu-prof profile); the teardown SIGKILLs what is left.
      await Promise.all(c.ids.map((id) => c.stop(id, 'SIGTERM')))
    }
  } finally {
    await t.run()
  }
}

const profileOptions = () => (args.profile ? { cpuProfDir: args.profile } : {})

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const spread = (xs: readonly number[]) => `${Math.min(...xs).toLocaleString('en')}–${Math.max(...xs).toLocaleString('en')}`

/** CPU microseconds per record. */
const perRecord = (seconds: number, records: number) => ((seconds * 1e6) / records).toFixed(2)

function line(label: string, r: RunResult): string {
  const cut = r.records < RECORDS ? ` (cut at ${MAX_SECONDS} s: ${r.records} of ${RECORDS})` : ''
  const lat = `, latency p50 ${r.latency.p50Ms.toFixed(1)} ms p99 ${r.latency.p99Ms.toFixed(1)} ms${r.failed ? `, ${r.failed} failed` : ''}`
  const brokers = r.brokerCpuSeconds.map((s) => perRecord(s, r.records)).join(' + ')
  const cpu = `; CPU µs/record: client ${perRecord(r.cpuSeconds, r.records)}, broker${r.brokerCpuSeconds.length > 1 ? 's (leader first)' : ''} ${brokers}`
  return `${label}: ${Math.round(r.recordsPerSec).toLocaleString('en')} records/s${lat}${cut}${cpu}`
}

async function main(): Promise<void> {
  installCleanupHandlers()
  const one: number[] = []
  const three: number[] = []
  const ratios: number[] = []
  for (let run = 1; run <= RUNS; run++) {
    let a: RunResult | undefined
    let b: RunResult | undefined
    if (args.only !== '3') {
      a = await oneBroker()
      one.push(Math.round(a.recordsPerSec))
      console.log(`run ${run} ${line('1 broker acks=all', a)}`)
    }
    if (args.only !== '1') {
      b = await threeBrokers()
      three.push(Math.round(b.recordsPerSec))
      console.log(`run ${run} ${line('3 brokers RF=3 acks=all', b)}`)
    }
    if (a && b) {
      ratios.push(b.recordsPerSec / a.recordsPerSec)
      console.log(`run ${run} RF=3 / 1 broker: ${((b.recordsPerSec / a.recordsPerSec) * 100).toFixed(0)} %`)
    }
  }
  if (one.length) console.log(`1 broker acks=all: median ${median(one).toLocaleString('en')} records/s (${spread(one)}, ${one.length} runs)`)
  if (three.length) console.log(`3 brokers RF=3 acks=all: median ${median(three).toLocaleString('en')} records/s (${spread(three)}, ${three.length} runs)`)
  if (ratios.length) console.log(`RF=3 / 1 broker, same run: median ${(median(ratios) * 100).toFixed(0)} % (${ratios.map((r) => `${(r * 100).toFixed(0)} %`).join(', ')})`)
}

try {
  await main()
} catch (err) {
  console.error(`rf3: ${(err as Error).stack ?? err}`)
  process.exitCode = 1
} finally {
  await cleanupAll()
}
