// Cluster timings with real broker processes on loopback (issue 17's figures). Run it under the
// process-test lock on a shared machine: flock /tmp/bitacora-process-tests.lock npx tsx ...
//
//   up        ./cluster.sh up 3 until it says ready (a controller elected, every broker
//             registered and unfenced), wall time; each run on a fresh cluster directory
//   failover  SIGKILL of the active controller -> the next successful CreateTopics, sent to a
//             survivor (which forwards it to whichever node is the controller); the killed node
//             is restarted and the cluster ready again before the next round
//   shutdown  SIGTERM of the active controller (a controlled shutdown) -> the next successful
//             CreateTopics through a survivor, and -> the stopped broker shown fenced by every
//             survivor; restarted and ready again before the next round
//   idle      CPU seconds (user + system, /proc/PID/stat) of each broker process of a 3-node
//             cluster with no topics, over an idle window after it is ready
//   partition-failover (issue 18; not in the default set)
//             a partition with 3 replicas under acks=all writes (one in flight, as fast as they
//             are acknowledged): SIGKILL of its leader -> the first acknowledgement of a write
//             sent after the kill; the killed broker restarted and the cluster ready before the
//             next round (leadership is not moved back: --leader-rebalance-after-ms 0); also, as
//             for partition-sigstop, when both survivors name a new leader and when a write sent
//             to it directly is first acknowledged (where the time goes: election or re-routing)
//   partition-sigstop (issue 18; not in the default set)
//             the same load: SIGSTOP of the partition's leader -> both survivors name a new leader,
//             -> the first write that leader acknowledges when a fresh client sends it there, and
//             -> the first acknowledgement of a write of the load sent after the stop (the
//             client's request timeout is 2 s here: a write in flight to a stopped broker waits that long);
//             SIGCONT, and every node naming one leader again, before the next round
//
//   scale (issue 18; not in the default set)
//             one topic of --partitions (1,000) partitions, RF=3, on 3 brokers: creation -> every
//             partition's leader named by every node (Metadata); then CPU seconds, RSS (VmRSS) and
//             open file descriptors of each broker over --idle-seconds idle; then all three
//             stopped (SIGTERM, then in a second round SIGKILL) and started again -> every
//             leader named by every node again, with the fsyncs each broker issued from its
//             start until then (its "broker stopping" log line: read at the SIGTERM that follows)
//
//   npx tsx perf/cluster-timings.ts [--only up|failover|shutdown|idle|partition-failover|partition-sigstop|scale] [--up-runs 3] [--failovers 10] [--idle-seconds 60] [--partitions 1000] [--json FILE]
//
// --json FILE (partition-failover and partition-sigstop): also writes each round's times there
// (PartitionFailoverTimes), for the perf report (perf/run.ts).
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createClient } from '../src/client/node.js'
import { ErrorCode } from '../src/protocol/index.js'
import { ProcessCluster, until } from '../test/integration/quorum-nodes.js'
import { cpuSeconds, rssMb } from './proc-stats.js'
import { Teardowns } from './teardowns.js'

const args = new Map<string, string>()
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1])
const ONLY = args.get('only')
const UP_RUNS = Number(args.get('up-runs') ?? 3)
const FAILOVERS = Number(args.get('failovers') ?? 10)
const IDLE_SECONDS = Number(args.get('idle-seconds') ?? 60)
const PARTITIONS = Number(args.get('partitions') ?? 1000)
/** How long the scale mode waits for every leader (the target is 30 s; the wait is longer, to measure a miss). */
const JSON_FILE = args.get('json')
const SCALE_LEADERS_WAIT_MS = Number(args.get('leaders-wait-s') ?? 180) * 1000
const ROOT = new URL('../', import.meta.url).pathname
/** partition-sigstop: the client's request timeout, so a write stuck on the stopped leader is retried elsewhere soon. */
const STOP_REQUEST_TIMEOUT_MS = 2_000

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

function cluster(script: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', [join(ROOT, 'cluster.sh'), ...script], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.once('exit', (status) => resolve({ status, stdout, stderr }))
  })
}

async function upTimes(): Promise<void> {
  const times: number[] = []
  for (let run = 1; run <= UP_RUNS; run++) {
    const dir = mkdtempSync(join(tmpdir(), 'bitacora-up-'))
    const [base] = await consecutiveFreePorts(3)
    const env = { ...process.env, BITACORA_CLUSTER_DIR: dir, BITACORA_BASE_PORT: String(base) }
    try {
      const started = Date.now()
      const up = await cluster(['up', '3'], env)
      const ms = Date.now() - started
      if (up.status !== 0) throw new Error(`cluster.sh up failed: ${up.stderr}`)
      times.push(ms)
      console.log(`up run ${run}: ready in ${ms} ms`)
    } finally {
      await cluster(['down'], env)
      rmSync(dir, { recursive: true, force: true })
    }
  }
  console.log(`up: median ${median(times)} ms, worst ${Math.max(...times)} ms (${UP_RUNS} runs)`)
}

