// Scans seeds until a bug switch is caught (shared by the bug tests).
import type { BugSwitches } from '../../src/raft/types.js'
import { runSeed } from '../../src/sim/simulation.js'

export const SEEDS_MAX = 10_000

export function firstFailure(bugs: BugSwitches): { seed: number; failure: string } | null {
  for (let seed = 1; seed <= SEEDS_MAX; seed++) {
    const r = runSeed({ seed, bugs })
    if (!r.ok) return { seed, failure: r.failure! }
  }
  return null
}
