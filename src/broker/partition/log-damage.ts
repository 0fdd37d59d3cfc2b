// Damage to a replica's log (issue 18, "Disk faults on a minority"; the core's side is
// src/raft/damage.ts). When a replica learns its log is damaged:
// - on any read: a consumer's fetch, a follower's fetch served by the leader, the leader's own
//   reads (PartitionLog.onDamage, which also reports what a verify finds);
// - by a background scrub of what was never checked since open: recovery CRC-checks only the
//   active segment after a clean stop and loads closed segments' indexes, so a flipped byte
//   there sleeps until read. The scrub walks those bytes at SCRUB_BYTES_PER_SECOND per broker;
// - before it campaigns (an election timeout, a transfer's TimeoutNow): the core asks for a
//   full check of the unverified range (`verifyLog`) and waits for it.
// Damage in a data partition with other voters truncates the log to the last good batch (the
// core's `logDamaged`); the bar the log must reach again is written here first (damaged.json),
// so a restart before the repair still refuses votes. A lone voter or the metadata log cannot be
// re-replicated: the damaged range stays fenced off (reads answer CORRUPT_DATA), as before.
import { join } from 'node:path'
import type { FileLayer, Timers } from '../../storage/index.js'
import { readSmallFile, writeFileAtomic } from '../../storage/index.js'
import { SCRUB_BYTES_PER_SECOND } from './limits.js'

export const DAMAGE_FILE = 'damaged.json'

/** The log end a damaged replica must reach again, or null (no file: not damaged). */
export function loadRepairEnd(fs: FileLayer, dir: string): number | null {
  const bytes = readSmallFile(fs, join(dir, DAMAGE_FILE))
  if (bytes === null) return null
  const parsed = JSON.parse(new TextDecoder().decode(bytes)) as { repairEnd?: unknown }
  const end = parsed.repairEnd
  if (typeof end !== 'number' || !Number.isSafeInteger(end) || end < 0) throw new Error(`${join(dir, DAMAGE_FILE)}: repairEnd ${String(end)} is not an offset`)
  return end
}

/** Durable before the truncation it announces. */
export function saveRepairEnd(fs: FileLayer, dir: string, repairEnd: number): Promise<void> {
  return writeFileAtomic(fs, join(dir, DAMAGE_FILE), new TextEncoder().encode(JSON.stringify({ repairEnd })))
}

/** Repaired: the file goes (durably: a restart must not refuse votes for nothing, nor forever). */
export async function clearRepairEnd(fs: FileLayer, dir: string): Promise<void> {
  fs.remove(join(dir, DAMAGE_FILE))
  await fs.syncDir(dir)
}

/**
 * The broker-wide scrub rate: a token bucket of SCRUB_BYTES_PER_SECOND holding at most one
 * second's worth, shared by every replica on one clock (scrubBudgetFor).
 */
export class ScrubBudget {
  private tokens = 0
  private lastMs: number | null = null

  constructor(private readonly bytesPerSecond = SCRUB_BYTES_PER_SECOND) {}

  /** Up to `want` bytes that may be checked now (0: wait for a later tick). */
  take(want: number, timers: Timers): number {
    const now = timers.now()
    if (this.lastMs !== null) this.tokens = Math.min(this.bytesPerSecond, this.tokens + ((now - this.lastMs) * this.bytesPerSecond) / 1000)
    else this.tokens = this.bytesPerSecond / 10
    this.lastMs = now
    const granted = Math.floor(Math.min(want, this.tokens))
    this.tokens -= granted
    return granted
  }
}

const budgets = new WeakMap<Timers, ScrubBudget>()

/**
 * The scrub budget of everything that runs on one clock: a broker's replicas share the system
 * timers; each simulated run has its own virtual ones (so seeds stay independent).
 */
export function scrubBudgetFor(timers: Timers): ScrubBudget {
  let budget = budgets.get(timers)
  if (budget === undefined) {
    budget = new ScrubBudget()
    budgets.set(timers, budget)
  }
  return budget
}
