// A slice of `npm run chaos` in CI (issue 18): 40 s of seeded faults against three broker
// processes behind per-pair proxies — seed 42 isolates a node (silent), SIGSTOPs one, delays one's
// peer traffic, cuts one direction (silent) and SIGKILLs one — under an acks=all producer and a
// consumer; then everything healed and checked (test/chaos/run.ts). The run must be clean.
import t from 'tap'
import { runChaos } from '../chaos/run.js'
import { makeSchedule } from '../chaos/schedule.js'

const SEED = 42
const FAULTS_MS = 40_000

t.setTimeout(240_000)

t.test(`chaos seed ${SEED}, ${FAULTS_MS / 1000} s of faults: no violation`, async (t) => {
  const lines: string[] = []
  const r = await runChaos({ seed: SEED, ms: FAULTS_MS, nodes: 3, corrupt: false, log: (line) => void lines.push(line) }, t)
  t.comment(lines.join('\n'))
  t.comment(r.summary)
  t.ok(r.faults.length >= 4, `${r.faults.length} faults injected`)
  t.same(r.faults, makeSchedule(SEED, { nodes: [1, 2, 3], corrupt: false }).slice(0, r.faults.length).map((s) => s.fault), 'the faults of the seed\'s schedule, in order')
  t.same(r.violations, [], r.summary)
})
