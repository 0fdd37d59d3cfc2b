// The 3-broker cluster with a delay between brokers: every ordered broker pair talks through a
// loopback TCP proxy (test/chaos/tcp-proxy.ts, --peer-route) that holds each chunk for the given
// one-way delay (the kernel here has no netem), so acks 0 / 1 / all latencies can be set beside
// the seed talk's Kafka cluster, measured over a real network. Clients reach the brokers
// directly. Producer latency is send() to acknowledgement at a fixed, moderate rate (the
// talk's were averages under a steady load), RF=3, one partition, 100 B.
import { ChaosCluster, Teardowns } from '../test/chaos/cluster.js'
import { runWorkload } from './run-workload.js'
import type { WorkloadSpec } from './workload.js'
import type { ProduceResult } from '../src/cli/perf-produce.js'

export interface NetworkPlan {
  /** One-way delays between brokers, ms (0: through the proxies, no delay). */
  delaysMs: number[]
  acks: Array<0 | 1 | -1>
  /** Records per second of each run, and how many. */
  rate: number
  records: number
  maxSeconds: number
}

export interface NetworkPoint {
  delayMs: number
  acks: 0 | 1 | -1
  records: number
  avgMs: number
  p50Ms: number
  p99Ms: number
  p999Ms: number
  error?: string
}

export function networkPlan(quick: boolean): NetworkPlan {
  // The proxy's timers have 1 ms granularity, so 1 ms stands in for a sub-millisecond LAN hop.
  return quick
    ? { delaysMs: [5], acks: [1, -1], rate: 2_000, records: 2_000, maxSeconds: 20 }
    : { delaysMs: [0, 1, 5], acks: [0, 1, -1], rate: 20_000, records: 200_000, maxSeconds: 60 }
}

export async function measureNetworkDelays(plan: NetworkPlan, log: (line: string) => void = console.log): Promise<NetworkPoint[]> {
  const points: NetworkPoint[] = []
  for (const delayMs of plan.delaysMs) {
    const teardowns = new Teardowns()
    try {
      const cluster = await ChaosCluster.start(teardowns, [1, 2, 3], Math.random)
      for (const from of cluster.ids) for (const to of cluster.ids) if (from !== to) cluster.proxy(from, to).delay(delayMs)
      const url = cluster.ids.map((id) => cluster.url(id)).join(',')
      for (const acks of plan.acks) {
        const label = acks === -1 ? 'all' : String(acks)
        const spec: WorkloadSpec = {
          system: 'bitacora', url, kind: 'produce', topic: `delay-${delayMs}-acks-${label}`, recordSize: 100, records: plan.records,
          maxSeconds: plan.maxSeconds, acks, replicationFactor: 3, throughput: plan.rate, lingerMs: 0,
        }
        const point: NetworkPoint = { delayMs, acks, records: 0, avgMs: 0, p50Ms: 0, p99Ms: 0, p999Ms: 0 }
        try {
          const r = await runWorkload<ProduceResult>(spec, { echo: () => {} })
          Object.assign(point, { records: r.records, avgMs: r.latency.avgMs, p50Ms: r.latency.p50Ms, p99Ms: r.latency.p99Ms, p999Ms: r.latency.p999Ms })
          if (r.failed > 0) point.error = `${r.failed} records failed: ${r.firstError ?? '?'}`
          log(`  ${delayMs} ms between brokers, acks=${label}: avg ${r.latency.avgMs.toFixed(2)} ms, p50 ${r.latency.p50Ms.toFixed(2)}, p99 ${r.latency.p99Ms.toFixed(2)}`)
        } catch (err) {
          point.error = (err as Error).message.split('\n')[0]
          log(`  ${delayMs} ms, acks=${label}: FAILED ${point.error}`)
        }
        points.push(point)
      }
    } catch (err) {
      const error = (err as Error).message.split('\n')[0]
      log(`  ${delayMs} ms between brokers: FAILED ${error}`)
      for (const acks of plan.acks) points.push({ delayMs, acks, records: 0, avgMs: 0, p50Ms: 0, p99Ms: 0, p999Ms: 0, error })
    } finally {
      await teardowns.run()
    }
  }
  return points
}
