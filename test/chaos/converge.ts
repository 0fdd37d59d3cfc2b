// After faults are healed, a cluster must converge: every node answers Metadata alike, and the
// replicas of a partition hold the same batches below its high watermark, compared on the
// offline log dump's batch lines (`bitacora log dump --json`: they depend only on the stored
// bytes). Each waits for agreement up to a bound and returns what still differs (empty: agreed).
import { runCli } from '../integration/cli-process.js'
import { until } from '../integration/quorum-nodes.js'
import type { ChaosCluster } from './cluster.js'
import { replicasDiffer } from './checks.js'

/** A node's Metadata answer, normalized (brokers and topics sorted; ids as hex). */
async function metadataOf(cluster: ChaosCluster, id: number): Promise<string> {
  const m = await cluster.nodes.metadata(id)
  const brokers = [...(m.brokers ?? [])].sort((a, b) => (a.id ?? 0) - (b.id ?? 0))
  const topics = [...(m.topics ?? [])].sort((a, b) => (a.name ?? '').localeCompare(b.name ?? ''))
  return JSON.stringify({ ...m, brokers, topics }, (_, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v))
}

export async function metadataAgrees(cluster: ChaosCluster, timeoutMs: number): Promise<string[]> {
  let last: string[] = []
  try {
    await until('every node to answer Metadata alike', async () => {
      last = await Promise.all(cluster.ids.map((id) => metadataOf(cluster, id)))
      return last.every((m) => m === last[0])
    }, timeoutMs)
    return []
  } catch (err) {
    return [`metadata: ${(err as Error).message}: ${cluster.ids.map((id, i) => `node ${id}: ${last[i] ?? '?'}`).join('; ')}`]
  }
}

/** The batches of `topic`/`partition` below `hw` must be the same on every node (waits up to `timeoutMs` for followers to catch up). */
export async function replicasAgree(cluster: ChaosCluster, topic: string, partition: number, hw: number, timeoutMs: number): Promise<string[]> {
  let problems: string[] = []
  try {
    await until(`replicas of ${topic}/${partition} to agree below the HW ${hw}`, async () => {
      const dumps = new Map<number, string[]>()
      for (const id of cluster.ids) dumps.set(id, await batchLines(cluster.dataDir(id), topic, partition, hw))
      problems = replicasDiffer(`${topic}/${partition} (HW ${hw})`, dumps)
      return problems.length === 0
    }, timeoutMs)
    return []
  } catch (err) {
    return problems.length > 0 ? problems : [`replicas: ${(err as Error).message}`]
  }
}

/** The `batch` lines of a replica's dump up to `hw` (a running broker's torn active tail, exit 3, is past it). */
export async function batchLines(dataDir: string, topic: string, partition: number, hw: number): Promise<string[]> {
  const r = await runCli(['log', 'dump', dataDir, '--topic', topic, '-p', String(partition), '--json', '--max-offset', String(hw)], { timeoutMs: 60_000 })
  if (r.status !== 0 && r.status !== 3) throw new Error(`log dump ${dataDir} exited ${r.status}: ${r.stderr}`)
  return r.stdout.split('\n').filter((l) => l.startsWith('{"type":"batch"'))
}
