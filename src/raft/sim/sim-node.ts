// One simulated replica: the pure core plus its thin shell (fake log, durable quorum
// state). The shell obeys the Ready contract exactly: persist, execute directives, send,
// advance, then report appends.
import { assert } from '../assert.js'
import { RaftCore } from '../core.js'
import type { Prng } from '../prng.js'
import type { EpochStart, Message, QuorumState, RaftConfig, Ready, VoteRequest } from '../types.js'
import { SimLog, type SimEntry } from './sim-log.js'

export interface NodeHooks {
  send(m: Message): void
  /** Every entry that lands in any log (log-matching check). */
  appendedEntry(node: number, e: SimEntry): void
  /** A granted (pre-)vote, with the voter's log as it was when the request arrived. */
  voteGranted(voter: number, req: VoteRequest, voterLastEpoch: number, voterLogEnd: number): void
  /** The shell is about to delete entries of the log. */
  truncating(node: number, offset: number): void
}

export interface SimNodeOptions {
  readonly config: Omit<RaftConfig, 'random' | 'id'>
  readonly flushDelayMaxTicks: number
}

export class SimNode {
  core: RaftCore | null = null
  readonly log = new SimLog()
  persisted: QuorumState | null = null
  incarnation = 0
  /** Fractional ticks owed (clock drift: a fast clock accrues more than one per step). */
  tickDebt = 0
  tickRate = 1

  constructor(
    readonly id: number,
    private readonly opts: SimNodeOptions,
    private readonly rng: Prng,
    private readonly hooks: NodeHooks,
  ) {}

  get up(): boolean {
    return this.core !== null
  }

  start(now: number): void {
    assert(this.core === null, 'start of a running node')
    this.incarnation++
    const cfg: RaftConfig = { ...this.opts.config, id: this.id, random: (b) => this.rng.int(b) }
    this.core = new RaftCore(cfg, this.persisted, this.log.view())
    this.pump(now)
  }

  /** Loses everything not flushed; the persisted quorum state survives. */
  crash(): void {
    this.core = null
    this.log.crash()
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
      core.receive(m)
      this.pump(now)
    }
  }

  /** A client batch: one entry stamped by the leader. Returns its offset, or null if refused. */
  propose(payload: number, now: number): number | null {
    const core = this.core!
    const r = core.propose()
    if (!r.ok) return null
    const e = this.log.appendLocal(r.epoch, payload)
    this.hooks.appendedEntry(this.id, e)
    core.appended(this.log.end)
    this.log.startFlush(now + this.flushDelay())
    this.pump(now)
    return e.offset
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
        if (voteReq !== undefined && m.type === 'voteResponse' && m.granted && m.to === voteReq.from && m.preVote === voteReq.preVote) {
          this.hooks.voteGranted(this.id, voteReq, voterLastEpoch, voterLogEnd)
        }
        this.hooks.send(m)
      }
      core.advance()
      for (const a of appends) core.appended(a.logEnd, a.epochStarts)
    }
  }

  private execute(rd: Ready, now: number): { logEnd: number; epochStarts: EpochStart[] }[] {
    const appends: { logEnd: number; epochStarts: EpochStart[] }[] = []
    for (const d of rd.directives) {
      switch (d.kind) {
        case 'appendLeaderChange': {
          const e = this.log.appendLocal(d.epoch, -d.epoch)
          this.hooks.appendedEntry(this.id, e)
          appends.push({ logEnd: this.log.end, epochStarts: [{ epoch: d.epoch, startOffset: e.offset }] })
          break
        }
        case 'appendFetched': {
          const fetched = d.records as SimEntry[]
          const from = this.log.end
          const epochStarts = this.log.appendFetched(d.fromOffset, fetched)
          for (let o = from; o < this.log.end; o++) this.hooks.appendedEntry(this.id, this.log.entries[o])
          appends.push({ logEnd: this.log.end, epochStarts })
          break
        }
        case 'attachRecords': {
          const entries = this.log.read(d.fromOffset, d.maxBytes)
          d.response.records = entries.length === 0 ? null : entries
          break
        }
        case 'truncate':
          this.hooks.truncating(this.id, d.offset)
          this.log.truncate(d.offset)
          break
        case 'resetLog':
          throw new Error('the simulator never moves the log start')
      }
    }
    if (this.log.durableEnd < this.log.end) this.log.startFlush(now + this.flushDelay())
    return appends
  }

  private flushDelay(): number {
    return 1 + this.rng.int(this.opts.flushDelayMaxTicks)
  }
}
