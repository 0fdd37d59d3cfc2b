// `npm run sim -- --seeds N [--from S]` runs many seeds; `--seed S` replays one with a trace.
// `--bug NAME` re-introduces a known bug (see BUG_NAMES) to watch the checker catch it.
import type { BugSwitches } from '../raft/types.js'
import { runSeed, type SimResult } from './simulation.js'

export const BUG_NAMES = [
  'commitByCountingReplicas', 'forgetVotePersist', 'countFetchPosition', 'preVoteSkipsLogCheck', 'changeVotersBeforeCommit', 'changeVotersBeforeEpochCommit',
  'countRemovedVoter',
] as const

function parseArgs(argv: readonly string[]): Map<string, string> {
  const args = new Map<string, string>()
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`)
    const next = argv[i + 1]
    if (next === undefined || next.startsWith('--')) args.set(a.slice(2), 'true')
    else args.set(a.slice(2), argv[++i])
  }
  return args
}

function replayCommand(seed: number, bug: string | undefined, steps: number | undefined): string {
  return `npm run sim -- --seed ${seed}${bug ? ` --bug ${bug}` : ''}${steps ? ` --steps ${steps}` : ''}`
}

function main(): number {
  const args = parseArgs(process.argv.slice(2))
  const bug = args.get('bug')
  if (bug !== undefined && !(BUG_NAMES as readonly string[]).includes(bug)) {
    console.error(`unknown bug ${bug}; one of ${BUG_NAMES.join(', ')}`)
    return 2
  }
  const bugs: BugSwitches | undefined = bug === undefined ? undefined : { [bug]: true }
  const steps = args.has('steps') ? Number(args.get('steps')) : undefined
  const tailLines = Number(args.get('trace-lines') ?? 80)

  if (args.has('seed')) {
    const seed = Number(args.get('seed'))
    const r = runSeed({ seed, bugs, safetySteps: steps, trace: true })
    const lines = args.has('full-trace') ? r.trace : r.trace.slice(-tailLines)
    for (const line of lines) console.log(line)
    console.log(r.ok ? `seed ${seed}: ok (${describe(r)})` : `seed ${seed}: FAILED in ${r.phase}: ${r.failure}`)
    return r.ok ? 0 : 1
  }

  const count = Number(args.get('seeds') ?? 1000)
  const from = Number(args.get('from') ?? 1)
  const stopOnFailure = !args.has('keep-going')
  const started = performance.now() // the CLI's printing is the one place time is read
  let failures = 0
  for (let seed = from; seed < from + count; seed++) {
    const r = runSeed({ seed, bugs, safetySteps: steps })
    if (!r.ok) {
      failures++
      console.log(`seed ${seed}: FAILED in ${r.phase}: ${r.failure}`)
      console.log(`  replay: ${replayCommand(seed, bug, steps)}`)
      if (stopOnFailure) {
        const t = runSeed({ seed, bugs, safetySteps: steps, trace: true })
        console.log('  last steps of the trace:')
        for (const line of t.trace.slice(-tailLines)) console.log(`    ${line}`)
        break
      }
    }
    const done = seed - from + 1
    if (done % 1000 === 0) {
      const secs = (performance.now() - started) / 1000
      console.log(`${done} seeds, ${failures} failed, ${(done / secs).toFixed(1)} seeds/s`)
    }
  }
  const secs = (performance.now() - started) / 1000
  console.log(`done: seeds ${from}..${from + count - 1}, ${failures} failed, ${secs.toFixed(1)} s`)
  return failures === 0 ? 0 : 1
}

function describe(r: SimResult): string {
  return `${r.steps} steps, ${r.stats.messages} messages, ${r.stats.crashes} crashes, max epoch ${r.stats.maxEpoch}, ${r.stats.committed} committed`
}

process.exitCode = main()
