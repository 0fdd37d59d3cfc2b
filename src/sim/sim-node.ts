// One simulated replica: the pure core plus its thin shell (fake log, durable quorum
// state, a snapshot being downloaded). The shell obeys the Ready contract exactly: persist,
// execute directives, send, advance, then report appends.
import { assert } from '../raft/assert.js'
import { RaftCore } from '../raft/core.js'
import type { Prng } from './prng.js'
import type { AppendedRange, Directive, Message, QuorumState, RaftConfig, Ready, Status, VoteRequest, VoterDirectories } from '../raft/types.js'
import type { CheckedNode } from './checker.js'
import { SimLog, votersPayload, type SimEntry, type SimSnapshot } from './sim-log.js'

export interface NodeHooks {
  send(m: Message): void
  /** Every entry that lands in any log, just after it landed (log-matching check). */
  appendedEntry(node: number, e: SimEntry, log: SimLog): void
  /** A granted (pre-)vote, with the voter's log as it was when the request arrived. */
  voteGranted(voter: number, req: VoteRequest, voterLastEpoch: number, voterLogEnd: number, voterDirectoryId?: string): void
  /** The shell is about to delete entries of the log (`damage`: to the last good entry, after damage was found). */
  truncating(node: number, offset: number, damage: boolean): void
  /** The shell found bad bytes at `offset` and tells the core; its log ended at `logEnd` (disk-damage.ts). */
  damageFound(node: number, offset: number, logEnd: number, how: DamageFinding): void
  /** The shell hands these entries of its log to a fetch answer. */
  served(node: number, entries: readonly SimEntry[], log: SimLog): void
  /** A snapshot was taken here or installed from the leader (it must hold the committed prefix). */
  snapshot(node: number, s: SimSnapshot, how: 'taken' | 'installed'): void
  /** The shell resets its log to start empty at `logStart` after a prefix with this epoch and chain. */
  resetting(node: number, logStart: number, epoch: number, chain: number): void
}

export interface SimNodeOptions {
  readonly config: Omit<RaftConfig, 'random' | 'id' | 'directoryId'>
  readonly flushDelayMaxTicks: number
  /** Give each replica a directory id (d<id>.<wipes>): KIP-853's replica keys, and disks that can be wiped. */
  readonly directoryIds?: boolean
  /**
   * Disks that can be damaged (disk-damage.ts): a restarted log is opened unverified (the core
   * asks for a check before campaigning) and reads check what they return.
   */
  readonly damage?: boolean
}

/** Where the shell found bad bytes: a read for a fetch, the check before a campaign, a background scrub. */
export type DamageFinding = 'read' | 'verify' | 'scrub'

/**
 * What a leader's outOfRange answer stands for: its log start's prefix, as a chain hash. A
 * real follower never sees the deleted records; the simulator carries their hash beside the
 * message so the checker can tell whether the follower now sits on the committed prefix.
 */
const outOfRangeChains = new WeakMap<Message, number>()

/** A chunk on the wire: a slice of the leader's snapshot. */
interface SimChunk {
  readonly snapshot: SimSnapshot
  readonly position: number
  readonly length: number
}

export class SimNode implements CheckedNode {
  core: RaftCore | null = null
  readonly log = new SimLog()
  persisted: QuorumState | null = null
  incarnation = 0
  /** Fractional ticks owed (clock drift: a fast clock accrues more than one per step). */
  tickDebt = 0
  tickRate = 1
  /** The broker's fence (its lease expired): applied to every core this node starts, until lifted. */
  fenced = false
  /** Times the disk was wiped: each wipe gives the node a new directory id. */
  wipes = 0
  /** A snapshot being downloaded: not durable, so a crash loses it. */
  private pendingSnapshot: { snapshot: SimSnapshot; received: number } | null = null
  /** The message being delivered (its outOfRange chain is what a reset starts from). */
  private delivering: Message | null = null
  /** Found in this Ready: the damage the core hears of after advance() (null: none). */
  private damageToReport: DamageFinding | null = null
  /** The core asked for a check of the log (`verifyLog`): answered after advance(). */
  private verifyAsked = false
  /** A fetch answer withheld: it would reach bad bytes (the real shell withholds it too). */
  private withheld: Message | null = null
  /** The next truncate directive is the core's answer to damage (not a divergence). */
  private truncatingForDamage = false

