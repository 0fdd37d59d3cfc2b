// Fence events of a simulated cluster (issue 17: a broker whose heartbeat lease expired is fenced,
// and its data-partition replicas neither lead nor campaign until it is unfenced). During the
// safety phase random nodes are fenced and unfenced; the checker's `fence` rule holds throughout.
// Some seeds then fence every node for a while, in which nobody may lead; the liveness phase
// keeps at most a minority of every voter set fenced and still demands a commit. The draws come
// from a stream of their own, so a seed that fences nothing replays exactly as before fencing
// existed (test/sim/replay-digest.ts --fencing off compares).
import { optionalFaultStream } from './fault-rates.js'
import type { Prng } from './prng.js'

/** Offset of the fence stream's seed from the run's (any large constant keeps the streams apart). */
const FENCE_STREAM = 0x5eed_0000_0000
/** Steps every node stays fenced, in the seeds that do it: several election timeouts. */
export const ALL_FENCED_STEPS = 150

export interface FenceParams {
  /** Chance per safety step that a random node is fenced (or, if it is, unfenced). */
  readonly toggleRate: number
  /** Before the liveness phase every node is fenced for ALL_FENCED_STEPS steps. */
  readonly allFenced: boolean
}

/** A simulated broker as the fence sees it. */
export interface FenceableNode {
  readonly id: number
  readonly fenced: boolean
  setFenced(fenced: boolean): void
}

export class Fencing {
  /** Fence and unfence events so far. */
  events = 0

  private constructor(readonly params: FenceParams, private readonly rng: Prng) {}

  /** This seed's fencing, or null when it fences nothing (half of the seeds, or all when disabled). */
  static draw(seed: number, enabled: boolean): Fencing | null {
    const rng = optionalFaultStream(seed, FENCE_STREAM, enabled, 0.5)
    if (rng === null) return null
    return new Fencing({ toggleRate: rng.range(0.002, 0.03), allFenced: rng.chance(0.25) }, rng)
  }

  /** Safety phase: maybe flips one random node's fence. Returns a line for the trace, or null. */
  step(nodes: readonly FenceableNode[]): string | null {
    if (!this.rng.chance(this.params.toggleRate)) return null
    const n = nodes[this.rng.int(nodes.length)]
    return this.set(n, !n.fenced)
  }

  /** Fences every node (the all-fenced window). */
  fenceAll(nodes: readonly FenceableNode[]): void {
    for (const n of nodes) if (!n.fenced) this.set(n, true)
  }

  /**
   * Liveness: fences a random set of at most a minority of the smallest voter set in force
   * anywhere, and unfences every other node. The unfenced voters of any set then form a
   * majority of it, and the most up to date of them can win their votes.
   */
  keepMinority(nodes: readonly FenceableNode[], smallestVoterSet: number): string {
    const most = Math.floor((smallestVoterSet - 1) / 2)
    const order = nodes.map((n) => n.id)
    for (let i = order.length - 1; i > 0; i--) {
      const j = this.rng.int(i + 1)
      ;[order[i], order[j]] = [order[j], order[i]]
    }
    const fenced = new Set(order.slice(0, this.rng.int(most + 1)))
    for (const n of nodes) if (n.fenced !== fenced.has(n.id)) this.set(n, fenced.has(n.id))
    return `liveness: fenced ${fenced.size === 0 ? 'none' : [...fenced].map((id) => `n${id}`).join(' ')}`
  }

  private set(n: FenceableNode, fenced: boolean): string {
    this.events++
    n.setFenced(fenced)
    return `n${n.id} ${fenced ? 'FENCED' : 'unfenced'}`
  }
}
