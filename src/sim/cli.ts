// `npm run sim -- --seeds N [--from S]` runs many seeds; `--seed S` replays one with a trace.
// `--mode shell` runs the real replica shell (shell-simulation.ts) instead of the core with its
// stand-in shell (simulation.ts); each mode has its own seeds. `--mode shell --state-machine` runs
// the real shell on a state-machine log (snapshots, a key-value state machine), with seeds of its
// own again; `--state-machine metadata` runs the broker's metadata state machine there instead,
// written by the active controller's real decisions from random requests, and checks every
// node's image against the committed prefix's (metadata-mode.ts). `--bug NAME` re-introduces a
// known bug (see BUG_NAMES, and METADATA_BUG_NAMES for the metadata mode) to watch the checker
// catch it.
import type { BugSwitches } from '../raft/types.js'
import { METADATA_BUG_NAMES, type MetadataBug } from './metadata-machine.js'
import { runShellSeed, type StateMachineStats } from './shell-simulation.js'
import { runSeed } from './simulation.js'

export const BUG_NAMES = [
  'commitByCountingReplicas', 'forgetVotePersist', 'countFetchPosition', 'preVoteSkipsLogCheck', 'changeVotersBeforeCommit', 'changeVotersBeforeEpochCommit',
  'countRemovedVoter', 'ignoreFence', 'ignoreDirectoryIds', 'damagedReplicaVotes',
] as const

const MODES = ['stand-in', 'shell'] as const
type Mode = (typeof MODES)[number]
/** `--state-machine` alone is the key-value machine. */
const STATE_MACHINES = ['kv', 'metadata'] as const
type StateMachineKind = (typeof STATE_MACHINES)[number] | null

/** What both modes report of one seed. */
interface Outcome {
  readonly ok: boolean
  readonly failure: string | null
  readonly phase: string
  readonly steps: number
  readonly trace: readonly string[]
  readonly stats: { messages: number; crashes: number; maxEpoch: number; committed: number; stateMachine?: StateMachineStats }
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

function replayCommand(mode: Mode, stateMachine: StateMachineKind, seed: number, bug: string | undefined, steps: number | undefined): string {
  const how = mode === 'shell' ? `--mode shell ${stateMachine === null ? '' : stateMachine === 'kv' ? '--state-machine ' : `--state-machine ${stateMachine} `}` : ''
  return `npm run sim -- ${how}--seed ${seed}${bug ? ` --bug ${bug}` : ''}${steps ? ` --steps ${steps}` : ''}`
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2))
  const mode = (args.get('mode') ?? 'stand-in') as Mode
  if (!MODES.includes(mode)) {
    console.error(`unknown mode ${mode}; one of ${MODES.join(', ')}`)
    return 2
  }
  const smArg = args.get('state-machine')
  const stateMachine: StateMachineKind = smArg === undefined ? null : smArg === 'true' ? 'kv' : smArg as StateMachineKind
  if (stateMachine !== null && !STATE_MACHINES.includes(stateMachine)) {
    console.error(`unknown state machine ${smArg}; one of ${STATE_MACHINES.join(', ')}`)
    return 2
  }
  if (stateMachine !== null && mode !== 'shell') {
    console.error('--state-machine runs the real shell: add --mode shell')
    return 2
  }
  const bug = args.get('bug')
  const metadataBug = stateMachine === 'metadata' && (METADATA_BUG_NAMES as readonly string[]).includes(bug ?? '') ? bug as MetadataBug : undefined
  if (bug !== undefined && metadataBug === undefined && !(BUG_NAMES as readonly string[]).includes(bug)) {
    console.error(`unknown bug ${bug}; one of ${BUG_NAMES.join(', ')}${stateMachine === 'metadata' ? `, ${METADATA_BUG_NAMES.join(', ')}` : ` (with --state-machine metadata also ${METADATA_BUG_NAMES.join(', ')})`}`)
    return 2
  }
  const bugs: BugSwitches | undefined = bug === undefined || metadataBug !== undefined ? undefined : { [bug]: true }
  const steps = args.has('steps') ? Number(args.get('steps')) : undefined
  const tailLines = Number(args.get('trace-lines') ?? 80)
  const run = (seed: number, trace = false): Promise<Outcome> =>
    mode === 'shell'
      ? runShellSeed({ seed, bugs, safetySteps: steps, trace, stateMachine: stateMachine === 'metadata' ? 'metadata' : stateMachine === 'kv', metadataBug })
      : Promise.resolve(runSeed({ seed, bugs, safetySteps: steps, trace }))

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
  console.log(`done (${mode}${stateMachine === null ? '' : `, state-machine log (${stateMachine})`}): seeds ${from}..${from + count - 1}, ${failures} failed, ${secs.toFixed(1)} s, ${(count / secs).toFixed(1)} seeds/s`)
  return failures === 0 ? 0 : 1
}

function describe(r: Outcome): string {
  const sm = r.stats.stateMachine
  const m = sm?.metadata
  const snapshots = sm === undefined ? '' : `, ${sm.snapshotsTaken} snapshots taken, ${sm.snapshotsInstalled} installed`
  const image = m === undefined ? '' : `, ${m.batches} controller batches, ${m.takeovers} controller takeovers, final image ${m.brokers} brokers and ${m.topics} topics`
  return `${r.steps} steps, ${r.stats.messages} messages, ${r.stats.crashes} crashes, max epoch ${r.stats.maxEpoch}, ${r.stats.committed} committed${snapshots}${image}`
}

process.exitCode = await main()
