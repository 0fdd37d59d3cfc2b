// The Markdown report of one run: the targets of issue 8 first, then the machine's limits,
// producer (per acks mode / durability class), consumer and end-to-end tables with every
// Bitácora figure beside the peers' and the machine's limit as ratios, the seed talk's acks
// comparison, the codec micro-benchmarks, and the charts (SVG files beside the report).
import { ceilings, cost, describeCeiling } from './bounds.js'
import type { Durability } from '../systems.js'
import type { PerfResults, RunRecord } from './types.js'

const n0 = (v: number) => Math.round(v).toLocaleString('en-US')
const n1 = (v: number) => v.toFixed(1)
const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2))
const pct = (v: number) => `${(v * 100).toFixed(0)} %`
const ratio = (a: number | undefined, b: number | undefined) => (a && b ? `${(a / b).toFixed(2)}x` : '–')
const size = (b: number) => (b >= 1024 ? `${b / 1024} KiB` : `${b} B`)

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n')
}

export interface Headline {
  target: string
  measured: string
  goal: string
  met: boolean | null
  /** An estimate of the most this machine allows, from the run's measured costs (perf/report/bounds.ts). */
  ceiling?: string
}

function produceOf(r: PerfResults, system: string, mode: string, recordSize: number): RunRecord | undefined {
  return r.runs.find((x) => x.kind === 'produce' && x.system === system && x.mode === mode && x.recordSize === recordSize && x.produce)
}
function consumeOf(r: PerfResults, system: string, recordSize: number): RunRecord | undefined {
  return r.runs.find((x) => x.kind === 'consume' && x.system === system && x.recordSize === recordSize && x.consume)
}

const BITACORA = 'Bitácora'
/** Bitácora's systems: one broker ('Bitácora') and the replicated cluster ('Bitácora 3 brokers'). */
const isBitacora = (system: string) => system.startsWith(BITACORA)
const copiesOf = (x: RunRecord) => x.copies ?? 1
// A peer's mode is compared with Bitácora's weakest mode that is at least as durable, among
// runs keeping as many copies (so a replicated peer never meets the single broker).
const DURABILITY_RANK: Record<Durability, number> = { none: 0, written: 1, fsynced: 2, replicated: 2, 'replicated, fsynced': 3 }

function bitacoraProduceFor(r: PerfResults, peer: RunRecord): RunRecord | undefined {
  return r.runs
    .filter((x) => isBitacora(x.system) && x.kind === 'produce' && x.produce && x.recordSize === peer.recordSize && copiesOf(x) === copiesOf(peer) &&
      DURABILITY_RANK[x.durability] >= DURABILITY_RANK[peer.durability])
    .sort((a, b) => DURABILITY_RANK[a.durability] - DURABILITY_RANK[b.durability])[0]
}
function bitacoraConsumeFor(r: PerfResults, peer: RunRecord): RunRecord | undefined {
  return r.runs.find((x) => isBitacora(x.system) && x.kind === 'consume' && x.consume && x.recordSize === peer.recordSize && copiesOf(x) === copiesOf(peer))
}
const REPLICATED = 'Bitácora 3 brokers'

