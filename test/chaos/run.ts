// One chaos run: a cluster with a proxy per broker pair (cluster.ts), an acks=all producer and a
// consumer (workload.ts), the seeded faults of schedule.ts one after another for the run's time;
// then everything healed and checked: a write commits within HEAL_COMMIT_MS_MAX; the histories
// (checks.ts); every node's Metadata alike; replicas' batches byte-identical below the HW.
import { createClient } from '../../src/client/node.js'
import { until } from '../integration/quorum-nodes.js'
import { ChaosCluster } from './cluster.js'
import { checkHistory, duplicated, lostOrMoved } from './checks.js'
import { metadataAgrees, replicasAgree } from './converge.js'
import { CONVERGE_MS_MAX, HEAL_COMMIT_MS_MAX, LEADER_NAMED_MS_MAX, READ_BACK_MS_MAX } from './limits.js'
import { describeFault, makeSchedule, seededRandom, type Fault, type FaultKind } from './schedule.js'
import { readBack, Workload, type Ack } from './workload.js'

export interface ChaosOptions {
  readonly seed: number
  readonly ms: number
  readonly nodes: number
  /** Include the segment-corruption fault. */
  readonly corrupt: boolean
  /** Only these fault kinds (default: all). */
  readonly kinds?: readonly FaultKind[]
  /** The idempotent producer (five requests in flight): any record written twice is a violation. */
  readonly idempotent?: boolean
  /** Records per second the producer offers (default PRODUCER_RECORDS_PER_S). */
  readonly rate?: number
  readonly log: (line: string) => void
}

export interface ChaosResult {
  readonly violations: string[]
  readonly summary: string
  readonly faults: readonly Fault[]
}

const TOPIC = 'chaos'
/** Small segments, so closed segments exist for the corruption fault and rolling happens under faults. */
const SEGMENT_BYTES = 64 * 1024

export async function runChaos(o: ChaosOptions, teardowns: { teardown(fn: () => unknown): void }): Promise<ChaosResult> {
  const started = Date.now()
  const at = () => `[${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s]`
  const ids = Array.from({ length: o.nodes }, (_, i) => i + 1)
  const random = seededRandom(o.seed ^ 0x5eed)
  const schedule = makeSchedule(o.seed, { nodes: ids, corrupt: o.corrupt, kinds: o.kinds })
  o.log(`${at()} seed ${o.seed}: starting ${o.nodes} brokers, a proxy per ordered pair`)
  const cluster = await ChaosCluster.start(teardowns, ids, random)
  const brokers = ids.map((id) => cluster.url(id))
  const admin = createClient({ brokers, clientId: 'chaos-admin' })
  teardowns.teardown(() => admin.close())
  const [created] = await admin.admin().createTopics([{ topic: TOPIC, partitions: o.nodes, replicationFactor: o.nodes, configs: { 'segment.bytes': String(SEGMENT_BYTES) } }])
  if (created.error) throw new Error(`creating ${TOPIC}: ${created.error.message}`)
  await leadersKnown(cluster, o.nodes)
  const workload = new Workload(brokers, TOPIC, o.nodes, o.idempotent === true, o.rate)
  workload.start()
  o.log(`${at()} topic ${TOPIC}: ${o.nodes} partitions, RF=${o.nodes}; producing (acks=all${o.idempotent === true ? ', idempotent' : ''}) and consuming`)

  const faults: Fault[] = []
  let leaderKills = 0
  const faultsEnd = started + o.ms
  for (const s of schedule) {
    if (Date.now() + s.holdMs > faultsEnd) break
    faults.push(s.fault)
    o.log(`${at()} fault ${faults.length}: ${describeFault(s.fault)}; healed after ${s.holdMs} ms, then ${s.gapMs} ms quiet`)
    const fault = s.fault.kind === 'kill-leader' ? await leaderOf(cluster, s.fault.partition) : s.fault
    if (fault === null) {
      o.log(`${at()}   the nodes named no one leader within ${LEADER_NAMED_MS_MAX} ms: skipped`)
      continue
    }
    if (fault.kind === 'kill') {
      const led = await partitionsLedBy(cluster, fault.node)
      if (led !== null && led.length > 0) leaderKills++
      o.log(`${at()}   node ${fault.node} leads ${led === null ? 'unknown partitions (no answer)' : led.length === 0 ? 'no partition' : `partition${led.length > 1 ? 's' : ''} ${led.join(', ')}`} of ${TOPIC}`)
    }
    const heal = await cluster.inject(fault)
    if (s.fault.kind === 'corrupt') o.log(`${at()}   ${cluster.lastCorruption}`)
    await sleep(s.holdMs)
    await heal()
    await sleep(Math.min(s.gapMs, Math.max(0, faultsEnd - Date.now())))
  }

  o.log(`${at()} healing everything; checking`)
  const healed = Date.now()
  await cluster.healAll()
  // While the workload still runs: the cluster must serve a new write soon after healing.
  const heal = await healWrite(brokers, o.nodes)
  const healMs = Date.now() - healed
  const violations: string[] = []
  if (heal.error !== null) violations.push(`liveness: ${heal.error}`)
  o.log(`${at()} a write to every partition committed ${healMs} ms after healing`)
  await cluster.nodes.ready(ids, CONVERGE_MS_MAX)
  await workload.stop()
  const h = workload.history
  for (const a of heal.acks) h.sent.add(a.value)

  violations.push(...await metadataAgrees(cluster, CONVERGE_MS_MAX))
  const allAcks = [...h.acks, ...heal.acks]
  const ends = Array.from({ length: o.nodes }, (_, p) => 1 + Math.max(-1, ...allAcks.filter((a) => a.partition === p).map((a) => a.offset)))
  // A failed read-back is one violation, not one "lost" per acknowledged record.
  const read = await readBack(brokers, TOPIC, ends, READ_BACK_MS_MAX).catch((err: Error) => {
    violations.push(`read-back: ${err.message}`)
    return null
  })
  violations.push(...checkHistory(h, read), ...(read === null ? [] : lostOrMoved(heal.acks, read)))
  // Counted in both modes (the figure to compare); violations only with the idempotent producer.
  const duplicates = read === null ? [] : duplicated(read)
  if (o.idempotent === true) violations.push(...duplicates)
  const hws = await admin.admin().listOffsets(TOPIC, 'latest')
  for (const { partition, offset } of hws) violations.push(...await replicasAgree(cluster, TOPIC, partition, offset, CONVERGE_MS_MAX))

  const kinds = new Map<string, number>()
  for (const f of faults) kinds.set(f.kind, (kinds.get(f.kind) ?? 0) + 1)
  const faultText = `${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}; ${leaderKills} SIGKILLs of a partition leader`
  const summary = `chaos seed ${o.seed}: ${((Date.now() - started) / 60_000).toFixed(1)} min, ${faults.length} faults (${faultText}), `
    + `${h.acks.length} acknowledged, ${h.failed} sends failed, ${h.reads.length} read live, ${read === null ? 'none' : read.length} read back, `
    + `${duplicates.length} duplicated${o.idempotent === true ? ' (idempotent)' : ''}, `
    + `commit after heal ${healMs} ms: ${violations.length === 0 ? 'OK' : `${violations.length} VIOLATIONS`}`
  return { violations, summary, faults }
}

