// How cost grows on a 3-broker cluster (RF=3, acks=all, the default producer): throughput and
// the brokers' CPU per record as partitions grow (one producer, 100 B), as producer processes
// grow (8 partitions, 100 B) and as records grow (one partition, one producer). The brokers' CPU
// is their user + system seconds (/proc) over the point, summed over the three and divided by
// the records acknowledged, so it counts replication too. Each point writes a fresh topic.
import { cpus } from 'node:os'
import { totalCpuSeconds } from './proc-stats.js'
import { runWorkload } from './run-workload.js'
import type { RunningServer } from './servers/bitacora.js'
import type { WorkloadSpec } from './workload.js'
import type { ProduceResult } from '../src/cli/perf-produce.js'

const dist = (path: string) => new URL(`../dist/${path}`, import.meta.url).href

export type ScalingDimension = 'partitions' | 'producers' | 'recordSize'

export interface ScalingPlan {
  partitions: number[]
  producers: number[]
  recordSizes: number[]
  /** Payload bytes per point (records = bytes / record size, within the bounds below). */
  bytesPerPoint: number
  recordsMin: number
  recordsMax: number
  maxSeconds: number
}

export interface ScalingPoint {
  dimension: ScalingDimension
  value: number
  partitions: number
  producers: number
  recordSize: number
  records: number
  failed: number
  recordsPerSec: number
  mbPerSec: number
  /** The three brokers' CPU seconds over the point, together. */
  brokerCpuSeconds: number
  brokerCpuUsPerRecord: number
  error?: string
}

export const SCALING_REPLICATION = 3

export function scalingPlan(quick: boolean): ScalingPlan {
  return quick
    ? { partitions: [1, 8], producers: [1, 2], recordSizes: [10, 1024], bytesPerPoint: 1 << 20, recordsMin: 500, recordsMax: 5_000, maxSeconds: 20 }
    : { partitions: [1, 8, 64, 512], producers: [1, 2, 4], recordSizes: [10, 100, 1024, 16_384, 65_536], bytesPerPoint: 100 << 20, recordsMin: 1_000, recordsMax: 1_000_000, maxSeconds: 60 }
}

/** Every point of `plan` against `cluster` (its url lists the brokers, `pids` their processes). */
export async function measureScaling(plan: ScalingPlan, cluster: RunningServer, log: (line: string) => void = console.log): Promise<ScalingPoint[]> {
  const pids = cluster.pids ?? [cluster.pid]
  const { createClient } = (await import(dist('client/node.js'))) as typeof import('../src/client/node.js')
  const { ensureTopic } = (await import(dist('cli/perf-bitacora.js'))) as typeof import('../src/cli/perf-bitacora.js')
  const client = createClient({ brokers: cluster.url.split(','), clientId: 'bitacora-perf-scaling' })
  const points: ScalingPoint[] = []
  const measure = async (dimension: ScalingDimension, value: number, partitions: number, producers: number, recordSize: number) => {
    const records = Math.max(plan.recordsMin, Math.min(plan.recordsMax, Math.floor(plan.bytesPerPoint / recordSize)))
    const point: ScalingPoint = { dimension, value, partitions, producers, recordSize, records: 0, failed: 0, recordsPerSec: 0, mbPerSec: 0, brokerCpuSeconds: 0, brokerCpuUsPerRecord: 0 }
    log(`  ${dimension} ${value}: ${partitions} partitions, ${producers} producer${producers > 1 ? 's' : ''}, ${recordSize} B, ${records} records`)
    try {
      const topic = `scale-${dimension}-${value}`
      await ensureTopic(client, topic, partitions, true, SCALING_REPLICATION)
      const spec: WorkloadSpec = {
        system: 'bitacora', url: cluster.url, kind: 'produce', topic, recordSize, records: Math.ceil(records / producers),
        maxSeconds: plan.maxSeconds, acks: -1, topicExists: true,
      }
      const cpuBefore = totalCpuSeconds(pids)
      const results = await Promise.all(Array.from({ length: producers }, () => runWorkload<ProduceResult>(spec, { echo: () => {} })))
      point.brokerCpuSeconds = totalCpuSeconds(pids) - cpuBefore
      point.records = results.reduce((sum, r) => sum + r.records, 0)
      point.failed = results.reduce((sum, r) => sum + r.failed, 0)
      const seconds = Math.max(...results.map((r) => r.elapsedMs)) / 1000
      point.recordsPerSec = point.records / seconds
      point.mbPerSec = (point.records * recordSize) / (1 << 20) / seconds
      point.brokerCpuUsPerRecord = point.records > 0 ? (point.brokerCpuSeconds * 1e6) / point.records : 0
      log(`    ${Math.round(point.recordsPerSec).toLocaleString('en')} records/s, ${point.mbPerSec.toFixed(1)} MiB/s, brokers ${point.brokerCpuUsPerRecord.toFixed(2)} µs CPU per record (${point.brokerCpuSeconds.toFixed(1)} s on ${cpus().length} cores)`)
    } catch (err) {
      point.error = (err as Error).message.split('\n')[0]
      log(`    FAILED: ${point.error}`)
    }
    points.push(point)
  }
  try {
    for (const p of plan.partitions) await measure('partitions', p, p, 1, 100)
    for (const n of plan.producers) await measure('producers', n, 8, n, 100)
    for (const size of plan.recordSizes) await measure('recordSize', size, 1, 1, size)
  } finally {
    await client.close()
  }
  return points
}