/** The targets of issue 8, measured against this run. */
export function headlines(r: PerfResults): Headline[] {
  const ws = r.limits.websocket
  const p100 = produceOf(r, BITACORA, 'acks=1', 100)?.produce
  const c100 = consumeOf(r, BITACORA, 100)?.consume
  const p1k = produceOf(r, BITACORA, 'acks=1', 1024)?.produce
  const c1k = consumeOf(r, BITACORA, 1024)?.consume
  const out: Headline[] = [
    { target: 'producer, 100 B, acks=1', measured: p100 ? `${n0(p100.recordsPerSec)} records/s` : 'not measured', goal: '>= 1,000,000 records/s', met: p100 ? p100.recordsPerSec >= 1e6 : null },
    { target: 'consumer, 100 B', measured: c100 ? `${n0(c100.recordsPerSec)} records/s` : 'not measured', goal: '>= 2,000,000 records/s', met: c100 ? c100.recordsPerSec >= 2e6 : null },
  ]
  const wsUp = ws?.bandwidthClientToServer.MiBps
  const wsDown = ws?.bandwidthServerToClient.MiBps
  const bounds = ceilings(r)
  const ceilingOf = (c: typeof bounds.producer, limit: number | undefined) => (c && limit ? `${pct(c.MiBps / limit)}: ${describeCeiling(c)}` : undefined)
  out.push({
    target: 'producer, 1 KiB, acks=1, share of WebSocket client→server',
    measured: p1k && wsUp ? `${n1(p1k.mbPerSec)} of ${n1(wsUp)} MiB/s = ${pct(p1k.mbPerSec / wsUp)}` : 'not measured', goal: '>= 40 %', met: p1k && wsUp ? p1k.mbPerSec / wsUp >= 0.4 : null,
    ceiling: ceilingOf(bounds.producer, wsUp),
  })
  out.push({
    target: 'consumer, 1 KiB, share of WebSocket server→client',
    measured: c1k && wsDown ? `${n1(c1k.mbPerSec)} of ${n1(wsDown)} MiB/s = ${pct(c1k.mbPerSec / wsDown)}` : 'not measured', goal: '>= 40 %', met: c1k && wsDown ? c1k.mbPerSec / wsDown >= 0.4 : null,
    ceiling: ceilingOf(bounds.consumer, wsDown),
  })
  const rf3 = produceOf(r, REPLICATED, 'acks=all', 100)?.produce
  const one = produceOf(r, BITACORA, 'acks=all', 100)?.produce
  if (rf3 || r.runs.some((x) => x.system === REPLICATED)) {
    out.push({ target: '3 brokers RF=3, 100 B, acks=all', measured: rf3 ? `${n0(rf3.recordsPerSec)} records/s` : 'not measured', goal: '>= 500,000 records/s', met: rf3 ? rf3.recordsPerSec >= 5e5 : null })
    out.push({
      target: '3 brokers RF=3 acks=all, share of 1 broker acks=all (100 B, same run)',
      measured: rf3 && one ? `${n0(rf3.recordsPerSec)} of ${n0(one.recordsPerSec)} = ${pct(rf3.recordsPerSec / one.recordsPerSec)}` : 'not measured',
      goal: '>= 50 %', met: rf3 && one ? rf3.recordsPerSec / one.recordsPerSec >= 0.5 : null,
    })
  }
  const e2e25 = r.runs.find((x) => x.system === REPLICATED && x.kind === 'e2e' && x.e2e?.fraction === 0.25 && x.e2e.latency)?.e2e
  if (e2e25 || r.runs.some((x) => x.system === REPLICATED)) {
    const l = e2e25?.latency
    out.push({
      target: 'end-to-end at 25 % of peak, 3 brokers acks=all, producer and consumer in their own processes',
      measured: l ? `p50 ${ms(l.p50Ms)} ms, p99 ${ms(l.p99Ms)} ms` : 'not measured', goal: 'p50 < 10 ms, p99 < 50 ms', met: l ? l.p50Ms < 10 && l.p99Ms < 50 : null,
    })
  }
  const kills = r.failover?.value
  if (r.failover) {
    const first = kills ? spread(kills.firstAckMs) : undefined
    out.push({
      target: `failover: SIGKILL of an RF=3 partition's leader under acks=all writes → first acknowledged write${kills ? ` (${kills.rounds} kills)` : ''}`,
      measured: first ? `median ${n0(first.median)} ms, p99 ${n0(first.p99)} ms` : 'not measured', goal: 'p99 < 2,000 ms', met: first ? first.p99 < 2000 : null,
    })
  }
  const idle = r.idle?.value
  if (r.idle) {
    const cpu = idle?.brokers.map((b) => spread(b.cpuPercent)?.median ?? Number.NaN)
    const rss = idle?.brokers.map((b) => b.rssMb)
    out.push({
      target: `idle: ${idle ? n0(idle.partitions) : ''} RF=3 partitions on 3 brokers, per broker`,
      measured: cpu && rss ? `CPU ${n1(Math.min(...cpu))}–${n1(Math.max(...cpu))} % of a core, RSS ${n0(Math.min(...rss))}–${n0(Math.max(...rss))} MB` : 'not measured',
      goal: '< 10 % of a core, < 300 MB', met: cpu && rss ? Math.max(...cpu) < 10 && Math.max(...rss) < 300 : null,
    })
  }
  if (r.restart) {
    const gib = (r.restart.logBytes / 1024 ** 3).toFixed(2)
    const clean = spread(r.restart.runs.filter((x) => x.how === 'clean').map((x) => x.servingMs))
    const median = clean?.median
    out.push({
      target: `restart after a clean shutdown, ${gib} GiB in the log: start to serving (median of ${clean?.count ?? 0})`,
      measured: median !== undefined ? `${n0(median)} ms` : 'not measured', goal: '< 2 s with 2 GiB',
      met: median !== undefined && r.restart.logBytes >= 2 * 1024 ** 3 ? median < 2000 : null,
    })
  }
  // Ahead of every peer: like against like (copies kept, durability class), per record size; consumers all.
  const peers = r.runs.filter((x) => !isBitacora(x.system) && x.kind === 'produce' && x.produce)
  for (const peer of peers) {
    const mine = bitacoraProduceFor(r, peer)
    if (!mine?.produce) continue
    out.push({
      target: `ahead of ${peer.system} ${peer.mode}: producer ${size(peer.recordSize)} (${mine.system} ${mine.mode})`,
      measured: `${n0(mine.produce.recordsPerSec)} vs ${n0(peer.produce!.recordsPerSec)} records/s = ${ratio(mine.produce.recordsPerSec, peer.produce!.recordsPerSec)}`,
      goal: '> 1x', met: mine.produce.recordsPerSec > peer.produce!.recordsPerSec,
    })
  }
  for (const peer of r.runs.filter((x) => !isBitacora(x.system) && x.kind === 'consume' && x.consume)) {
    const mine = bitacoraConsumeFor(r, peer)?.consume
    if (!mine) continue
    out.push({
      target: `ahead of ${peer.system} ${peer.mode}: consumer ${size(peer.recordSize)}${copiesOf(peer) > 1 ? ` (${REPLICATED})` : ''}`,
      measured: `${n0(mine.recordsPerSec)} vs ${n0(peer.consume!.recordsPerSec)} records/s = ${ratio(mine.recordsPerSec, peer.consume!.recordsPerSec)}`,
      goal: '> 1x', met: mine.recordsPerSec > peer.consume!.recordsPerSec,
    })
  }
  return out
}