/** A kill of the node every node names as the partition's leader, or null if they do not agree within LEADER_NAMED_MS_MAX. */
async function leaderOf(cluster: ChaosCluster, partition: number): Promise<{ kind: 'kill'; node: number } | null> {
  try {
    return { kind: 'kill', node: (await cluster.nodes.partitionLeader(TOPIC, partition, cluster.ids, LEADER_NAMED_MS_MAX)).leader }
  } catch {
    return null
  }
}

/** The partitions of TOPIC that `node` says it leads (its Metadata), or null if it does not answer within 5 s. */
async function partitionsLedBy(cluster: ChaosCluster, node: number): Promise<number[] | null> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('no answer')), 5_000)))
  try {
    const t = (await Promise.race([cluster.nodes.metadata(node, [TOPIC]), timeout])).topics?.[0]
    return (t?.partitions ?? []).filter((p) => p.leaderId === node).map((p) => p.index ?? 0)
  } catch {
    return null
  } finally {
    clearTimeout(timer)
  }
}

async function leadersKnown(cluster: ChaosCluster, partitions: number): Promise<void> {
  await until(`every partition of ${TOPIC} to have a leader`, async () => {
    const t = (await cluster.nodes.metadata(cluster.ids[0], [TOPIC])).topics?.[0]
    return (t?.partitions ?? []).length === partitions && t!.partitions!.every((p) => (p.leaderId ?? -1) >= 0)
  }, CONVERGE_MS_MAX)
}

/** One acks=all record to every partition on a fresh client (`heal-p<partition>`), within HEAL_COMMIT_MS_MAX. */
async function healWrite(brokers: readonly string[], partitions: number): Promise<{ acks: Ack[]; error: string | null }> {
  const client = createClient({ brokers, clientId: 'chaos-heal-check' })
  try {
    const producer = await client.producer({ acks: 'all', lingerMs: 0, deliveryTimeoutMs: HEAL_COMMIT_MS_MAX })
    const acks = await Promise.all(Array.from({ length: partitions }, async (_, partition) => {
      const value = `heal-p${partition}`
      const m = await producer.send({ topic: TOPIC, partition, value })
      return { value, partition, seq: 0, offset: m.offset }
    }))
    await producer.close()
    return { acks, error: null }
  } catch (err) {
    return { acks: [], error: `no acks=all write committed within ${HEAL_COMMIT_MS_MAX} ms of healing: ${(err as Error).message}` }
  } finally {
    await client.close()
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
