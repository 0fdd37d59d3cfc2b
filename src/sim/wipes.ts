// Disk wipes of a simulated cluster (issue 17, KIP-853): a node loses its whole disk — log,
// snapshot, quorum state — and comes back with a new directory id, a new replica that must
// catch up and be added, never the voter it was. Seeds that wipe give every node a directory
// id; the leader records them in the voter set (the bootstrap set knows none), and only then may
// a voter be wiped: while a voter set that a node may campaign under still lacks one, a wiped
// voter is indistinguishable from the old one (KIP-853's bootstrap gap, not a bug to catch). At
// most one voter is lost at a time, in sets of three or more, so a majority stays to go on: of
// every set a node may campaign under, the uncommitted ones too (a voter added under the directory
// id its last fetch carried may have been wiped since, which its leader cannot know; one more
// loss would then leave a set of four with two, for good). The draws come from a stream of their
// own, so a seed that wipes nothing replays as before.
import type { VoterSetAt } from '../raft/types.js'
import { isLostVoter, type CheckedNode } from './checker.js'
import { optionalFaultStream } from './fault-rates.js'
import type { Prng } from './prng.js'

/** Offset of the wipe stream's seed from the run's (apart from the fence stream's). */
const WIPE_STREAM = 0x31be_0000_0000

export interface WipeParams {
  /** Chance per safety step that a voter's disk is wiped (when it may be). */
  readonly rate: number
}

export class Wipes {
  /** Disks wiped so far. */
  events = 0

  private constructor(readonly params: WipeParams, private readonly rng: Prng) {}

  /** This seed's wipes, or null when it wipes nothing (most seeds, and every fencing seed). */
  static draw(seed: number, enabled: boolean): Wipes | null {
    const rng = optionalFaultStream(seed, WIPE_STREAM, enabled, 0.3)
    if (rng === null) return null
    return new Wipes({ rate: rng.range(0.002, 0.01) }, rng)
  }

  /** Safety phase: the voter of `committed` to wipe this step, or null. */
  pick(committed: VoterSetAt, intact: boolean, nodes: readonly CheckedNode[], bootstrap: readonly number[]): number | null {
    if (!this.rng.chance(this.params.rate)) return null
    if (!intact || !mayWipeVoter(committed, nodes, bootstrap)) return null
    this.events++
    return committed.voters[this.rng.int(committed.voters.length)]
  }
}

/** Whether one voter of `committed` may lose its disk now: no set a node may campaign under would be left without a majority. */
export function mayWipeVoter(committed: VoterSetAt, nodes: readonly CheckedNode[], bootstrap: readonly number[]): boolean {
  return committed.voters.length >= 3 && nodes.every((n) => campaignsUnderIntactSets(n, nodes, committed, bootstrap))
}

/**
 * Every voter set `n` may campaign under — the one in force on its disk (what a restart brings
 * back) and, if it runs, in its core — records the directory id of each of its voters, and has
 * three voters or more (an uncommitted removal may still shrink the committed set to two, which
 * one lost voter would leave without a majority). And none not older than the committed set has
 * lost a voter (a node holding only an older one is behind: it wins nothing until caught up).
 */
function campaignsUnderIntactSets(n: CheckedNode, nodes: readonly CheckedNode[], committed: VoterSetAt, bootstrap: readonly number[]): boolean {
  const durable = n.log.voterSetAt(n.log.durableEnd - 1) ?? { offset: -1, voters: bootstrap }
  if (!intactSet(n.id, durable, nodes, committed)) return false
  if (!n.up) return true
  const s = n.status()
  const offset = n.log.voterSetAt(n.log.end - 1)?.offset ?? -1
  return intactSet(n.id, { offset, voters: s.voters, directoryIds: s.voterDirectoryIds }, nodes, committed)
}

function intactSet(id: number, set: VoterSetAt, nodes: readonly CheckedNode[], committed: VoterSetAt): boolean {
  if (set.voters.length < 3) return false
  if (!set.voters.includes(id)) return true
  if (!set.voters.every((v) => set.directoryIds?.[v] !== undefined)) return false
  return set.offset < committed.offset || !set.voters.some((v) => isLostVoter(set, nodes[v - 1]))
}