export function headlineTable(r: PerfResults): string {
  return table(['target', 'measured', 'goal', 'met', 'ceiling on this machine'], headlines(r).map((h) => [h.target, h.measured, h.goal, h.met === null ? '–' : h.met ? 'yes' : '**no**', h.ceiling ?? '']))
}

function produceRows(r: PerfResults, recordSize: number): string[][] {
  const ws = r.limits.websocket?.bandwidthClientToServer.MiBps
  return r.runs
    .filter((x) => x.kind === 'produce' && x.recordSize === recordSize)
    .map((x) => {
      const p = x.produce
      if (!p) return [x.system, x.mode, x.durability, `failed: ${x.error ?? '?'}`, '', '', '', '', '', '', '', '', '']
      const l = p.latency
      const vs = isBitacora(x.system) ? '' : ratio(bitacoraProduceFor(r, x)?.produce?.recordsPerSec, p.recordsPerSec)
      const flags = `${p.timedOut ? ' (timed out)' : ''}${p.failed ? ` (${p.failed} failed)` : ''}`
      return [x.system, x.mode, x.durability, `${n0(p.recordsPerSec)}${flags}`, n1(p.mbPerSec), ws ? pct(p.mbPerSec / ws) : '–', ms(l.avgMs), ms(l.p50Ms), ms(l.p95Ms), ms(l.p99Ms), ms(l.p999Ms), ms(l.maxMs), vs]
    })
}