  constructor(
    readonly id: number,
    private readonly opts: SimNodeOptions,
    private readonly rng: Prng,
    private readonly hooks: NodeHooks,
  ) {
    this.log.unverifiedAtOpen = opts.damage === true
  }

  get up(): boolean {
    return this.core !== null
  }

  /** This shell does everything synchronously: whenever it runs, core and log are in step. */
  get settled(): boolean {
    return this.core !== null
  }

  status(): Status {
    return this.core!.status()
  }

  start(now: number): void {
    assert(this.core === null, 'start of a running node')
    this.incarnation++
    const cfg: RaftConfig = { ...this.opts.config, id: this.id, directoryId: this.directoryId, random: (b) => this.rng.int(b) }
    this.core = new RaftCore(cfg, this.persisted, this.log.view())
    if (this.fenced) this.core.setFenced(true)
    this.pump(now)
  }

  /** Fences or unfences the node (kept across restarts, as a broker's registration state is). */
  setFenced(fenced: boolean, now: number): void {
    this.fenced = fenced
    if (this.core === null) return
    this.core.setFenced(fenced)
    this.pump(now)
  }

  /** The transport says the link to `peer` closed (link-drops.ts): the core may pre-vote early. */
  linkDown(peer: number, now: number): void {
    this.core!.leaderUnreachable(peer)
    this.pump(now)
  }

  /** This replica's directory id, if the simulation gives them (a new one after each wipe). */
  get directoryId(): string | undefined {
    return this.opts.directoryIds === true ? `d${this.id}.${this.wipes}` : undefined
  }

  /**
   * The disk is wiped (the node is down): log, snapshot and quorum state are gone, and the node
   * will start as a new replica, with a new directory id (KIP-853).
   */
  wipe(): void {
    assert(this.core === null, 'wipe of a running node')
    this.log.wipe()
    this.persisted = null
    this.pendingSnapshot = null
    this.wipes++
  }

  /** Loses everything not flushed (and any partial snapshot); the persisted quorum state survives. */
  crash(): void {
    this.core = null
    this.log.crash()
    this.pendingSnapshot = null
    this.damageToReport = null
    this.verifyAsked = false
    this.withheld = null
    this.truncatingForDamage = false
  }

  tick(now: number): void {
    this.core!.tick()
    this.pump(now)
  }

  deliver(m: Message, now: number): void {
    const core = this.core!
    if (m.type === 'vote') {
      const before = core.status()
      core.receive(m)
      this.pump(now, m, before.lastEpoch, before.logEnd)
    } else {
      this.delivering = m
      core.receive(m)
      this.pump(now)
      this.delivering = null
    }
  }

  /** Calls the core (an admin request such as addVoter), then drains its output. */
  control<T>(now: number, f: (core: RaftCore) => T): T {
    const out = f(this.core!)
    this.pump(now)
    return out
  }

  /** A client batch: one entry stamped by the leader. Returns its offset, or null if refused. */
  propose(payload: number, now: number): number | null {
    const core = this.core!
    const r = core.propose()
    if (!r.ok) return null
    const e = this.log.appendLocal(r.epoch, payload)
    this.hooks.appendedEntry(this.id, e, this.log)
    core.appended(this.log.end)
    this.log.startFlush(now + this.flushDelay())
    this.pump(now)
    return e.offset
  }

  /** The state machine snapshots its state below `endOffset` (<= HW), then the log drops it. */
  takeSnapshot(endOffset: number, now: number): void {
    const s = this.log.takeSnapshot(endOffset)
    this.hooks.snapshot(this.id, s, 'taken')
    this.core!.snapshotTaken({ endOffset: s.endOffset, epoch: s.epoch, sizeBytes: s.sizeBytes })
    this.pump(now)
  }

