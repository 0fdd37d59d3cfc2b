// The replica side of issue 18's idle figure, without the network: three ReplicaManagers (as
// three brokers) in this process, each holding every partition of one topic of --partitions
// RF=3 partitions on a real data dir, the Raft messages between them delivered a turn later
// (setImmediate, as a peer's would arrive) instead of over the peer links. After the partitions
// are led and a settling pause, it measures the process's CPU (user + system) over --seconds,
// --runs times, and prints it per manager (one third): what ticks, parked fetches and their
// answers cost the replicas and cores, apart from the WebSocket path and protobuf decoding that
// perf/idle-cluster.ts also counts. In-process, so no lock is needed, but the figure moves with
// the machine's load: compare builds interleaved.
//
//   npx tsx perf/idle-managers.ts [--partitions 1000] [--seconds 10] [--runs 3] [--tick-ms 50]
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { Logger } from '../src/broker/log.js'
import { ReplicaManager } from '../src/broker/partition/replica-manager.js'
import { MetadataImage } from '../src/metadata/image.js'
import { newTopicRecords } from '../src/metadata/records.js'
import type { Message } from '../src/raft/types.js'

const { values: args } = parseArgs({
  options: { partitions: { type: 'string' }, seconds: { type: 'string' }, runs: { type: 'string' }, 'tick-ms': { type: 'string' } },
})
const PARTITIONS = Number(args.partitions ?? 1000)
const SECONDS = Number(args.seconds ?? 10)
const RUNS = Number(args.runs ?? 3)
const TICK_MS = Number(args['tick-ms'] ?? 50)
const NODES = [1, 2, 3]
/** After opening: every partition elects its leader and the followers catch up; the JIT settles. */
const SETTLE_MS = 8_000
/** The cleaner would run every 5 minutes in a broker: not within the windows. */
const CLEANER_INTERVAL_MS = 3_600_000
const TOPIC_ID = 'd1'.repeat(16)

const quiet: Logger = { info: () => undefined, warn: (msg, f) => console.error(msg, f), error: (msg, f) => console.error(msg, f) }
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

async function main(): Promise<void> {
  const managers = new Map<number, ReplicaManager>()
  const dirs: string[] = []
  try {
    for (const node of NODES) {
      const dir = mkdtempSync(join(tmpdir(), `bitacora-idle-managers-${node}-`))
      dirs.push(dir)
      const send = (topicId: string, partition: number, m: Message) =>
        setImmediate(() => void managers.get(m.to)?.replica(topicId, partition)?.receive(m))
      const m = new ReplicaManager(dir, node, TICK_MS, CLEANER_INTERVAL_MS, quiet, undefined, send, `${node}`.repeat(32))
      managers.set(node, m)
      await m.prepare()
      m.start()
    }
    // Preferred replicas rotate over the nodes, as placement puts them.
    const replicas = Array.from({ length: PARTITIONS }, (_, p) => [0, 1, 2].map((i) => NODES[(p + i) % 3]))
    const image = MetadataImage.EMPTY.apply(newTopicRecords({ name: 'idle', id: TOPIC_ID, configs: {} }, replicas))
    await Promise.all([...managers.values()].map((m) => m.reconcile({ image, changes: null })))
    await sleep(SETTLE_MS)
    const led = replicas.filter((_, p) => NODES.some((n) => managers.get(n)!.replica(TOPIC_ID, p)?.isLeader)).length
    console.log(`${led} of ${PARTITIONS} partitions led; tick ${TICK_MS} ms`)
    const perManager: number[] = []
    for (let run = 1; run <= RUNS; run++) {
      const before = process.cpuUsage()
      await sleep(SECONDS * 1000)
      const used = process.cpuUsage(before)
      const pct = ((used.user + used.system) / 1e3 / (SECONDS * 1000)) * 100 / NODES.length
      perManager.push(pct)
      console.log(`run ${run}: ${pct.toFixed(2)} % of a core per manager over ${SECONDS} s`)
    }
    console.log(`median: ${median(perManager).toFixed(2)} % of a core per manager (${Math.min(...perManager).toFixed(2)}–${Math.max(...perManager).toFixed(2)})`)
  } finally {
    for (const m of managers.values()) await m.closeAll()
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  }
}

await main()