function consumeRows(r: PerfResults, recordSize: number): string[][] {
  const ws = r.limits.websocket?.bandwidthServerToClient.MiBps
  return r.runs
    .filter((x) => x.kind === 'consume' && x.recordSize === recordSize)
    .map((x) => {
      const c = x.consume
      if (!c) return [x.system, x.mode, `failed: ${x.error ?? '?'}`, '', '', '', '', '']
      return [x.system, x.mode, `${n0(c.recordsPerSec)}${c.timedOut ? ' (timed out)' : ''}`, n1(c.mbPerSec), n0(c.records), n0(c.fetchMs), ws ? pct(c.mbPerSec / ws) : '–', isBitacora(x.system) ? '' : ratio(bitacoraConsumeFor(r, x)?.consume?.recordsPerSec, c.recordsPerSec)]
    })
}

function e2eRows(r: PerfResults): string[][] {
  return r.runs
    .filter((x) => x.kind === 'e2e')
    .map((x) => {
      const e = x.e2e
      if (!e || !e.latency) return [x.system, x.mode, pct(e?.fraction ?? 0), `failed: ${x.error ?? '?'}`, '', '', '', '', '', '', '']
      const l = e.latency
      return [x.system, x.mode, pct(e.fraction), n0(e.targetRate), n0(e.achievedRate), `${n0(e.received)}/${n0(e.sent)}`, ms(l.avgMs), ms(l.p50Ms), ms(l.p95Ms), ms(l.p99Ms), ms(l.p999Ms)]
    })
}

const TALK: Record<string, number> = { 'acks=0': 54.9, 'acks=1': 61.0, 'acks=all': 63.8 }

function seedTalk(r: PerfResults): string {
  const rows: string[][] = []
  for (const mode of Object.keys(TALK)) {
    const cells = [mode, `${TALK[mode]} ms`]
    for (const s of r.plan.sizes) {
      const p = produceOf(r, BITACORA, mode, s)?.produce
      cells.push(p ? `${ms(p.latency.avgMs)} ms (p99 ${ms(p.latency.p99Ms)})` : '–')
      cells.push(p ? n0(p.recordsPerSec) : '–')
    }
    rows.push(cells)
  }
  const head = ['acks', 'seed talk (Kafka, avg)', ...r.plan.sizes.flatMap((s) => [`Bitácora ${size(s)} avg latency`, `records/s`])]
  return table(head, rows)
}

const DIMENSION_TITLE = { partitions: 'Partitions (1 producer, 100 B)', producers: 'Producer processes (8 partitions, 100 B)', recordSize: 'Record size (1 partition, 1 producer)' } as const

function scalingSection(r: PerfResults): string {
  const s = r.scaling
  if (!s) return 'not measured (--only left Bitácora out).'
  if (s.error) return `not measured: ${s.error}`
  const out: string[] = [
    'Each point: a fresh topic at RF=3, the producers (processes of their own) unthrottled with acks=all; "broker CPU" is the three brokers\' ' +
    'user + system CPU over the point, together, per record acknowledged (so it counts the followers\' copies too).',
  ]
  for (const dimension of ['partitions', 'producers', 'recordSize'] as const) {
    const points = s.points.filter((p) => p.dimension === dimension)
    if (points.length === 0) continue
    out.push('', `### ${DIMENSION_TITLE[dimension]}`, '')
    out.push(table([dimension === 'recordSize' ? 'record size' : dimension, 'records', 'records/s', 'MiB/s', 'broker CPU µs / record', 'broker CPU s'], points.map((p) => {
      const label = dimension === 'recordSize' ? size(p.value) : n0(p.value)
      if (p.error) return [label, '', `failed: ${p.error}`, '', '', '']
      return [label, `${n0(p.records)}${p.failed ? ` (${n0(p.failed)} failed)` : ''}`, n0(p.recordsPerSec), n1(p.mbPerSec), p.brokerCpuUsPerRecord.toFixed(2), n1(p.brokerCpuSeconds)]
    })))
  }
  return out.join('\n')
}

