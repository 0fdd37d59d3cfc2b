// Disk damage of a simulated cluster (issue 18, "Disk faults on a minority"): the stored bytes
// of one durable entry of a replica's log go bad (a CRC that fails). Nothing notices until the
// shell reads them: a fetch it serves (the answer is withheld), the check the core asks for
// before campaigning on a log opened unverified (`verifyLog`: every restart here is unclean, and
// closed segments open unchecked), or a background scrub. Then the core truncates to the last
// good entry and neither votes nor leads until it has re-fetched past its old log end
// (src/raft/damage.ts). The checker counts the damaged replica as abstaining, not as lost.
//
// Damage stays within what a cluster survives: one damaged log at a time (found or not, until
// repaired), never while any log holds a voter set smaller than three, committed or not (two
// voters, one damaged: no leader can be elected to repair it; the simulation removes no voter
// from a set of three meanwhile), never in a seed that wipes disks or fences nodes (a lost
// voter, or a fenced one holding the longest log, beside an abstaining one leaves three voters
// with no one to elect). The draws come from a stream of their own, so a seed that damages
// nothing replays as before.
import { optionalFaultStream } from './fault-rates.js'
import type { Prng } from './prng.js'
import type { SimNode } from './sim-node.js'

/** Offset of the damage stream's seed from the run's (apart from the fence, link-drop and wipe streams). */
const DAMAGE_STREAM = 0xd15c_0000_0000
/** Share of damage aimed at the last few durable entries (the ones a commit may have just counted). */
const TAIL_SHARE = 0.6
/** How far from the durable end the tail-aimed damage falls. */
const TAIL_ENTRIES = 8

export interface DamageParams {
  /** Chance per safety step that one durable entry of some replica goes bad (when the guard allows). */
  readonly rate: number
  /** Chance per step that a running replica's background scrub finds damage it holds. */
  readonly scrubRate: number
}

export class DiskDamage {
  /** Entries damaged so far. */
  events = 0

  private constructor(readonly params: DamageParams, private readonly rng: Prng) {}

  /** This seed's damage, or null when it damages nothing (half the seeds asked). */
  static draw(seed: number, enabled: boolean): DiskDamage | null {
    const rng = optionalFaultStream(seed, DAMAGE_STREAM, enabled, 0.5)
    if (rng === null) return null
    return new DiskDamage({ rate: rng.range(0.003, 0.03), scrubRate: rng.range(0.002, 0.05) }, rng)
  }

  /**
   * Safety phase: maybe damages an entry of one node's durable log. `damagedLogs` counts the
   * logs damaged and not yet repaired; `committedVoters` is the committed voter set's size.
   * Returns a line for the trace, or null.
   */
  step(nodes: readonly SimNode[], damagedLogs: number, committedVoters: number): string | null {
    if (!this.rng.chance(this.params.rate)) return null
    const n = nodes[this.rng.int(nodes.length)]
    const log = n.log
    if (damagedLogs > 0 || nodes.some((o) => o.log.damagedAt !== null || o.log.repairEnd !== null)) return null
    if (committedVoters < 3 || nodes.some((o) => (o.log.votersAt(o.log.end - 1)?.length ?? committedVoters) < 3) || log.durableEnd <= log.start) return null
    const from = this.rng.chance(TAIL_SHARE) ? Math.max(log.start, log.durableEnd - TAIL_ENTRIES) : log.start
    const offset = from + this.rng.int(log.durableEnd - from)
    log.damage(offset)
    this.events++
    return `n${n.id} DISK DAMAGE at offset ${offset} (durable log [${log.start}, ${log.durableEnd}))`
  }

  /** Background scrubs: each running node with damage finds it at this seed's rate. */
  scrub(nodes: readonly SimNode[], now: number): string | null {
    for (const n of nodes) {
      if (!n.up || n.log.damagedAt === null || !this.rng.chance(this.params.scrubRate)) continue
      const offset = n.log.damagedAt
      n.scrub(now)
      return `n${n.id} scrub finds damage at ${offset}`
    }
    return null
  }
}