/** A base port whose next `n` ports are free now. */
async function consecutiveFreePorts(n: number): Promise<number[]> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 40_000)
    const ports = Array.from({ length: n }, (_, i) => base + i)
    if ((await Promise.all(ports.map(portFree))).every(Boolean)) return ports
  }
  throw new Error(`no ${n} consecutive free ports`)
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer()
    s.once('error', () => resolve(false))
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)))
  })
}

async function failovers(): Promise<void> {
  const t = new Teardowns()
  try {
    const c = await ProcessCluster.create(t, [1, 2, 3])
    await c.startAll()
    const times: number[] = []
    for (let round = 1; round <= FAILOVERS; round++) {
      const controller = await c.controller([1, 2, 3])
      const survivor = c.ids.find((id) => id !== controller)!
      const killedAt = Date.now()
      await c.stop(controller, 'SIGKILL')
      await createUntilDone(c, survivor, `after-failover-${round}`)
      const ms = Date.now() - killedAt
      times.push(ms)
      console.log(`failover ${round}: node ${controller} killed, next successful CreateTopics (through node ${survivor}) after ${ms} ms`)
      await c.start(controller)
      await c.ready()
    }
    console.log(`failover: median ${median(times)} ms, worst ${Math.max(...times)} ms (${FAILOVERS} rounds)`)
  } finally {
    await t.run()
  }
}

async function shutdowns(): Promise<void> {
  const t = new Teardowns()
  try {
    const c = await ProcessCluster.create(t, [1, 2, 3])
    await c.startAll()
    const creates: number[] = []
    const fences: number[] = []
    for (let round = 1; round <= FAILOVERS; round++) {
      const controller = await c.controller([1, 2, 3])
      const survivors = c.ids.filter((id) => id !== controller)
      const signalledAt = Date.now()
      const exited = c.stop(controller, 'SIGTERM')
      const created = createUntilDone(c, survivors[0], `after-shutdown-${round}`).then(() => Date.now() - signalledAt)
      const fenced = until('every survivor to show it fenced', async () => {
        for (const id of survivors) if (!(await c.brokers(id)).includes(`${controller} fenced`)) return null
        return Date.now() - signalledAt
      }, 60_000)
      const [createMs, fencedMs] = await Promise.all([created, fenced, exited])
      creates.push(createMs)
      fences.push(fencedMs)
      console.log(`shutdown ${round}: node ${controller} sent SIGTERM, next successful CreateTopics (through node ${survivors[0]}) after ${createMs} ms, fenced in every survivor's Metadata after ${fencedMs} ms`)
      await c.start(controller)
      await c.ready()
    }
    console.log(`shutdown -> CreateTopics: median ${median(creates)} ms, worst ${Math.max(...creates)} ms (${FAILOVERS} rounds)`)
    console.log(`shutdown -> fenced everywhere: median ${median(fences)} ms, worst ${Math.max(...fences)} ms (${FAILOVERS} rounds)`)
  } finally {
    await t.run()
  }
}

/**
 * CreateTopics of `name` through node `id` until it took effect: answered done, or
 * TOPIC_ALREADY_EXISTS — an earlier try committed though its answer was lost with the controller
 * that appended it (REQUEST_TIMED_OUT, "outcome unknown"), as a client retrying sees it.
 */