function networkSection(r: PerfResults): string {
  const points = r.network?.points
  if (!points) return 'not measured (--only left Bitácora out).'
  const acksLabel = (a: number) => (a === -1 ? 'acks=all' : `acks=${a}`)
  return [
    `3 brokers, RF=3, every broker pair through a loopback TCP proxy holding each chunk for the one-way delay (the kernel here has no netem; ` +
    `the proxy's timers have 1 ms granularity); clients reach the brokers directly. One producer at ${n0(r.plan.network.rate)} records/s, 100 B, ` +
    `linger 0; latency send() to acknowledgement, ms. The seed talk's Kafka figures are averages on a real network.`,
    '',
    table(['delay between brokers', 'acks', 'avg', 'p50', 'p99', 'p99.9', 'seed talk (Kafka, avg)'], points.map((p) => {
      const talk = TALK[acksLabel(p.acks)]
      if (p.error) return [`${p.delayMs} ms`, acksLabel(p.acks), `failed: ${p.error}`, '', '', '', talk ? `${talk} ms` : '']
      return [`${p.delayMs} ms`, acksLabel(p.acks), ms(p.avgMs), ms(p.p50Ms), ms(p.p99Ms), ms(p.p999Ms), talk ? `${talk} ms` : '']
    })),
  ].join('\n')
}

/** Median, p99 (nearest rank) and extremes of the finite values (null and NaN are failed probes). */
function spread(values: ReadonlyArray<number | null>): { median: number; p99: number; best: number; worst: number; count: number } | undefined {
  const sorted = values.filter((v): v is number => v !== null && Number.isFinite(v)).sort((a, b) => a - b)
  if (sorted.length === 0) return undefined
  const rank = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * q) - 1)]!
  return { median: rank(0.5), p99: rank(0.99), best: sorted[0]!, worst: sorted[sorted.length - 1]!, count: sorted.length }
}

function failoverSection(r: PerfResults): string {
  const f = r.failover
  if (!f) return 'not measured (--only left Bitácora out).'
  if (!f.value) return `not measured: ${f.error ?? '?'}`
  const t = f.value
  const row = (what: string, values: ReadonlyArray<number | null>) => {
    const s = spread(values)
    return s ? [what, n0(s.median), n0(s.p99), n0(s.best), n0(s.worst), `${s.count} of ${t.rounds}`] : [what, 'failed', '', '', '', `0 of ${t.rounds}`]
  }
  return [
    `3 brokers, a 1-partition RF=3 topic under acks=all writes (one in flight, linger 0); each round SIGKILLs the partition's leader, ` +
    `times from the kill, then restarts it and waits for the cluster to be ready. With ${t.rounds} rounds, p99 is the worst but one or the worst (nearest rank). ms.`,
    '',
    table(['from the SIGKILL to', 'median', 'p99', 'best', 'worst', 'rounds'], [
      row('the load\'s first acknowledged write sent after the kill', t.firstAckMs),
      row('both survivors naming a new leader', t.electedMs),
      row('the new leader acknowledging a write sent to it directly', t.directAckMs),
    ]),
  ].join('\n')
}

