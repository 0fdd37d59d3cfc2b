// The JSON a perf run writes (perf/results/<timestamp>.json), read by the report writer.
import type { ConsumeResult } from '../../src/cli/perf-consume.js'
import type { E2eResult } from '../../src/cli/perf-e2e.js'
import type { ProduceResult } from '../../src/cli/perf-produce.js'
import type { DiskLimits } from '../limits/disk.js'
import type { WebSocketLimits } from '../limits/websocket.js'
import type { PartitionFailoverTimes } from '../cluster-timings.js'
import type { IdleClusterResult } from '../idle-cluster.js'
import type { Plan } from '../plan.js'
import type { NetworkPoint } from '../network-delay.js'
import type { RestartResult } from '../restart.js'
import type { ScalingPoint } from '../scaling.js'
import type { Durability } from '../systems.js'

/** A figure a script measured, or why it could not. */
export interface Measured<T> {
  value?: T
  error?: string
}

export interface MicroRow {
  suite: string
  name: string
  opsPerSec: number
  mbPerSec: number
  marginPct: number
}

export interface RunRecord {
  system: string
  mode: string
  durability: Durability
  note: string
  kind: 'produce' | 'consume' | 'e2e'
  recordSize: number
  /** Copies the system keeps of each record (absent: 1). */
  copies?: number
  produce?: ProduceResult
  consume?: ConsumeResult
  e2e?: E2eResult & { fraction: number }
  error?: string
}

export interface PerfResults {
  date: string
  quick: boolean
  durationSeconds: number
  machine: { cpus: number; cpuModel: string; node: string; loadAvgStart: number[]; loadAvgEnd: number[]; nats: string; redis: string }
  plan: Plan
  limits: { websocket?: WebSocketLimits; disk?: DiskLimits; error?: string }
  micro: { rows: MicroRow[]; error?: string }
  runs: RunRecord[]
  /** How cost grows (absent from runs before it, or when --only left Bitácora out). */
  scaling?: { points: ScalingPoint[]; error?: string }
  /** 3 brokers with a delay between them (absent from runs before it). */
  network?: { points: NetworkPoint[] }
  /** SIGKILLs of an RF=3 partition's leader under acks=all writes (absent from runs before it). */
  failover?: Measured<PartitionFailoverTimes>
  /** 1,000 idle RF=3 partitions on 3 brokers (absent from runs before it). */
  idle?: Measured<IdleClusterResult>
  /** One broker restarted after SIGTERM and after SIGKILL (absent from runs before it). */
  restart?: RestartResult
}
