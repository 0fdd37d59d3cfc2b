// Scans seeds until a bug switch is caught (shared by the bug tests).
import type { BugSwitches } from '../../src/raft/types.js'
import type { MetadataBug } from '../../src/sim/metadata-machine.js'
import { runShellSeed } from '../../src/sim/shell-simulation.js'
import { runSeed } from '../../src/sim/simulation.js'

export const SEEDS_MAX = 10_000
/** The metadata mode's bugs must be caught within this many of its seeds (a seed costs ~100 ms there). */
export const METADATA_SEEDS_MAX = 100

export function firstFailure(bugs: BugSwitches): { seed: number; failure: string } | null {
  for (let seed = 1; seed <= SEEDS_MAX; seed++) {
    const r = runSeed({ seed, bugs })
    if (!r.ok) return { seed, failure: r.failure! }
  }
  return null
}

export async function firstMetadataFailure(bug: MetadataBug): Promise<{ seed: number; failure: string } | null> {
  for (let seed = 1; seed <= METADATA_SEEDS_MAX; seed++) {
    const r = await runShellSeed({ seed, stateMachine: 'metadata', metadataBug: bug })
    if (!r.ok) return { seed, failure: r.failure! }
  }
  return null
}
