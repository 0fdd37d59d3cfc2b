// The README's headline tables from several full runs: `npx tsx perf/medians.ts A.json B.json C.json`
// (perf/results/<timestamp>.json files of `npm run perf`). Prints Markdown: each system's
// throughput per workload as the median of the runs (1 broker and 3 brokers beside the peers,
// like durability with like), and each target of the report with every run's figure and how
// many runs met it. A run that did not measure a cell leaves it out of that cell's median.
import { readFileSync } from 'node:fs'
import { headlines } from './report/markdown.js'
import type { PerfResults, RunRecord } from './report/types.js'

const files = process.argv.slice(2)
if (files.length === 0) {
  console.error('usage: npx tsx perf/medians.ts RESULTS.json [RESULTS.json ...] (perf/results/<timestamp>.json of full runs)')
  process.exit(2)
}
const runs = files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as PerfResults)
const quick = files.filter((_, i) => runs[i]!.quick)
if (quick.length > 0) console.error(`warning: ${quick.join(', ')} ${quick.length === 1 ? 'is a --quick run' : 'are --quick runs'}: tiny counts, not a measurement`)

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}
const n0 = (v: number) => Math.round(v).toLocaleString('en-US')
const n1 = (v: number) => v.toFixed(1)
const table = (head: string[], rows: string[][]) =>
  [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n')

/** A column: one system in one mode (consumers read the topic of the system's primary mode, and carry its label). */
const COLUMNS = [
  { title: 'Bitácora 1 broker acks=1', system: 'Bitácora', mode: 'acks=1' },
  { title: 'Bitácora 1 broker acks=all', system: 'Bitácora', mode: 'acks=all' },
  { title: 'Bitácora 3 brokers RF=3 acks=all', system: 'Bitácora 3 brokers', mode: 'acks=all' },
  { title: 'NATS JetStream R1', system: 'NATS JetStream', mode: 'file R1' },
  { title: 'NATS JetStream R3', system: 'NATS JetStream 3 servers', mode: 'file R3' },
  { title: 'Redis AOF everysec', system: 'Redis Streams', mode: 'AOF everysec' },
  { title: 'Redis AOF always', system: 'Redis Streams', mode: 'AOF always' },
  { title: 'Redis + 2 replicas WAIT 2', system: 'Redis Streams + 2 replicas', mode: 'WAIT 2' },
]

type Pick = (r: RunRecord) => number | undefined
const ROWS: Array<{ title: string; kind: RunRecord['kind']; size: number; pick: Pick; format: (v: number) => string }> = [
  { title: 'produce 100 B, records/s', kind: 'produce', size: 100, pick: (r) => r.produce?.recordsPerSec, format: n0 },
  { title: 'produce 1 KiB, MiB/s', kind: 'produce', size: 1024, pick: (r) => r.produce?.mbPerSec, format: n1 },
  { title: 'consume 100 B, records/s', kind: 'consume', size: 100, pick: (r) => r.consume?.recordsPerSec, format: n0 },
  { title: 'consume 1 KiB, MiB/s', kind: 'consume', size: 1024, pick: (r) => r.consume?.mbPerSec, format: n1 },
  { title: 'end-to-end p50 at 25 % of peak, ms', kind: 'e2e', size: 100, pick: (r) => (r.e2e?.fraction === 0.25 ? r.e2e.latency?.p50Ms : undefined), format: (v) => v.toFixed(2) },
  { title: 'end-to-end p99 at 25 % of peak, ms', kind: 'e2e', size: 100, pick: (r) => (r.e2e?.fraction === 0.25 ? r.e2e.latency?.p99Ms : undefined), format: (v) => v.toFixed(2) },
]

function cell(row: (typeof ROWS)[number], column: (typeof COLUMNS)[number]): string {
  const values = runs.flatMap((run) => run.runs
    .filter((r) => r.system === column.system && r.kind === row.kind && r.recordSize === row.size && r.mode === column.mode)
    .map(row.pick).filter((v): v is number => v !== undefined && Number.isFinite(v)).slice(0, 1))
  if (values.length === 0) return ''
  return `${row.format(median(values))}${values.length < runs.length ? ` (${values.length} of ${runs.length} runs)` : ''}`
}

console.log(`Medians of ${runs.length} run${runs.length === 1 ? '' : 's'} (${runs.map((r) => r.date.slice(0, 16).replace('T', ' ')).join(', ')} UTC):\n`)
console.log(table(['workload', ...COLUMNS.map((c) => c.title)], ROWS.map((row) => [row.title, ...COLUMNS.map((c) => cell(row, c))])))

const targets = new Map<string, { goal: string; measured: string[]; met: number }>()
for (const [i, run] of runs.entries()) {
  for (const h of headlines(run)) {
    const t = targets.get(h.target) ?? { goal: h.goal, measured: runs.map(() => '–'), met: 0 }
    t.measured[i] = h.measured
    if (h.met) t.met++
    targets.set(h.target, t)
  }
}
console.log('\nTargets, run by run:\n')
console.log(table(['target', ...runs.map((_, i) => `run ${i + 1}`), 'goal', 'met in'], [...targets].map(([target, t]) => [target, ...t.measured, t.goal, `${t.met} of ${runs.length}`])))
