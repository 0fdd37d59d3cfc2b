// Issue 18's idle figure on its own: CPU of each broker of a 3-node cluster holding one topic of
// --partitions (1,000) RF=3 partitions, all idle (no client traffic: only the replicas' parked
// fetches, the ticks and the controller's heartbeats). Run it under the process-test lock:
//
//   flock /tmp/bitacora-process-tests.lock npx tsx perf/idle-cluster.ts [--partitions 1000] [--seconds 30] [--windows 3] [--settle-seconds 10] [--profile DIR] [--json FILE]
//
// Starts fresh brokers (the built CLI in dist/: `npm run build` first), creates the topic, waits
// until every node names a leader for each partition and then --settle-seconds more (the
// creation's catch-up and the JIT), then measures --windows consecutive windows of --seconds: each broker's
// CPU seconds (user + system, /proc/PID/stat) as a share of one core, and the RSS at the end.
// --profile DIR: each broker writes DIR/<pid>.cpuprofile of the first window only
// (perf/cpu-profile-hook.mjs, bounded by SIGUSR2). --json FILE: also writes the figures there
// (IdleClusterResult), for the perf report (perf/run.ts).
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { createClient } from '../src/client/node.js'
import { ProcessCluster, until } from '../test/integration/quorum-nodes.js'
import { cpuSeconds, rssMb } from './proc-stats.js'
import { Teardowns } from './teardowns.js'

const { values: args } = parseArgs({
  options: { partitions: { type: 'string' }, seconds: { type: 'string' }, windows: { type: 'string' }, 'settle-seconds': { type: 'string' }, profile: { type: 'string' }, json: { type: 'string' } },
})
const PARTITIONS = Number(args.partitions ?? 1000)
const WINDOW_SECONDS = Number(args.seconds ?? 30)
const WINDOWS = Number(args.windows ?? 3)
/** After every leader is named: the catch-up of the creation and the JIT settle before measuring. */
const SETTLE_MS = Number(args['settle-seconds'] ?? 10) * 1000
/** How long the topic's partitions may take to all have a leader (the target is 30 s). */
const LEADERS_WAIT_MS = 180_000
const PROFILE_HOOK = new URL('./cpu-profile-hook.mjs', import.meta.url).pathname

export interface IdleClusterResult {
  partitions: number
  windowSeconds: number
  /** Per broker: partitions it leads, its CPU in each window (% of one core) and its RSS at the end. */
  brokers: Array<{ id: number; leads: number; cpuPercent: number[]; rssMb: number }>
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

/** Starts the cluster with the environment set to profile on SIGUSR2 when asked, then puts it back. */
async function start(c: ProcessCluster): Promise<void> {
  if (!args.profile) return c.startAll()
  const saved = { ...process.env }
  Object.assign(process.env, { NODE_OPTIONS: `--import ${PROFILE_HOOK}`, BITACORA_CPU_PROFILE_DIR: args.profile, BITACORA_CPU_PROFILE_ON_SIGNAL: '1' })
  try {
    await c.startAll()
  } finally {
    for (const k of ['NODE_OPTIONS', 'BITACORA_CPU_PROFILE_DIR', 'BITACORA_CPU_PROFILE_ON_SIGNAL']) {
      if (saved[k] === undefined) delete process.env[k]
      else process.env[k] = saved[k]
    }
  }
}

/** Each node's count of the topic's partitions it leads, once every node names a leader for all of them. */
async function leadersNamed(c: ProcessCluster): Promise<Map<number, number>> {
  return until(`every node to name a leader for each of the ${PARTITIONS} partitions`, async () => {
    let led: Map<number, number> | null = new Map()
    for (const id of c.ids) {
      const partitions = (await c.metadata(id, ['idle'])).topics?.[0]?.partitions ?? []
      const named = partitions.filter((p) => (p.leaderId ?? -1) >= 0)
      if (named.length < PARTITIONS) led = null
      else if (led !== null && id === c.ids[0]) for (const p of named) led.set(p.leaderId!, (led.get(p.leaderId!) ?? 0) + 1)
    }
    return led
  }, LEADERS_WAIT_MS)
}

async function main(): Promise<void> {
  const t = new Teardowns()
  try {
    const c = await ProcessCluster.create(t, [1, 2, 3])
    await start(c)
    const client = createClient({ brokers: c.ids.map((id) => c.url(id)), clientId: 'idle-cluster' })
    const [created] = await client.admin().createTopics([{ topic: 'idle', partitions: PARTITIONS, replicationFactor: 3 }], { timeoutMs: 120_000 })
    await client.close()
    if (created.error) throw created.error
    const led = await leadersNamed(c)
    console.log(`${PARTITIONS} partitions led: ${c.ids.map((id) => `node ${id} ${led.get(id) ?? 0}`).join(', ')}`)
    await sleep(SETTLE_MS)
    const pids = c.ids.map((id) => c.processes.get(id)!.child.pid!)
    const shares: number[][] = c.ids.map(() => [])
    for (let w = 1; w <= WINDOWS; w++) {
      const profiling = args.profile !== undefined && w === 1
      if (profiling) for (const pid of pids) process.kill(pid, 'SIGUSR2')
      const before = pids.map(cpuSeconds)
      await sleep(WINDOW_SECONDS * 1000)
      const used = pids.map((pid, i) => cpuSeconds(pid) - before[i])
      if (profiling) for (const pid of pids) process.kill(pid, 'SIGUSR2')
      used.forEach((s, i) => shares[i].push((s / WINDOW_SECONDS) * 100))
      console.log(`window ${w}: ${c.ids.map((id, i) => `node ${id} ${((used[i] / WINDOW_SECONDS) * 100).toFixed(1)} %`).join(', ')} of a core over ${WINDOW_SECONDS} s`)
    }
    for (const [i, id] of c.ids.entries()) {
      const s = shares[i]
      console.log(`node ${id} (leads ${led.get(id) ?? 0}): median ${median(s).toFixed(1)} % of a core (${Math.min(...s).toFixed(1)}–${Math.max(...s).toFixed(1)} %), RSS ${rssMb(pids[i]).toFixed(0)} MB`)
    }
    if (args.json) {
      const result: IdleClusterResult = {
        partitions: PARTITIONS, windowSeconds: WINDOW_SECONDS,
        brokers: c.ids.map((id, i) => ({ id, leads: led.get(id) ?? 0, cpuPercent: shares[i], rssMb: rssMb(pids[i]) })),
      }
      writeFileSync(args.json, JSON.stringify(result))
    }
    if (args.profile) await sleep(1_000) // the profiles are written on the second signal
  } finally {
    await t.run()
  }
}

try {
  await main()
} catch (err) {
  console.error(`idle-cluster: ${(err as Error).stack ?? err}`)
  process.exitCode = 1
}
