// The broker's Raft timing (limits.ts: RAFT_TIMING, one table for every Raft group, in
// milliseconds) as the core counts it: in ticks of the broker's tick loop. Data partitions and
// the metadata quorum both come through here, so the checks below hold for every group. Every setting is named and converted on its own, never
// derived from another by a hidden ratio; a timing the core could not keep (a parked fetch that
// outlasts the retry, a fetch timeout shorter than 2 shared cores can hold, a tick coarser than
// the parked wait) is refused with an error naming the setting.
import type { RaftConfig } from '../../raft/types.js'
import { RAFT_FETCH_TIMEOUT_MS_MIN, RAFT_TIMING, type RaftTiming } from '../limits.js'

/** What a replica's core takes of the timing (ReplicaOptions: electionTimeoutTicks and the rest under `raft`). */
export interface RaftTicks {
  readonly electionTimeoutTicks: number
  readonly raft: Pick<RaftConfig, 'fetchTimeoutTicks' | 'fetchMaxWaitTicks' | 'fetchRetryTicks' | 'beginQuorumRetryTicks' | 'leaderLinkDropTicks'>
}

export class RaftTimingError extends Error {
  override name = 'RaftTimingError'
}

/** `timing` in ticks of `tickMs` (rounded to the nearest tick, at least one). Throws RaftTimingError. */
export function raftTicks(tickMs: number, timing: RaftTiming = RAFT_TIMING.partition): RaftTicks {
  check(Number.isSafeInteger(tickMs) && tickMs >= 1, `the Raft tick must be a whole number of milliseconds >= 1 (got ${tickMs})`)
  for (const [name, ms] of Object.entries(timing)) {
    check(Number.isSafeInteger(ms) && ms >= 1, `Raft timing ${name} must be a whole number of milliseconds >= 1 (got ${ms})`)
  }
  const t = timing
  check(t.fetchTimeoutMs >= RAFT_FETCH_TIMEOUT_MS_MIN,
    `Raft fetchTimeoutMs ${t.fetchTimeoutMs} is below ${RAFT_FETCH_TIMEOUT_MS_MIN} ms, shorter than a busy broker can be relied on to answer`)
  check(t.fetchMaxWaitMs >= 2 * tickMs,
    `the Raft tick (${tickMs} ms) is too coarse to park a fetch for ${t.fetchMaxWaitMs} ms: use a tick of at most ${Math.floor(t.fetchMaxWaitMs / 2)} ms`)
  check(t.fetchRetryMs > t.fetchMaxWaitMs, `Raft fetchRetryMs ${t.fetchRetryMs} must exceed fetchMaxWaitMs ${t.fetchMaxWaitMs}: a parked fetch answers before its retry`)
  check(t.leaderLinkDropMs < t.fetchTimeoutMs, `Raft leaderLinkDropMs ${t.leaderLinkDropMs} must be below fetchTimeoutMs ${t.fetchTimeoutMs}: a closed link to the leader is meant to start the election sooner`)
  check(t.fetchRetryMs < t.fetchTimeoutMs, `Raft fetchRetryMs ${t.fetchRetryMs} must be below fetchTimeoutMs ${t.fetchTimeoutMs}: a lost fetch is retried before the leader is given up`)
  const ticks = (ms: number) => Math.max(1, Math.round(ms / tickMs))
  const fetchMaxWaitTicks = ticks(t.fetchMaxWaitMs)
  return {
    electionTimeoutTicks: ticks(t.electionTimeoutMs),
    raft: {
      fetchTimeoutTicks: ticks(t.fetchTimeoutMs),
      fetchMaxWaitTicks,
      // Rounding must not bring the retry down to the parked wait.
      fetchRetryTicks: Math.max(fetchMaxWaitTicks + 1, ticks(t.fetchRetryMs)),
      beginQuorumRetryTicks: ticks(t.beginQuorumRetryMs),
      leaderLinkDropTicks: ticks(t.leaderLinkDropMs),
    },
  }
}

function check(ok: boolean, message: string): asserts ok {
  if (!ok) throw new RaftTimingError(message)
}