function idleSection(r: PerfResults): string {
  const i = r.idle
  if (!i) return 'not measured (--only left Bitácora out).'
  if (!i.value) return `not measured: ${i.error ?? '?'}`
  const v = i.value
  return [
    `3 brokers, one topic of ${n0(v.partitions)} RF=3 partitions, no client traffic (the replicas' parked fetches, the ticks, the controller's heartbeats); ` +
    `each broker's user + system CPU (/proc/PID/stat) over windows of ${v.windowSeconds} s as a share of one core, and its RSS at the end.`,
    '',
    table(['broker', 'leads', 'CPU, % of a core (median)', 'CPU range', 'RSS MB'], v.brokers.map((b) => {
      const s = spread(b.cpuPercent)
      return [String(b.id), n0(b.leads), s ? n1(s.median) : '–', s ? `${n1(s.best)}–${n1(s.worst)}` : '–', n0(b.rssMb)]
    })),
  ].join('\n')
}

function restartSection(r: PerfResults): string {
  const x = r.restart
  if (!x) return 'not measured (--only left Bitácora out).'
  if (x.error) return `failed: ${x.error}`
  const rows = x.runs.map((run, i) => [
    String(Math.floor(i / 2) + 1), run.how === 'clean' ? 'after SIGTERM (clean)' : 'after SIGKILL (crash)', n0(run.listeningMs), n0(run.servingMs),
    run.cpuSeconds.toFixed(2), run.logs ? `${run.logs.cleanShutdown} of ${run.logs.partitions}` : '?',
    run.logs ? n1(run.logs.scannedBytes / 1024 ** 2) : '?', run.logs ? n1((run.logs.trustedBytes ?? 0) / 1024 ** 2) : '?', run.fsyncs === null ? '?' : n0(run.fsyncs),
  ])
  return [
    `One broker, one topic of ${x.plan.partitions} partitions (RF=1) holding ${(x.logBytes / 1024 ** 3).toFixed(2)} GiB of 1 KiB records in batches of 16 ` +
    '(written by the storage engine, uncompressed; 1 GiB segments). Serving: spawn → ListOffsets answered for every partition at its log end. ' +
    '"opened clean": partitions opened from their clean-shutdown marker (no scan); "validated": active-segment bytes recovery checked batch by batch; ' +
    '"headers only": bytes below the active segments\' recovery points (an fsync covered them), walked for the index. ' +
    `The log is in the page cache (warm). Clean stops (SIGTERM → exit): ${x.stopMs.map((v) => `${n0(v)} ms`).join(', ')}.`,
    '',
    table(['run', 'restart', 'listening ms', 'serving ms', 'broker CPU s', 'opened clean', 'validated MiB', 'headers only MiB', 'fsyncs at start'], rows),
  ].join('\n')
}

/** The sections after the codec micro-benchmarks: the cluster's figures, each from its own script. */
const CLUSTER_SECTIONS: ReadonlyArray<readonly [string, (r: PerfResults) => string]> = [
  ['6. How cost grows (3 brokers, RF=3, acks=all; perf/scaling.ts)', scalingSection],
  ['7. Over a network: a delay between brokers (perf/network-delay.ts)', networkSection],
  ['8. Failover (perf/cluster-timings.ts --only partition-failover)', failoverSection],
  ['9. An idle cluster (perf/idle-cluster.ts)', idleSection],
  ['10. Restart (one broker; perf/restart.ts)', restartSection],
]