async function createUntilDone(c: ProcessCluster, id: number, name: string): Promise<void> {
  let last = 'none'
  await until(`CreateTopics ${name} through node ${id}`, async () => {
    const r = await c.createTopic(id, name)
    const code = r.error?.code ?? ErrorCode.NONE
    last = `${code}: ${r.error?.message ?? ''}`
    if (code === ErrorCode.TOPIC_ALREADY_EXISTS) console.log(`  ${name}: TOPIC_ALREADY_EXISTS on a retry (an earlier try committed)`)
    return code === ErrorCode.NONE || code === ErrorCode.TOPIC_ALREADY_EXISTS
  }, 60_000).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}; the last answer: ${last}`)
  })
}

async function idle(): Promise<void> {
  const t = new Teardowns()
  try {
    const c = await ProcessCluster.create(t, [1, 2, 3])
    await c.startAll()
    await new Promise((resolve) => setTimeout(resolve, 5_000)) // past the start's JIT and first snapshots
    const pids = c.ids.map((id) => [id, c.processes.get(id)!.child.pid!] as const)
    const before = pids.map(([, pid]) => cpuSeconds(pid))
    await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000))
    const used = pids.map(([id, pid], i) => [id, cpuSeconds(pid) - before[i]] as const)
    for (const [id, s] of used) console.log(`idle: node ${id} used ${s.toFixed(2)} CPU s in ${IDLE_SECONDS} s (${((s / IDLE_SECONDS) * 100).toFixed(1)} % of a core)`)
  } finally {
    await t.run()
  }
}

function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length
}

/**
 * Waits until each of the topic's partitions has a leader that serves (ListOffsets(latest) answers
 * without an error there: it leads and its epoch is committed) and that every node's Metadata
 * names; the ms taken since `from`. (Metadata alone would not do after a restart: it names the
 * leaders recorded before it until the new ones report.)
 */
async function allLeadersKnown(c: ProcessCluster, topic: string, partitions: number, from: number): Promise<number> {
  const indexes = Array.from({ length: partitions }, (_, p) => p)
  let missing = -1
  let example = ''
  return until(`a serving leader named by every node for each of ${topic}'s ${partitions} partitions`, async () => {
    const serving = new Map<number, number>() // partition -> the node serving it
    const answers = new Map<number, string[]>() // partition -> each node's ListOffsets answer
    for (const id of c.ids) {
      const r = await c.call(id, { listOffsets: { topics: [{ name: topic, partitions: indexes.map((index) => ({ index, timestamp: -1 })) }] } })
      for (const p of r.listOffsets?.topics?.[0]?.partitions ?? []) {
        const code = p.error?.code ?? 0
        if (code === 0) serving.set(p.index ?? 0, id)
        answers.set(p.index ?? 0, [...(answers.get(p.index ?? 0) ?? []), `node ${id}: ${code === 0 ? `serves, epoch ${p.leaderEpoch}` : `${ErrorCode[code]} (hint ${p.leaderHint})`}`])
      }
    }
    const named = await Promise.all(c.ids.map(async (id) => (await c.metadata(id, [topic])).topics?.[0]?.partitions ?? []))
    const namedOf = (p: number) => named.map((ps) => ps.find((x) => (x.index ?? 0) === p))
    const unled = indexes.filter((p) => !serving.has(p) || !namedOf(p).every((x) => x?.leaderId === serving.get(p)))
    if (unled.length !== missing) console.log(`  ${((Date.now() - from) / 1000).toFixed(1)} s: ${unled.length} partitions without a serving leader named by every node`)
    missing = unled.length
    const p = unled[0]
    if (p !== undefined) example = `partition ${p}: ${answers.get(p)?.join('; ')}; Metadata names ${namedOf(p).map((x) => `${x?.leaderId}@${x?.leaderEpoch}`).join(', ')}`
    return missing === 0 ? Date.now() - from : null
  }, SCALE_LEADERS_WAIT_MS).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}; e.g. ${example}`)
  })
}

/** Stops every node with `signal`, starts them all again, and waits for every leader; prints the fsyncs each issued until then. */
async function restartAll(c: ProcessCluster, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  await Promise.all(c.ids.map((id) => c.stop(id, signal)))
  const started = Date.now()
  await Promise.all(c.ids.map((id) => c.start(id)))
  const ms = await allLeadersKnown(c, 'scale', PARTITIONS, started)
  console.log(`scale: after ${signal} of all three, every leader named by every node ${ms} ms after starting them`)
  await reportFsyncs(c, `since the restart after ${signal}`)
}

/** SIGTERMs every node and prints the fsyncs each counted from its start to the stop (its "broker stopping" line). */
async function reportFsyncs(c: ProcessCluster, what: string): Promise<void> {
  const procs = c.ids.map((id) => [id, c.processes.get(id)!] as const)
  await Promise.all(c.ids.map((id) => c.stop(id, 'SIGTERM')))
  for (const [id, p] of procs) {
    const m = /"msg":"broker stopping".*?"fsyncs":(\d+),"quorumStateWrites":(\d+)/.exec(p.stderr())
    console.log(`scale: node ${id} fsyncs ${what}: ${m === null ? 'unknown (no "broker stopping" line)' : `${m[1]}, of which quorum-state file writes ${m[2]} (2 fsyncs each)`}`)
  }
}

async function scale(): Promise<void> {
  const t = new Teardowns()
  const c = await ProcessCluster.create(t, [1, 2, 3])
  try {
    await c.startAll()
    const client = createClient({ brokers: c.ids.map((id) => c.url(id)), clientId: 'scale' })
    const createdAt = Date.now()
    const [created] = await client.admin().createTopics([{ topic: 'scale', partitions: PARTITIONS, replicationFactor: 3 }], { timeoutMs: 120_000 })
    await client.close()
    if (created.error) throw created.error
    console.log(`scale: CreateTopics of ${PARTITIONS} partitions answered after ${Date.now() - createdAt} ms`)
    const ms = await allLeadersKnown(c, 'scale', PARTITIONS, createdAt)
    console.log(`scale: every leader named by every node ${ms} ms after CreateTopics was sent`)
    await new Promise((resolve) => setTimeout(resolve, 10_000)) // past the creation's catch-up and JIT
    const pids = c.ids.map((id) => [id, c.processes.get(id)!.child.pid!] as const)
    const before = pids.map(([, pid]) => cpuSeconds(pid))
    await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000))
    for (const [i, [id, pid]] of pids.entries()) {
      const s = cpuSeconds(pid) - before[i]
      console.log(`scale: idle node ${id}: ${s.toFixed(2)} CPU s in ${IDLE_SECONDS} s (${((s / IDLE_SECONDS) * 100).toFixed(1)} % of a core), RSS ${rssMb(pid).toFixed(0)} MB, ${openFds(pid)} open fds`)
    }
    await restartAll(c, 'SIGTERM')
    await Promise.all(c.ids.map((id) => c.start(id)))
    await allLeadersKnown(c, 'scale', PARTITIONS, Date.now())
    await restartAll(c, 'SIGKILL')
  } catch (err) {
    for (const [id, p] of c.processes) writeFileSync(join(tmpdir(), `bitacora-scale-node-${id}.log`), p.stderr())
    console.log(`scale: failed; each running broker's log is in ${join(tmpdir(), 'bitacora-scale-node-ID.log')}`)
    throw err
  } finally {
    await t.run()
  }
}

