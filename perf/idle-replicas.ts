// Idle replica benchmark (issues 17 and 18: 1,000 idle partitions must not spend the CPU on
// ticks): N single-voter partition replicas on a real data dir in one process, opened and ticked
// by the broker's own ReplicaManager at the broker's tick and Raft timing, with nothing produced.
// After a warm-up it measures the process's CPU time (user + system) over a fixed idle window,
// several times, and prints each window and the median.
//
//   npx tsx perf/idle-replicas.ts [--replicas 1000] [--seconds 10] [--runs 3] [--tick-ms 50]
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Logger } from '../src/broker/log.js'
import { MetadataImage, type MetadataRecord } from '../src/metadata/image.js'
import { ReplicaManager } from '../src/broker/partition/replica-manager.js'

const args = new Map<string, string>()
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1])
const REPLICAS = Number(args.get('replicas') ?? 1000)
const SECONDS = Number(args.get('seconds') ?? 10)
const RUNS = Number(args.get('runs') ?? 3)
const TICK_MS = Number(args.get('tick-ms') ?? 50)
/** Long enough for the JIT and the first group commits of the opening to settle. */
const WARMUP_MS = 3_000
/** The cleaner would run every 5 minutes in a broker: not within the window, not measured here. */
const CLEANER_INTERVAL_MS = 3_600_000

const quiet: Logger = { info: () => undefined, warn: (msg, f) => console.error(msg, f), error: (msg, f) => console.error(msg, f) }

interface Window {
  cpuMs: number
  seconds: number
}

async function measure(): Promise<Window> {
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000))
  const cpu = process.cpuUsage(cpu0)
  return { cpuMs: (cpu.user + cpu.system) / 1000, seconds: (performance.now() - t0) / 1000 }
}

function describe(w: Window): string {
  const ticks = REPLICAS * (w.seconds * 1000) / TICK_MS
  const perTick = ticks === 0 ? '' : `, ${((w.cpuMs * 1000) / ticks).toFixed(2)} µs per replica tick`
  return `${(w.cpuMs / 1000).toFixed(3)} CPU s in ${w.seconds.toFixed(1)} s = ${(w.cpuMs / w.seconds / 10).toFixed(2)} % of a core${perTick}`
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bitacora-idle-replicas-'))
  const manager = new ReplicaManager(dir, 1, TICK_MS, CLEANER_INTERVAL_MS, quiet)
  const cleanup = () => rmSync(dir, { recursive: true, force: true })
  process.once('SIGINT', () => {
    cleanup()
    process.exit(130)
  })
  try {
    const opening = performance.now()
    // The image a one-node cluster's controller would commit: one topic, every partition here.
    const topicId = 'a1'.repeat(16)
    const records: MetadataRecord[] = [{ type: 'topic', name: 'idle', topicId }]
    for (let index = 0; index < REPLICAS; index++) records.push({ type: 'partition', topicId, index, replicas: [1] })
    const failures = await manager.reconcile({ image: MetadataImage.EMPTY.apply(records), changes: null })
    if (failures.length > 0) throw new Error(`${failures.length} partitions failed to open: ${failures[0].error.message}`)
    for (let p = 0; p < REPLICAS; p++) {
      if (manager.partition('idle', p)?.isLeader !== true) throw new Error(`partition ${p} has no leader after opening`)
    }
    console.log(`${REPLICAS} single-voter replicas opened in ${((performance.now() - opening) / 1000).toFixed(1)} s, each its own leader; tick ${TICK_MS} ms`)
    manager.start()
    await new Promise((resolve) => setTimeout(resolve, WARMUP_MS))
    const windows: Window[] = []
    for (let run = 1; run <= RUNS; run++) {
      const w = await measure()
      windows.push(w)
      console.log(`run ${run}: ${describe(w)}`)
    }
    const sorted = [...windows].sort((a, b) => a.cpuMs / a.seconds - b.cpuMs / b.seconds)
    console.log(`median: ${describe(sorted[Math.floor(sorted.length / 2)])}`)
  } finally {
    await manager.closeAll()
    cleanup()
  }
}

await main()
