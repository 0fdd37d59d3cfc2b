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
import type { CorruptRange, FileLayer, PartitionLog, Timers, VerifyResult } from '../../storage/index.js'
import { readSmallFile, writeFileAtomic } from '../../storage/index.js'
import type { Logger } from '../log.js'
import { SCRUB_BYTES_PER_SECOND, SCRUB_STEP_BYTES, VERIFY_STEP_BYTES } from './limits.js'
import type { Opened } from './replica-disk.js'

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

/** What LogDamage needs of its replica. */
export interface DamageHost {
  readonly dir: string
  readonly fs: FileLayer
  readonly logger: Logger
  readonly timers: Timers
  /** Default: the one shared by every replica on `timers` (scrubBudgetFor). */
  readonly scrubBudget?: ScrubBudget
  /** A data partition with verification on (the metadata log, and the simulator, have it off). */
  readonly enabled: boolean
  /** Runs `fn` as one of the replica's queued inputs; the Readies it causes are carried out with it. */
  run(what: string, fn: (o: Opened) => void | Promise<void>): Promise<void>
}

/**
 * One replica's side of damage: listens to its log, scrubs, answers the core's `verifyLog`,
 * truncates on damage (`core.logDamaged`, after damaged.json is durable) and clears the file once
 * the core says the log is repaired. Lives as long as the replica, across reopens (`watch`).
 */
export class LogDamage {
  /** Part of the log not yet CRC-checked since open: the scrub goes on. */
  private unverified = false
  private scrubQueued = false
  /** damaged.json exists: removed once the core says the log is repaired. */
  private repairPending = false
  private rangesFound = 0
  private stopWatching: () => void = () => undefined

  constructor(private readonly host: DamageHost) {}

  /** At open and at every reopen: listen to this log, and act on the damage recovery found. */
  watch(o: Opened): void {
    this.stopWatching()
    if (!this.host.enabled) return
    const log = o.log
    this.stopWatching = log.onDamage((range) => this.found(o, log, range))
    this.unverified = !log.fullyVerified
    this.repairPending = o.core.status().damagedUntil !== null || loadRepairEnd(this.host.fs, this.host.dir) !== null
    for (const range of log.unreadableRanges()) this.found(o, log, range)
  }

  state(o: Opened | null): { rangesFound: number; damagedUntil: number | null; unverified: boolean } {
    return { rangesFound: this.rangesFound, damagedUntil: o?.core.status().damagedUntil ?? null, unverified: this.unverified }
  }

  /** Every tick: one rate-limited scrub step while part of the log is unchecked. */
  onTick(): void {
    if (!this.unverified || this.scrubQueued) return
    const bytes = (this.host.scrubBudget ?? scrubBudgetFor(this.host.timers)).take(SCRUB_STEP_BYTES, this.host.timers)
    if (bytes === 0) return
    this.scrubQueued = true
    void this.host.run('scrub', async (o) => this.checked(o, await o.log.verify(bytes)))
      .catch(() => undefined)
      .finally(() => {
        this.scrubQueued = false
      })
  }

  /** The core's `verifyLog` (before a campaign): every unchecked batch, a step per turn of the event loop. */
  async verifyWhole(o: Opened): Promise<VerifyResult> {
    for (;;) {
      const r = await o.log.verify(VERIFY_STEP_BYTES)
      if (r.done || r.damage !== null) return r
    }
  }

  /** A check's or a scrub's outcome, to the core (after advance); damage reaches it through `found`. */
  checked(o: Opened, r: VerifyResult): void {
    if (!r.done) return
    this.unverified = false
    o.core.logVerified()
  }

  /** After each input's Readies: once the core says the log is repaired, damaged.json goes. */
  afterDrain(o: Opened): Promise<void> | null {
    // null, not an async no-op: an await on every drain would move when the shell applies and snapshots.
    if (!this.repairPending || o.core.status().damagedUntil !== null) return null
    this.repairPending = false
    return this.repaired(o)
  }

  private async repaired(o: Opened): Promise<void> {
    await clearRepairEnd(this.host.fs, this.host.dir)
    this.host.logger.info('damaged log repaired: re-fetched past the damaged range; it votes and may lead again', { dir: this.host.dir, logEnd: o.log.logEndOffset })
  }

  /** Once per damaged range: say it, count it, and (with other voters to fetch from) truncate and re-fetch. */
  private found(o: Opened, log: PartitionLog, range: CorruptRange): void {
    this.rangesFound++
    const fields = { dir: this.host.dir, startOffset: range.startOffset, endOffset: range.endOffset, segment: range.segmentBaseOffset, reason: range.reason }
    if (o.core.status().voters.length < 2) {
      this.host.logger.error('damaged log: a lone voter cannot re-replicate it; the damaged range stays unreadable (CORRUPT_DATA)', fields)
      return
    }
    this.host.logger.warn('damaged log: truncating to the last good batch and re-fetching from the leader; no vote, campaign or leadership until repaired', fields)
    void this.host.run('damaged', (current) => this.truncate(current, log, range)).catch(() => undefined)
  }

  private async truncate(o: Opened, foundIn: PartitionLog, range: CorruptRange): Promise<void> {
    const s = o.core.status()
    // Truncated away already (a second report, or an earlier damage below it); a reopened log
    // forgot the range (recovery does not scan closed segments): act on it anyway.
    const gone = o.log === foundIn && !o.log.unreadableRanges().some((r) => r.startOffset === range.startOffset)
    if (gone || range.startOffset < s.logStart || range.startOffset >= s.logEnd) return
    await saveRepairEnd(this.host.fs, this.host.dir, Math.max(s.damagedUntil ?? 0, s.logEnd))
    this.repairPending = true
    this.unverified = true // the kept part of the damaged segment: the scrub finds out
    o.core.logDamaged(range.startOffset)
  }
}