/** Each round's times, ms from the stop of the partition's leader (null: that round's probe failed). */
export interface PartitionFailoverTimes {
  how: 'kill' | 'stop'
  rounds: number
  /** To the first acknowledgement of a write the load sent after the stop. */
  firstAckMs: number[]
  /** To both survivors naming a new leader. */
  electedMs: Array<number | null>
  /** To the first write the new leader acknowledged when sent to it directly. */
  directAckMs: Array<number | null>
}

/**
 * A partition with 3 replicas under acks=all writes (one in flight, as fast as they are
 * acknowledged); each round stops its leader and times the first acknowledgement of a write sent
 * after that. `kill`: SIGKILL, then restart it. `stop`: SIGSTOP (alive but silent: its links stay
 * open, so only the fetch timeout plus the election timeout find it out), also timing when both
 * survivors name a new leader; then SIGCONT, and wait until every node names one leader again.
 */
async function partitionFailovers(how: 'kill' | 'stop'): Promise<void> {
  const t = new Teardowns()
  try {
    const c = await ProcessCluster.create(t, [1, 2, 3], [1, 2, 3], ['--leader-rebalance-after-ms', '0'])
    await c.startAll()
    // A stopped leader never answers: a write in flight to it waits for the client's request
    // timeout (30 s by default) before the producer re-routes, so SIGSTOP rounds use a short one.
    const requestTimeoutMs = how === 'stop' ? STOP_REQUEST_TIMEOUT_MS : undefined
    const client = createClient({ brokers: c.ids.map((id) => c.url(id)), clientId: 'partition-failover', ...(requestTimeoutMs ? { requestTimeoutMs } : {}) })
    t.teardown(() => client.close())
    const [created] = await client.admin().createTopics([{ topic: 'failover', partitions: 1, replicationFactor: 3 }])
    if (created.error) throw created.error
    const producer = await client.producer({ acks: 'all', lingerMs: 0 })
    t.teardown(() => producer.close())
    /** When each write was sent and acknowledged (ms since the epoch), in order. */
    const acks: Array<{ sent: number; acked: number }> = []
    let writing = true
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        const sent = Date.now()
        try {
          await producer.send({ topic: 'failover', partition: 0, value: `w-${i}` })
          acks.push({ sent, acked: Date.now() })
        } catch (err) {
          console.log(`  write ${i} failed after the producer's retries: ${(err as Error).message}`)
        }
      }
    })()
    const leaderNamedBy = (ids: readonly number[], not = -1) => until(`one leader named by nodes ${ids.join(', ')}`, async () => {
      const named = await Promise.all(ids.map(async (id) => (await c.metadata(id, ['failover'])).topics![0].partitions![0].leaderId ?? -1))
      return named.every((l) => l === named[0]) && named[0] >= 0 && named[0] !== not ? named[0] : null
    }, 60_000)
    const times: number[] = []
    const elections: number[] = []
    const directs: number[] = []
    for (let round = 1; round <= FAILOVERS; round++) {
      const leader = await leaderNamedBy(c.ids)
      await until('writes acknowledged by this leader', async () => acks.length > 0 && Date.now() - acks[acks.length - 1].acked < 200)
      const stoppedAt = Date.now()
      if (how === 'kill') await c.stop(leader, 'SIGKILL')
      else c.signal(leader, 'SIGSTOP')
      const survivors = c.ids.filter((id) => id !== leader)
      // When both survivors name a new leader, and the first write that leader acknowledges when
      // asked directly (what the cluster can do, whatever the client's routing): where the time goes.
      const elected = leaderNamedBy(survivors, leader).then(async (next) => [Date.now() - stoppedAt, (await firstDirectAck(c.url(next))) - stoppedAt] as const).catch((err: unknown) => {
        console.log(`  round ${round}: no new leader or no direct write: ${(err as Error).message}`)
        return [Number.NaN, Number.NaN] as const
      })
      const first = await until('a write sent after the stop to be acknowledged', async () => acks.find((a) => a.sent > stoppedAt), 90_000)
      const ms = first.acked - stoppedAt
      times.push(ms)
      const [electedMs, directMs] = await elected
      elections.push(electedMs)
      directs.push(directMs)
      if (how === 'kill') {
        console.log(`partition failover ${round}: leader ${leader} killed, survivors named a new leader after ${electedMs} ms, which acknowledged a write sent to it after ${directMs} ms; the load's first acknowledged write after ${ms} ms`)
        await c.start(leader)
        await c.ready()
      } else {
        console.log(`partition SIGSTOP ${round}: leader ${leader} stopped, survivors named a new leader after ${electedMs} ms, which acknowledged a write sent to it after ${directMs} ms; the load's first acknowledged write after ${ms} ms`)
        c.signal(leader, 'SIGCONT')
        await leaderNamedBy(c.ids)
        await c.ready()
      }
    }
    writing = false
    await writer
    const what = how === 'kill' ? 'partition failover' : `partition SIGSTOP (client requestTimeoutMs ${STOP_REQUEST_TIMEOUT_MS})`
    console.log(`${what}: first acknowledged write: ${summary(times)} (${FAILOVERS} rounds)`)
    console.log(`${what}: new leader named by both survivors: ${summary(elections)}`)
    console.log(`${what}: first write acknowledged by the new leader, sent to it directly: ${summary(directs)}`)
    if (JSON_FILE) {
      const result: PartitionFailoverTimes = { how, rounds: FAILOVERS, firstAckMs: times, electedMs: elections.map(orNull), directAckMs: directs.map(orNull) }
      writeFileSync(JSON_FILE, JSON.stringify(result))
    }
  } finally {
    await t.run()
  }
}

