// The report's charts: producer and consumer throughput per system and mode (with the
// machine's WebSocket limits as reference lines for 1 KiB), producer latency percentiles per
// system and acks mode, and end-to-end latency per load.
import { barChart, PALETTE } from './svg.js'
import type { PerfResults } from './types.js'

export interface NamedChart {
  name: string
  title: string
  svg: string
}

export function charts(r: PerfResults): NamedChart[] {
  const out: NamedChart[] = []
  const ws = r.limits.websocket
  for (const size of r.plan.sizes) {
    const label = size >= 1024 ? `${size / 1024} KiB` : `${size} B`
    const produce = r.runs.filter((x) => x.kind === 'produce' && x.recordSize === size && x.produce)
    const consume = r.runs.filter((x) => x.kind === 'consume' && x.recordSize === size && x.consume)
    const byMiB = size >= 1024
    const rows = [
      ...produce.map((x) => ({ label: `produce ${x.system} ${x.mode}`, values: [byMiB ? x.produce!.mbPerSec : x.produce!.recordsPerSec] })),
      ...consume.map((x) => ({ label: `consume ${x.system} ${x.mode}`, values: [byMiB ? x.consume!.mbPerSec : x.consume!.recordsPerSec] })),
    ]
    const references = byMiB && ws
      ? [{ label: 'WS c→s', value: ws.bandwidthClientToServer.MiBps }, { label: 'WS s→c', value: ws.bandwidthServerToClient.MiBps }]
      : []
    out.push({
      name: `throughput-${size}`,
      title: `Throughput, ${label} records`,
      svg: barChart({ title: `Throughput, ${label} records`, unit: byMiB ? 'MiB/s' : 'records/s', series: [{ name: 'throughput', color: PALETTE[0]! }], rows, references }),
    })
    const series = ['p50', 'p95', 'p99', 'p99.9'].map((name, i) => ({ name, color: PALETTE[i]! }))
    out.push({
      name: `latency-${size}`,
      title: `Producer latency, ${label} records, unthrottled`,
      svg: barChart({
        title: `Producer latency, ${label} records, unthrottled`, unit: 'ms', log: true, series,
        rows: produce.map((x) => ({ label: `${x.system} ${x.mode}`, values: [x.produce!.latency.p50Ms, x.produce!.latency.p95Ms, x.produce!.latency.p99Ms, x.produce!.latency.p999Ms] })),
      }),
    })
  }
  const e2e = r.runs.filter((x) => x.kind === 'e2e' && x.e2e?.latency)
  out.push({
    name: 'e2e',
    title: 'End-to-end latency at a share of each system\'s peak',
    svg: barChart({
      title: 'End-to-end latency at a share of each system\'s peak', unit: 'ms', log: true,
      series: ['p50', 'p99', 'p99.9'].map((name, i) => ({ name, color: PALETTE[i]! })),
      rows: e2e.map((x) => ({ label: `${x.system} ${x.mode} @${Math.round(x.e2e!.fraction * 100)} %`, values: [x.e2e!.latency.p50Ms, x.e2e!.latency.p99Ms, x.e2e!.latency.p999Ms] })),
    }),
  })
  for (const dimension of ['partitions', 'producers', 'recordSize'] as const) {
    const points = (r.scaling?.points ?? []).filter((p) => p.dimension === dimension && !p.error)
    if (points.length === 0) continue
    const label = (v: number) => (dimension === 'recordSize' ? (v >= 1024 ? `${v / 1024} KiB` : `${v} B`) : `${v} ${dimension}`)
    const by = dimension === 'recordSize' ? 'record size' : dimension
    out.push({
      name: `scaling-${dimension}-throughput`,
      title: `3 brokers RF=3 acks=all: throughput by ${by}`,
      svg: barChart({
        title: `3 brokers RF=3 acks=all: throughput by ${by}`, unit: dimension === 'recordSize' ? 'MiB/s' : 'records/s',
        series: [{ name: 'throughput', color: PALETTE[0]! }],
        rows: points.map((p) => ({ label: label(p.value), values: [dimension === 'recordSize' ? p.mbPerSec : p.recordsPerSec] })),
      }),
    })
    out.push({
      name: `scaling-${dimension}-cpu`,
      title: `3 brokers RF=3 acks=all: brokers' CPU per record by ${by}`,
      svg: barChart({
        title: `3 brokers RF=3 acks=all: brokers' CPU per record by ${by}`, unit: 'µs of CPU per record (3 brokers together)', log: dimension === 'recordSize',
        series: [{ name: 'CPU per record', color: PALETTE[1]! }],
        rows: points.map((p) => ({ label: label(p.value), values: [p.brokerCpuUsPerRecord] })),
      }),
    })
  }
  return out
}
