// `bitacora completion bash|zsh`: prints a shell completion script. The words come from the
// commands' own flag tables, so the script completes exactly the flags the parser accepts:
// subcommands, flags (long and kcat's short ones), the values of flags with a fixed set, files
// for --client-config and directories for --data-dir. Static: no `bitacora` process runs on each TAB.
import { BROKER_USAGE } from '../broker/config.js'
import { shortOf, type FlagSpec } from './args.js'
import { ACKS_CHOICES, COMPRESSION_CHOICES } from './client-config.js'
import { CLUSTER_SPECS } from './cluster.js'
import { CONSUME_SPEC } from './consume.js'
import { UsageError } from './errors.js'
import { ENCODINGS } from './format.js'
import { FORMAT_SPEC } from './format-dir.js'
import { GROUPS_SPECS } from './groups.js'
import { LOG_SPECS } from './log-dump.js'
import { PERF_SPEC } from './perf.js'
import { PRODUCE_SPEC } from './produce.js'
import { TOPICS_SPECS } from './topics.js'

export const COMPLETION_USAGE = `usage: bitacora completion bash|zsh

Prints a completion script for the shell. To load it:
  bash   source <(bitacora completion bash)     (or save it in ~/.local/share/bash-completion/completions/bitacora)
  zsh    source <(bitacora completion zsh)      (in ~/.zshrc)`

export const COMMANDS = ['broker', 'format', 'cluster', 'topics', 'groups', 'produce', 'consume', 'log', 'perf', 'completion', 'version', 'help'] as const
const TOP_FLAGS = ['-h', '--help', '-V', '--version']

/** Flags with a fixed set of values, and their values. */
const VALUES: Record<string, readonly string[]> = {
  acks: ACKS_CHOICES.filter((a) => a !== '-1'),
  compression: COMPRESSION_CHOICES,
  'value-encoding': ENCODINGS,
  'key-encoding': ENCODINGS,
  offset: ['beginning', 'end'],
}

/** Every way to write a spec's flags: --long, and -x where kcat has a letter for it. */
function flagWords(spec: FlagSpec): string[] {
  return Object.keys(spec).flatMap((name) => {
    const letter = shortOf(name)
    return letter ? [`-${letter}`, `--${name}`] : [`--${name}`]
  })
}

/** The broker's flags, read from its help (its parser is node:util's, with no table to share). */
function brokerFlags(): string[] {
  return [...new Set(['-h', '--help', ...(BROKER_USAGE.match(/--[a-z][a-z-]*/g) ?? [])])]
}

interface Level {
  /** Words after `bitacora` that lead here. */
  path: string[]
  words: string[]
}

function levels(): Level[] {
  const sub = (command: string, specs: Record<string, FlagSpec>) =>
    Object.entries(specs).map(([name, spec]): Level => ({ path: [command, name], words: flagWords(spec) }))
  return [
    { path: [], words: [...COMMANDS, ...TOP_FLAGS] },
    { path: ['broker'], words: brokerFlags() },
    { path: ['format'], words: flagWords(FORMAT_SPEC) },
    { path: ['cluster'], words: [...Object.keys(CLUSTER_SPECS), '-h', '--help'] },
    ...sub('cluster', CLUSTER_SPECS),
    { path: ['topics'], words: [...Object.keys(TOPICS_SPECS), '-h', '--help'] },
    ...sub('topics', TOPICS_SPECS),
    { path: ['groups'], words: [...Object.keys(GROUPS_SPECS), '-h', '--help'] },
    ...sub('groups', GROUPS_SPECS),
    { path: ['produce'], words: flagWords(PRODUCE_SPEC) },
    { path: ['consume'], words: flagWords(CONSUME_SPEC) },
    { path: ['log'], words: [...Object.keys(LOG_SPECS), '-h', '--help'] },
    ...sub('log', LOG_SPECS),
    { path: ['perf'], words: ['produce', 'consume', 'e2e', '-h', '--help'] },
    ...sub('perf', { produce: PERF_SPEC, consume: PERF_SPEC, e2e: PERF_SPEC }),
    { path: ['completion'], words: ['bash', 'zsh'] },
  ]
}

/** The bash function: the deepest level whose path the words typed so far start with. */
export function bashScript(): string {
  const all = levels()
  const cases = all
    .sort((a, b) => b.path.length - a.path.length)
    .map((l) => `    '${l.path.join(' ')}'*) offered='${l.words.join(' ')}' ;;`)
  const values = Object.entries(VALUES).map(([name, vs]) => {
    const letter = shortOf(name)
    return `    --${name}${letter ? `|-${letter}` : ''}) COMPREPLY=( $(compgen -W '${vs.join(' ')}' -- "$cur") ); return ;;`
  })
  // Plain bash that zsh's bashcompinit also runs: no external commands, and no variable named
  // like one of zsh's special parameters (path, words).
  return `# bash completion for bitacora: source <(bitacora completion bash)
_bitacora() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  local level='' offered='' choices='' w i
  case "$prev" in
${values.join('\n')}
    --client-config) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
    --data-dir) COMPREPLY=( $(compgen -d -- "$cur") ); return ;;
  esac
  # The command words typed so far: those before the cursor up to the first flag.
  for (( i = 1; i < COMP_CWORD; i++ )); do
    w="\${COMP_WORDS[i]}"
    [[ "$w" == -* ]] && break
    level="\${level:+$level }$w"
  done
  case "$level" in
${cases.join('\n')}
  esac
  # Flags once a dash is typed; otherwise the next command word, if this level has any.
  for w in $offered; do
    if [[ "$cur" == -* ]]; then [[ "$w" == -* ]] && choices="$choices $w"
    else [[ "$w" != -* ]] && choices="$choices $w"
    fi
  done
  COMPREPLY=( $(compgen -W "$choices" -- "$cur") )
}
complete -o default -F _bitacora bitacora
`
}

/** zsh runs the bash function through bashcompinit. */
export function zshScript(): string {
  return `# zsh completion for bitacora: source <(bitacora completion zsh)
(( $+functions[compdef] )) || { autoload -U +X compinit && compinit }
autoload -U +X bashcompinit && bashcompinit
${bashScript().split('\n').slice(1).join('\n')}`
}

export function completionCommand(argv: string[]): number {
  const [shell, ...rest] = argv
  if (shell === undefined) {
    console.error(COMPLETION_USAGE)
    return 2
  }
  if (shell === 'help' || shell === '--help' || shell === '-h') {
    console.log(COMPLETION_USAGE)
    return 0
  }
  if (rest.length > 0) throw new UsageError(`completion: unexpected argument '${rest[0]}'`)
  if (shell === 'bash') process.stdout.write(bashScript())
  else if (shell === 'zsh') process.stdout.write(zshScript())
  else throw new UsageError(`completion: unknown shell '${shell}' (bash, zsh)`)
  return 0
}