  /** Retention: a data partition deletes the records below `offset` (<= HW, flushed). */
  advanceLogStart(offset: number, now: number): void {
    this.log.advanceStart(offset)
    this.core!.advanceLogStart(offset)
    this.pump(now)
  }

  /** Completes a due flush and tells the core. */
  flushTick(now: number): void {
    const done = this.log.completeFlush(now)
    if (done === null) return
    this.core!.flushed(done)
    this.log.startFlush(now + this.flushDelay()) // group commit: whatever arrived meanwhile
    this.pump(now)
  }

  /** Drains the core's output, obeying the Ready contract. */
  pump(now: number, voteReq?: VoteRequest, voterLastEpoch = 0, voterLogEnd = 0): void {
    const core = this.core!
    for (let rounds = 0; core.hasReady(); rounds++) {
      assert(rounds < 1000, 'ready loop does not settle')
      const rd = core.ready()
      if (rd.quorumState !== null) this.persisted = rd.quorumState // write + fsync + rename
      const appends = this.execute(rd, now)
      for (const m of rd.messages) {
        if (m === this.withheld) continue
        if (voteReq !== undefined && m.type === 'voteResponse' && m.granted && m.to === voteReq.from && m.preVote === voteReq.preVote) {
          this.hooks.voteGranted(this.id, voteReq, voterLastEpoch, voterLogEnd, this.directoryId)
        }
        if (m.type === 'fetchResponse' && m.kind === 'outOfRange') outOfRangeChains.set(m, this.log.chainAt(m.logStart - 1)!)
        this.hooks.send(m)
      }
      core.advance()
      for (const a of appends) core.appended(a.logEnd, a.range)
      this.withheld = null
      this.answerChecks()
    }
    // Repaired (the core votes again): damaged.json goes.
    if (this.log.repairEnd !== null && core.status().damagedUntil === null) this.log.repairEnd = null
  }

  /** After advance(): the core hears of damage found in the Ready, or of the check it asked for. */
  private answerChecks(): void {
    const core = this.core!
    const verify = this.verifyAsked
    this.verifyAsked = false
    const found = this.damageToReport ?? (verify && this.log.damagedAt !== null ? 'verify' : null)
    this.damageToReport = null
    if (found !== null) this.reportDamage(found)
    else if (verify) core.logVerified()
  }

  /** A background scrub reads the whole stored log: any bad bytes are found. */
  scrub(now: number): void {
    if (this.log.damagedAt === null) return
    this.reportDamage('scrub')
    this.pump(now)
  }

  /**
   * Bad bytes found: damaged.json (the bar the log must reach again) is durable first, then the
   * core truncates to the last good entry. A lone voter cannot re-replicate: the real shell only
   * fences the range off, and the damage guard never damages one.
   */
  private reportDamage(how: DamageFinding): void {
    const core = this.core!
    const offset = this.log.damagedAt
    if (offset === null) return
    const s = core.status()
    assert(s.voters.length >= 2, 'damage on a lone voter')
    this.hooks.damageFound(this.id, offset, s.logEnd, how)
    this.log.repairEnd = Math.max(this.log.repairEnd ?? 0, s.damagedUntil ?? 0, s.logEnd)
    this.truncatingForDamage = true
    core.logDamaged(offset)
  }

  private execute(rd: Ready, now: number): { logEnd: number; range: AppendedRange }[] {
    const appends: { logEnd: number; range: AppendedRange }[] = []
    for (const d of rd.directives) {
      const range = this.executeDirective(d)
      if (range !== null) appends.push({ logEnd: this.log.end, range })
    }
    if (this.log.durableEnd < this.log.end) this.log.startFlush(now + this.flushDelay())
    return appends
  }

