// The network and crash faults both simulators draw per seed, in one order (a seed's draws must
// not move when either simulator changes what it draws around them).
import { Prng } from './prng.js'

export interface FaultRates {
  lossRate: number
  duplicateRate: number
  delayMaxTicks: number
  crashRate: number
  /** Extra crash chance for a node that just granted a vote (crash between vote and election). */
  crashAfterVoteRate: number
  /** Chance a leader crashes in the step its HW advanced (commit, then lose the leader). */
  crashAfterCommitRate: number
  /** Chance a new leader crashes once its LeaderChange is on its own disk, before the epoch commits (Figure 8). */
  crashNewLeaderRate: number
  /** Share of crashes aimed at a leader (leaders crashing mid-replication make failovers). */
  leaderCrashShare: number
  restartRate: number
  partitionRate: number
}

export function drawFaultRates(rng: Prng): FaultRates {
  return {
    lossRate: rng.chance(0.3) ? 0 : rng.range(0, 0.2),
    duplicateRate: rng.range(0, 0.05),
    delayMaxTicks: 1 + rng.int(4),
    crashRate: rng.range(0, 0.02),
    crashAfterVoteRate: rng.chance(0.5) ? 0 : rng.range(0, 0.3),
    crashAfterCommitRate: rng.chance(0.5) ? 0 : rng.range(0, 0.3),
    crashNewLeaderRate: rng.chance(0.3) ? 0 : rng.range(0.2, 0.9),
    leaderCrashShare: rng.range(0, 0.8),
    restartRate: rng.range(0.02, 0.3),
    partitionRate: rng.range(0, 0.012),
  }
}

/**
 * The generator of an optional fault kind on its own stream (so seeds that draw none replay as
 * before the kind existed): null when the kind is disabled or this seed does not draw it (`share`
 * of the seeds do); else the stream, ready for the kind's parameters.
 */
export function optionalFaultStream(seed: number, stream: number, enabled: boolean, share: number): Prng | null {
  if (!enabled) return null
  const rng = new Prng(seed + stream)
  return rng.chance(share) ? rng : null
}
