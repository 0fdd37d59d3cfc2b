// The batches each replica of a partition holds on disk, read with `bitacora log dump` (so a
// broker need not be running, or even healthy, to be compared), and a check that every replica
// holds the same ones: same offsets, leader epochs and CRCs, hence the same bytes.
import { runCli } from './cli-process.js'
import type { ProcessCluster } from './quorum-nodes.js'

/** One line per batch: offsets, leader epoch, stored CRC and whether it checks. */
export async function replicaBatches(dataDir: string, topic: string, partition: number): Promise<string[]> {
  const r = await runCli(['log', 'dump', dataDir, '--topic', topic, '-p', String(partition), '--json'])
  const objects = r.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>)
  if (r.status !== 0) {
    const findings = objects.filter((o) => o.type === 'finding').map((o) => JSON.stringify(o))
    throw new Error(`log dump of ${topic}/${partition} in ${dataDir} exited ${r.status}: ${findings.join('; ') || r.stderr}`)
  }
  return objects.filter((o) => o.type === 'batch').map((b) => `${b.baseOffset}..${b.lastOffset} epoch ${b.leaderEpoch} crc ${b.crc}${b.crcOk === true ? '' : ' BAD'}`)
}

/** True when every node's replica of the partition holds the same batches; throws naming the first difference. */
export async function replicasAgree(c: ProcessCluster, topic: string, partition: number): Promise<true> {
  const [first, ...rest] = await Promise.all(c.ids.map(async (id) => ({ id, batches: await replicaBatches(c.dataDirs.get(id)!, topic, partition) })))
  for (const other of rest) {
    const i = first.batches.findIndex((b, j) => other.batches[j] !== b)
    const at = i >= 0 ? i : first.batches.length < other.batches.length ? first.batches.length : -1
    if (at >= 0) {
      throw new Error(`${topic}/${partition}: node ${first.id} has ${first.batches[at] ?? 'nothing'} where node ${other.id} has ${other.batches[at] ?? 'nothing'} (batch ${at}; ${first.batches.length} vs ${other.batches.length} batches)`)
    }
  }
  return true
}
