// `npm run sim -- --seeds N [--from S]` runs many seeds; `--seed S` replays one with a trace.
// `--mode shell` runs the real replica shell (shell-simulation.ts) instead of the core with its
// stand-in shell (simulation.ts); each mode has its own seeds. `--mode shell --state-machine` runs
// the real shell on a state-machine log (snapshots, a key-value state machine), with seeds of its
// own again. `--bug NAME` re-introduces a known bug (see BUG_NAMES) to watch the checker catch it.
import type { BugSwitches } from '../raft/types.js'
import { runShellSeed } from './shell-simulation.js'
import { runSeed } from './simulation.js'

export const BUG_NAMES = [
  'commitByCountingReplicas', 'forgetVotePersist', 'countFetchPosition', 'preVoteSkipsLogCheck', 'changeVotersBeforeCommit', 'changeVotersBeforeEpochCommit',
  'countRemovedVoter', 'ignoreFence', 'ignoreDirectoryIds',
] as const

const MODES = ['stand-in', 'shell'] as const
type Mode = (typeof MODES)[number]

/** What both modes report of one seed. */
interface Outcome {
  readonly ok: boolean
  readonly failure: string | null
  readonly phase: string
  readonly steps: number
  readonly trace: readonly string[]
  readonly stats: { messages: number; crashes: number; maxEpoch: number; committed: number }
}

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

function replayCommand(mode: Mode, stateMachine: boolean, seed: number, bug: string | undefined, steps: number | undefined): string {
  const how = mode === 'shell' ? `--mode shell ${stateMachine ? '--state-machine ' : ''}` : ''
  return `npm run sim -- ${how}--seed ${seed}${bug ? ` --bug ${bug}` : ''}${steps ? ` --steps ${steps}` : ''}`
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2))
  const bug = args.get('bug')
  if (bug !== undefined && !(BUG_NAMES as readonly string[]).includes(bug)) {
    console.error(`unknown bug ${bug}; one of ${BUG_NAMES.join(', ')}`)
    return 2
  }
  const mode = (args.get('mode') ?? 'stand-in') as Mode
  if (!MODES.includes(mode)) {
    console.error(`unknown mode ${mode}; one of ${MODES.join(', ')}`)
    return 2
  }
  const stateMachine = args.has('state-machine')
  if (stateMachine && mode !== 'shell') {
    console.error('--state-machine runs the real shell: add --mode shell')
    return 2
  }
  const bugs: BugSwitches | undefined = bug === undefined ? undefined : { [bug]: true }
  const steps = args.has('steps') ? Number(args.get('steps')) : undefined
  const tailLines = Number(args.get('trace-lines') ?? 80)
  const run = (seed: number, trace = false): Promise<Outcome> =>
    mode === 'shell' ? runShellSeed({ seed, bugs, safetySteps: steps, trace, stateMachine }) : Promise.resolve(runSeed({ seed, bugs, safetySteps: steps, trace }))

  if (args.has('seed')) {
    const seed = Number(args.get('seed'))
    const r = await run(seed, true)
    const lines = args.has('full-trace') ? r.trace : r.trace.slice(-tailLines)
    for (const line of lines) console.log(line)
    console.log(r.ok ? `seed ${seed}: ok (${describe(r)})` : `seed ${seed}: FAILED in ${r.phase}: ${r.failure}`)
    return r.ok ? 0 : 1
  }

  const count = Number(args.get('seeds') ?? 1000)
  const from = Number(args.get('from') ?? 1)
  const stopOnFailure = !args.has('keep-going')
  const started = performance.now() // the CLI's printing is the one place time is read
  const progressEvery = mode === 'shell' ? 100 : 1000
  let failures = 0
  for (let seed = from; seed < from + count; seed++) {
    const r = await run(seed)
    if (!r.ok) {
      failures++
      console.log(`seed ${seed}: FAILED in ${r.phase}: ${r.failure}`)
      console.log(`  replay: ${replayCommand(mode, stateMachine, seed, bug, steps)}`)
      if (stopOnFailure) {
        const t = await run(seed, true)
        console.log('  last steps of the trace:')
        for (const line of t.trace.slice(-tailLines)) console.log(`    ${line}`)
        break
      }
    }
    const done = seed - from + 1
    if (done % progressEvery === 0) {
      const secs = (performance.now() - started) / 1000
      console.log(`${done} seeds, ${failures} failed, ${(done / secs).toFixed(1)} seeds/s`)
    }
  }
  const secs = (performance.now() - started) / 1000
  console.log(`done (${mode}${stateMachine ? ', state-machine log' : ''}): seeds ${from}..${from + count - 1}, ${failures} failed, ${secs.toFixed(1)} s, ${(count / secs).toFixed(1)} seeds/s`)
  return failures === 0 ? 0 : 1
}

function describe(r: Outcome): string {
  return `${r.steps} steps, ${r.stats.messages} messages, ${r.stats.crashes} crashes, max epoch ${r.stats.maxEpoch}, ${r.stats.committed} committed`
}

process.exitCode = await main()