export function markdown(r: PerfResults, charts: Array<{ title: string; file: string }>): string {
  const ws = r.limits.websocket
  const disk = r.limits.disk
  const m = r.machine
  const out: string[] = []
  out.push(`# Bitácora perf report — ${r.date}${r.quick ? ' (--quick: tiny counts, not a measurement)' : ''}`)
  out.push('')
  out.push(`${m.cpus} × ${m.cpuModel}, Node ${m.node}, ${m.nats}, ${m.redis}. Run took ${n0(r.durationSeconds)} s. ` +
    `Load average at start ${m.loadAvgStart.map((v) => v.toFixed(2)).join(' / ')}, at end ${m.loadAvgEnd.map((v) => v.toFixed(2)).join(' / ')}: ` +
    'the machine is shared, so other work may have competed with any figure; every system ran in the same run, one server at a time, ' +
    'with the client in a fresh process on the same 2 cores as the server. MiB = 1024 × 1024 bytes (as Kafka\'s tools).')
  out.push('')
  out.push('## Targets')
  out.push('')
  out.push(headlineTable(r))
  out.push('')
  out.push('"ceiling on this machine": an estimate of the rate at which the client or the broker (or both, on these cores) would run out ' +
    'of CPU doing only the work every MiB of records needs — CRC32C in WASM (micro-benchmark, 1 MiB), sending and receiving the WebSocket ' +
    'frames, and for the producer writing the log into the page cache and fsyncing it — at the CPU cost per MiB each took in sections 1 and 5 ' +
    'of this run. Everything else the code does (framing, protobuf, indexes, the event loop) comes on top, so a target far above its ceiling ' +
    'is out of reach on this machine; see perf/report/bounds.ts for what the estimate leaves out.')
  out.push('')
  out.push('## 1. This machine\'s limits (same run)')
  out.push('')
  if (ws && disk) {
    const cpu = (v: number | undefined | null) => (cost(v) ? `${v.toFixed(2)} ms` : '–')
    const wsCpu = (d: typeof ws.bandwidthClientToServer) => `sender ${cpu(d.senderCpuMsPerMiB)}, receiver ${cpu(d.receiverCpuMsPerMiB)}`
    out.push(table(['limit', 'measured', 'CPU per MiB'], [
      [`WebSocket client→server, 64 KiB frames (masked${ws.bufferutil ? ', bufferutil' : ', JavaScript masking'})`, `${n1(ws.bandwidthClientToServer.MiBps)} MiB/s`, wsCpu(ws.bandwidthClientToServer)],
      ['WebSocket server→client, 64 KiB frames', `${n1(ws.bandwidthServerToClient.MiBps)} MiB/s`, wsCpu(ws.bandwidthServerToClient)],
      ['WebSocket client→server, 100-byte frames', `${n0(ws.smallClientToServer.messagesPerSec)} messages/s`, ''],
      ['WebSocket server→client, 100-byte frames', `${n0(ws.smallServerToClient.messagesPerSec)} messages/s`, ''],
      ['disk sequential write (1 MiB writes + fdatasync)', `${n1(disk.seqWriteMiBps)} MiB/s`, `writes ${cpu(disk.seqWriteCpuMsPerMiB)}, fdatasync ${cpu(disk.seqSyncCpuMsPerMiB)}`],
      ['disk 4 KiB append + fdatasync', `${n0(disk.fsyncsPerSec)} /s (${disk.fsyncAvgMs.toFixed(2)} ms each)`, ''],
    ]))
  } else out.push(`not measured: ${r.limits.error ?? '?'}`)
  out.push('')
  out.push('## 2. Producers')
  out.push('')
  out.push('Unthrottled, as `kafka-producer-perf-test --throughput -1`: the same record count, record size and window of unacknowledged records ' +
    '(about 32 MiB of payload) for every system. Latency is send() to acknowledgement, in ms, so it includes queueing in the window. ' +
    '"durability" is what an acknowledgement means; the "Bitácora ÷" column compares each peer with Bitácora\'s weakest mode that is at least ' +
    'as durable and keeps as many copies (1 broker — written: acks=1; fsynced: acks=all — or, for replicated peers, 3 brokers RF=3 acks=all: ' +
    '"replicated, fsynced" = fsynced on a majority of the 3 replicas; the peers\' "replicated" = held by a majority (NATS R3, files not fsynced per write) ' +
    'or by all 3 in memory (Redis WAIT 2)). "of WS" is MiB/s over the WebSocket client→server limit.')
  for (const s of r.plan.sizes) {
    out.push('')
    out.push(`### ${size(s)} records, ${n0(r.plan.records[s]!)} each`)
    out.push('')
    out.push(table(['system', 'mode', 'durability', 'records/s', 'MiB/s', 'of WS', 'avg', 'p50', 'p95', 'p99', 'p99.9', 'max', 'Bitácora ÷'], produceRows(r, s)))
  }
  out.push('')
  out.push('Modes: ' + [...new Map(r.runs.map((x) => [`${x.system} ${x.mode}`, x.note])).entries()].filter(([, note]) => note).map(([k, note]) => `**${k}**: ${note}`).join('; ') + '.')
  out.push('')
  out.push('### acks: latency vs durability (seed talk, slide 11)')
  out.push('')
  out.push('The talk measured Kafka\'s average producer latency per acks mode (3 brokers over a network, from Prometheus summaries). ' +
    'Bitácora here: 1 broker on loopback, unthrottled, so the averages are mostly queueing in the producer\'s window; the ordering of the modes is what compares.')
  out.push('')
  out.push(seedTalk(r))
  out.push('')
  out.push('## 3. Consumers')
  out.push('')
  out.push('As `kafka-consumer-perf-test`: read the records the producer run of the "written" mode wrote, from the start. "of WS" is MiB/s over the WebSocket server→client limit.')
  for (const s of r.plan.sizes) {
    out.push('')
    out.push(`### ${size(s)} records`)
    out.push('')
    out.push(table(['system', 'mode', 'records/s', 'MiB/s', 'records', 'fetch ms', 'of WS', 'Bitácora ÷'], consumeRows(r, s)))
  }
  out.push('')
  out.push('## 4. End-to-end latency')
  out.push('')
  out.push(`Produce at a fixed rate — ${r.plan.e2eFractions.map(pct).join(', ')} of each system's own 100-byte peak above — for ${r.plan.e2eSeconds} s, after one record acknowledged and ${r.plan.e2eWarmupSeconds} s at the rate as warm-up (not measured), ` +
    `while a consumer in another process reads them (producer and consumer each in a process of their own, neither slowing the other); ` +
    `latency from send() to the record read back, ms, on the machine's monotonic clock, which both processes share. ` +
    `Bitácora 1 broker with acks=1, 3 brokers with acks=all, linger 0 ms.`)
  out.push('')
  out.push(table(['system', 'mode', 'of peak', 'target/s', 'sent/s', 'received', 'avg', 'p50', 'p95', 'p99', 'p99.9'], e2eRows(r)))
  out.push('')
  out.push('## 5. Codec micro-benchmarks (perf/micro.ts)')
  out.push('')
  if (r.micro.rows.length > 0) {
    out.push(table(['suite', 'case', 'ops/s', 'MB/s', '±'], r.micro.rows.map((x) => [x.suite, x.name, n0(x.opsPerSec), n0(x.mbPerSec), `${x.marginPct.toFixed(1)} %`])))
  } else out.push(`not measured: ${r.micro.error ?? '?'}`)
  out.push('')
  for (const [title, section] of CLUSTER_SECTIONS) out.push(`## ${title}`, '', section(r), '')
  out.push('## Charts')
  out.push('')
  for (const c of charts) out.push(`![${c.title}](${c.file})`, '')
  out.push('## Reproduce')
  out.push('')
  out.push('```sh\nnpm run perf              # full run, about 20 minutes; installs nats-server and redis-server, builds\nnpm run perf -- --quick   # every step with tiny counts, under 3 minutes\n```')
  out.push('')
  out.push('Single tools against a running broker: `bitacora perf produce --num-records 1000000 --record-size 100 --throughput -1 --acks 1`, ' +
    '`bitacora perf consume --messages 1000000`, `bitacora perf e2e --rate 50000 --seconds 10`.')
  out.push('')
  return out.join('\n')
}
