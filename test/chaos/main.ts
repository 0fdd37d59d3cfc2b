// `npm run chaos -- --minutes N [--seed S] [--nodes 3] [--corrupt-segments] [--idempotent] [--rate N] [--faults K,…]`: one chaos run
// (run.ts) against the built broker in dist/ (run `npm run build` first). Prints the schedule as
// it goes (replayable with --seed), every violation, and a one-line summary; exit code 0 clean,
// 1 on any violation, 2 on a usage error. Stops every process it started, also on SIGINT/SIGTERM.
import { Teardowns } from './cluster.js'
import { PRODUCER_RECORDS_PER_S, PRODUCER_RECORDS_PER_S_MAX, VIOLATIONS_SHOWN_MAX } from './limits.js'
import { runChaos } from './run.js'
import { FAULT_KINDS, type FaultKind } from './schedule.js'

const USAGE = `usage: npm run chaos -- --minutes N [--seed S] [--nodes N] [--corrupt-segments] [--idempotent] [--rate N] [--faults K,…]

  --minutes N           how long faults are injected (decimals allowed), then heal and check
  --seed S              the fault schedule's seed (default: random, printed): the same seed replays the same faults
  --nodes N             brokers (default 3; every topic partition has a replica on each)
  --corrupt-segments    also flip a byte in a stopped follower's closed segment (off by default until
                        replicas repair a bad CRC: issue 18, "disk faults on a minority")
  --idempotent          the idempotent producer, five requests in flight: a record written twice is a violation
                        (without it: one request in flight, idempotence off, duplicates counted but allowed)
  --rate N              records per second the producer offers (default ${PRODUCER_RECORDS_PER_S}, at most ${PRODUCER_RECORDS_PER_S_MAX})
  --faults K,…          draw only these fault kinds (default all: ${FAULT_KINDS.filter((k) => k !== 'corrupt' && k !== 'kill-leader').join(',')}; corrupt
                        also needs --corrupt-segments; kill-leader only when listed), e.g. --faults kill-leader`

// `npx tap test/chaos/` runs every file of the folder: this one is the tool, not a test.
if (process.env.TAP === '1') process.exit(0)

function parse(argv: readonly string[]): { minutes: number; seed: number; nodes: number; corrupt: boolean; idempotent: boolean; rate: number; kinds?: FaultKind[] } {
  const o: ReturnType<typeof parse> = { minutes: NaN, seed: Math.floor(Math.random() * 2 ** 31), nodes: 3, corrupt: false, idempotent: false, rate: PRODUCER_RECORDS_PER_S }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const value = () => {
      const v = argv[++i]
      if (v === undefined || v.trim() === '' || Number.isNaN(Number(v))) throw new Error(`${a} needs a number, got ${v === undefined ? 'nothing' : `'${v}'`}`)
      return Number(v)
    }
    if (a === '--minutes') o.minutes = value()
    else if (a === '--seed') o.seed = value()
    else if (a === '--nodes') o.nodes = value()
    else if (a === '--corrupt-segments') o.corrupt = true
    else if (a === '--idempotent') o.idempotent = true
    else if (a === '--rate') o.rate = value()
    else if (a === '--faults') o.kinds = faultKinds(argv[++i])
    else if (a === '--help' || a === '-h') {
      console.log(USAGE)
      process.exit(0)
    } else throw new Error(`unknown option ${a}`)
  }
  if (Number.isNaN(o.minutes)) throw new Error('--minutes N is required')
  if (!(o.minutes > 0 && o.minutes <= 24 * 60)) throw new Error(`--minutes: expected a number in (0, 1440], got ${o.minutes}`)
  if (!Number.isSafeInteger(o.seed) || o.seed < 0) throw new Error(`--seed: expected a non-negative integer, got ${o.seed}`)
  if (!Number.isInteger(o.nodes) || o.nodes < 3 || o.nodes > 7) throw new Error(`--nodes: expected an integer in [3, 7], got ${o.nodes}`)
  if (!Number.isInteger(o.rate) || o.rate < 1 || o.rate > PRODUCER_RECORDS_PER_S_MAX) throw new Error(`--rate: expected an integer in [1, ${PRODUCER_RECORDS_PER_S_MAX}], got ${o.rate}`)
  if (o.kinds?.includes('corrupt') === true && !o.corrupt) throw new Error('--faults corrupt also needs --corrupt-segments')
  return o
}

function faultKinds(list: string | undefined): FaultKind[] {
  const kinds = (list ?? '').split(',').filter((k) => k !== '')
  if (kinds.length === 0) throw new Error(`--faults needs a comma-separated list of ${FAULT_KINDS.join(', ')}`)
  for (const k of kinds) if (!(FAULT_KINDS as readonly string[]).includes(k)) throw new Error(`--faults: unknown fault kind '${k}' (one of ${FAULT_KINDS.join(', ')})`)
  return kinds as FaultKind[]
}

let options
try {
  options = parse(process.argv.slice(2))
} catch (err) {
  console.error(`chaos: ${(err as Error).message}\n${USAGE}`)
  process.exit(2)
}

const teardowns = new Teardowns()
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`chaos: ${signal}: stopping every broker and proxy`)
    void teardowns.run().then(() => process.exit(130))
  })
}

let code = 1
try {
  const r = await runChaos({ ...options, ms: options.minutes * 60_000, log: (line) => console.log(line) }, teardowns)
  for (const v of r.violations.slice(0, VIOLATIONS_SHOWN_MAX)) console.log(`VIOLATION ${v}`)
  if (r.violations.length > VIOLATIONS_SHOWN_MAX) console.log(`… and ${r.violations.length - VIOLATIONS_SHOWN_MAX} more violations`)
  console.log(r.summary)
  console.log(`replay: npm run chaos -- --minutes ${options.minutes} --seed ${options.seed} --nodes ${options.nodes}${options.corrupt ? ' --corrupt-segments' : ''}${options.idempotent ? ' --idempotent' : ''}${options.rate !== PRODUCER_RECORDS_PER_S ? ` --rate ${options.rate}` : ''}${options.kinds ? ` --faults ${options.kinds.join(',')}` : ''}`)
  code = r.violations.length === 0 ? 0 : 1
} catch (err) {
  console.error(`chaos: the run failed: ${(err as Error).stack ?? err}`)
} finally {
  await teardowns.run()
}
process.exit(code)