/** When (ms since the epoch) a one-record acks=all write sent to `url` alone is first acknowledged (a fresh client, retried). */
async function firstDirectAck(url: string): Promise<number> {
  const client = createClient({ brokers: [url], clientId: 'partition-failover-probe', requestTimeoutMs: STOP_REQUEST_TIMEOUT_MS })
  try {
    const producer = await client.producer({ acks: 'all', lingerMs: 0, deliveryTimeoutMs: 60_000 })
    try {
      await producer.send({ topic: 'failover', partition: 0, value: 'probe' })
      return Date.now()
    } finally {
      await producer.close()
    }
  } finally {
    await client.close()
  }
}

const orNull = (ms: number) => (Number.isNaN(ms) ? null : ms)

function summary(times: readonly number[]): string {
  const sorted = [...times].sort((a, b) => a - b)
  const p99 = sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)]
  return `median ${median(times)} ms, p99 ${p99} ms, best ${sorted[0]} ms, worst ${sorted[sorted.length - 1]} ms`
}

if (ONLY === 'partition-failover') await partitionFailovers('kill')
if (ONLY === 'partition-sigstop') await partitionFailovers('stop')
if (ONLY === 'scale') await scale()
if (ONLY === undefined || ONLY === 'up') await upTimes()
if (ONLY === undefined || ONLY === 'failover') await failovers()
if (ONLY === undefined || ONLY === 'shutdown') await shutdowns()
if (ONLY === undefined || ONLY === 'idle') await idle()
