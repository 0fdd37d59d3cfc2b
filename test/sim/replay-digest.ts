// A digest of simulator runs, to show a refactor of the core changed no behaviour: for each
// seed, its outcome, a hash of its trace, and a hash of everything the core said (every Ready,
// every answer to propose / transferLeadership / addVoter / removeVoter / epochCommitted).
// Compare two runs' output byte for byte. `--fencing off`: no seed fences any node (compares with
// a run from before the fence events existed; seeds that draw no fencing replay as before anyway).
// `--wipes off` likewise: no seed wipes a disk (nor gives its nodes directory ids); `--damage off`:
// no seed damages a log (stand-in mode).
//   npx tsx test/sim/replay-digest.ts [--mode stand-in|shell] [--seeds N] [--from S] [--fencing off] [--wipes off] [--damage off]
import { createHash, type Hash } from 'node:crypto'
import { RaftCore } from '../../src/raft/core.js'
import { runShellSeed } from '../../src/sim/shell-simulation.js'
import { runSeed } from '../../src/sim/simulation.js'

let coreHash: Hash = createHash('sha256')

function bytesAsHex(_key: string, value: unknown): unknown {
  return value instanceof Uint8Array ? Buffer.from(value).toString('hex') : value
}

// Only calls from outside the core count (how the core calls itself is what a refactor may
// change), serialized at once: the shell fills responses (records, chunks) after ready().
const hooked = ['ready', 'propose', 'transferLeadership', 'addVoter', 'removeVoter', 'epochCommitted'] as const
let depth = 0
for (const name of hooked) {
  const original = RaftCore.prototype[name] as (...args: unknown[]) => unknown
  ;(RaftCore.prototype as unknown as Record<string, unknown>)[name] = function (this: RaftCore, ...args: unknown[]) {
    depth++
    let result: unknown
    try {
      result = original.apply(this, args)
    } finally {
      depth--
    }
    if (depth === 0) coreHash.update(`${name}(${JSON.stringify(args)})=${JSON.stringify(result, bytesAsHex)}\n`)
    return result
  }
}

function arg(argv: readonly string[], name: string, fallback: string): string {
  const i = argv.indexOf(`--${name}`)
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback
}

const argv = process.argv.slice(2)
const mode = arg(argv, 'mode', 'stand-in')
const count = Number(arg(argv, 'seeds', '1500'))
const from = Number(arg(argv, 'from', '1'))
const fencing = arg(argv, 'fencing', 'on') !== 'off'
const wipes = arg(argv, 'wipes', 'on') !== 'off'
const damage = arg(argv, 'damage', 'on') !== 'off'
const all = createHash('sha256')
for (let seed = from; seed < from + count; seed++) {
  coreHash = createHash('sha256')
  const r = mode === 'shell' ? await runShellSeed({ seed, trace: true, fencing, wipes }) : runSeed({ seed, trace: true, fencing, wipes, damage })
  const trace = createHash('sha256').update(r.trace.join('\n')).digest('hex').slice(0, 16)
  const line = `${seed} ${r.ok ? 'ok' : `FAILED(${r.failure})`} ${r.phase} ${r.steps} ${JSON.stringify(r.stats)} trace=${trace} core=${coreHash.digest('hex').slice(0, 16)}`
  all.update(line + '\n')
  console.log(line)
}
console.log(`digest ${mode} seeds ${from}..${from + count - 1}: ${all.digest('hex')}`)