  /** Carries out one directive; returns what an append added (null: no append). */
  private executeDirective(d: Directive): AppendedRange | null {
    switch (d.kind) {
      case 'appendLeaderChange': {
        const e = this.appendOwn(d.epoch, -d.epoch)
        return { epochStarts: [{ epoch: d.epoch, startOffset: e.offset }] }
      }
      case 'appendVoters': {
        const e = this.appendOwn(d.epoch, votersPayload(d.voters), d.voters, d.directoryIds)
        return { voterSets: [{ offset: e.offset, voters: d.voters, directoryIds: d.directoryIds }] }
      }
      case 'appendFetched': {
        const from = this.log.end
        const range = this.log.appendFetched(d.fromOffset, d.records as SimEntry[])
        for (let o = from; o < this.log.end; o++) this.hooks.appendedEntry(this.id, this.log.entryAt(o), this.log)
        return range
      }
      case 'attachRecords': {
        const entries = this.log.read(d.fromOffset, d.maxBytes)
        const bad = this.log.damagedAt
        if (bad !== null && bad >= d.fromOffset && entries.length > 0 && entries[entries.length - 1].offset >= bad) {
          // The read reaches bad bytes: no answer (an empty one would say "nothing past your end").
          this.withheld = d.response
          this.damageToReport = 'read'
          return null
        }
        this.hooks.served(this.id, entries, this.log)
        d.response.records = entries.length === 0 ? null : entries
        return null
      }
      case 'truncate':
        this.hooks.truncating(this.id, d.offset, this.truncatingForDamage)
        this.truncatingForDamage = false
        this.log.truncate(d.offset)
        return null
      case 'resetLog': {
        const chain = this.delivering === null ? undefined : outOfRangeChains.get(this.delivering)
        assert(chain !== undefined, 'a reset without the outOfRange answer that asked for it')
        this.hooks.resetting(this.id, d.logStart, d.logStartEpoch, chain)
        this.log.reset(d.logStart, d.logStartEpoch, chain, d.voters, d.directoryIds)
        return null
      }
      case 'attachSnapshotChunk': {
        const s = this.log.snapshot
        assert(s !== null && s.endOffset === d.snapshotId.endOffset && s.epoch === d.snapshotId.epoch, 'serving a snapshot we do not hold')
        const chunk: SimChunk = { snapshot: s, position: d.position, length: d.length }
        d.response.chunk = chunk
        return null
      }
      case 'writeSnapshotChunk': {
        const c = d.chunk as SimChunk
        if (d.position === 0) this.pendingSnapshot = { snapshot: c.snapshot, received: 0 }
        const p = this.pendingSnapshot
        assert(p !== null && p.received === d.position && c.position === d.position, 'snapshot chunk out of order')
        assert(p.snapshot.endOffset === c.snapshot.endOffset && p.snapshot.chain === c.snapshot.chain, 'snapshot chunks from two different snapshots')
        p.received += c.length
        return null
      }
      case 'verifyLog':
        assert(this.opts.damage === true, 'the simulated log is opened unverified only where disks can be damaged')
        this.verifyAsked = true
        return null
      case 'installSnapshot': {
        const p = this.pendingSnapshot
        assert(p !== null && p.received === d.snapshot.sizeBytes && p.snapshot.endOffset === d.snapshot.endOffset, 'installing an incomplete snapshot')
        this.pendingSnapshot = null
        this.hooks.snapshot(this.id, p.snapshot, 'installed')
        this.log.installSnapshot(p.snapshot, d.voters, d.directoryIds)
        return null
      }
    }
  }

  private appendOwn(epoch: number, payload: number, voters?: readonly number[], directoryIds?: VoterDirectories): SimEntry {
    const e = this.log.appendLocal(epoch, payload, voters, directoryIds)
    this.hooks.appendedEntry(this.id, e, this.log)
    return e
  }

  private flushDelay(): number {
    return 1 + this.rng.int(this.opts.flushDelayMaxTicks)
  }
}
