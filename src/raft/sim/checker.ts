// Safety checker: Raft's invariants, asserted after every simulation step and on the
// shell events that could break them. Each check names the property it guards.
import type { VoteRequest } from '../types.js'
import type { SimEntry } from './sim-log.js'
import type { SimNode } from './sim-node.js'

export class SafetyViolation extends Error {
  override name = 'SafetyViolation'
}

function fail(property: string, detail: string): never {
  throw new SafetyViolation(`${property}: ${detail}`)
}

/** Epochs are assumed below this so (offset, epoch) packs into one map key. */
const EPOCH_KEY_SPAN = 1 << 20

export class Checker {
  private readonly leaderOfEpoch = new Map<number, number>()
  /** (offset, epoch) → chain hash of the prefix ending there, across every node. */
  private readonly chainAt = new Map<number, number>()
  /** Chain hash of each committed offset, as first applied by any node. */
  readonly committed: number[] = []
  /** Epoch → highest committed end learned by a node in that epoch. */
  private readonly committedEndByEpoch = new Map<number, number>()
  private readonly realVotes = new Map<string, number>()
  private readonly hwSeen = new Map<number, { incarnation: number; hw: number }>()
  private readonly applied = new Map<number, { incarnation: number; end: number }>()
  private readonly leaderMark = new Map<number, { incarnation: number; epoch: number; end: number; chain: number }>()

  /** Log matching: two entries with the same offset and epoch have identical prefixes. */
  appendedEntry(node: number, e: SimEntry): void {
    if (e.epoch >= EPOCH_KEY_SPAN) fail('simulator limit', `epoch ${e.epoch} too large`)
    const key = e.offset * EPOCH_KEY_SPAN + e.epoch
    const prior = this.chainAt.get(key)
    if (prior === undefined) this.chainAt.set(key, e.chain)
    else if (prior !== e.chain) fail('log matching', `node ${node} offset ${e.offset} epoch ${e.epoch} has a different prefix`)
  }

  /** Election restriction and vote uniqueness (one vote per voter per epoch, even across crashes). */
  voteGranted(voter: number, req: VoteRequest, lastEpoch: number, logEnd: number): void {
    const upToDate = req.lastEpoch > lastEpoch || (req.lastEpoch === lastEpoch && req.logEnd >= logEnd)
    if (!upToDate) {
      fail('election restriction', `node ${voter} granted a ${req.preVote ? 'pre-vote' : 'vote'} in epoch ${req.epoch} to ${req.from} ` +
        `whose log (${req.lastEpoch}, ${req.logEnd}) is behind its own (${lastEpoch}, ${logEnd})`)
    }
    if (req.preVote) return
    const key = `${voter}:${req.epoch}`
    const prior = this.realVotes.get(key)
    if (prior !== undefined && prior !== req.from) {
      fail('vote uniqueness', `node ${voter} voted for ${prior} and ${req.from} in epoch ${req.epoch}`)
    }
    this.realVotes.set(key, req.from)
  }

  /** A leader never deletes its own entries; nobody deletes what it applied. */
  truncating(node: SimNode, offset: number): void {
    const s = node.core!.status()
    if (s.role === 'leader') fail('leader append-only', `leader ${node.id} of epoch ${s.epoch} truncates to ${offset}`)
    const a = this.applied.get(node.id)
    if (a !== undefined && a.incarnation === node.incarnation && offset < a.end) {
      fail('committed durability', `node ${node.id} truncates to ${offset} below its applied end ${a.end}`)
    }
  }

  afterStep(nodes: readonly SimNode[]): void {
    for (const n of nodes) if (n.up) this.checkNode(n)
  }

  private checkNode(n: SimNode): void {
    const s = n.core!.status()
    if (s.logEnd !== n.log.end) fail('shell agreement', `node ${n.id} core log end ${s.logEnd} != log ${n.log.end}`)
    if (s.flushedEnd > n.log.durableEnd) fail('durability', `node ${n.id} believes ${s.flushedEnd} flushed, disk has ${n.log.durableEnd}`)
    if (s.highWatermark > s.logEnd) fail('HW bound', `node ${n.id} HW ${s.highWatermark} > log end ${s.logEnd}`)
    const seen = this.hwSeen.get(n.id)
    if (seen !== undefined && seen.incarnation === n.incarnation && s.highWatermark < seen.hw) {
      fail('HW monotonic', `node ${n.id} HW went from ${seen.hw} to ${s.highWatermark}`)
    }
    this.hwSeen.set(n.id, { incarnation: n.incarnation, hw: s.highWatermark })
    this.apply(n, s.epoch, s.highWatermark)
    if (s.role === 'leader') this.checkLeader(n, s.epoch)
  }

  /** State-machine safety: every node applies the same entry at each committed offset. */
  private apply(n: SimNode, epoch: number, hw: number): void {
    let a = this.applied.get(n.id)
    if (a === undefined || a.incarnation !== n.incarnation) {
      a = { incarnation: n.incarnation, end: 0 }
      this.applied.set(n.id, a)
    }
    for (let o = a.end; o < hw; o++) {
      const chain = n.log.entries[o].chain
      if (o >= this.committed.length) this.committed.push(chain)
      else if (this.committed[o] !== chain) fail('state-machine safety', `node ${n.id} applied a different entry at committed offset ${o}`)
    }
    if (hw > a.end) {
      a.end = hw
      this.committedEndByEpoch.set(epoch, Math.max(this.committedEndByEpoch.get(epoch) ?? 0, hw))
    }
  }

  private checkLeader(n: SimNode, epoch: number): void {
    const prior = this.leaderOfEpoch.get(epoch)
    if (prior !== undefined && prior !== n.id) fail('election safety', `nodes ${prior} and ${n.id} both lead epoch ${epoch}`)
    this.leaderOfEpoch.set(epoch, n.id)
    // Leader completeness: everything committed in an earlier epoch is in this leader's log.
    let need = 0
    for (const [e, end] of this.committedEndByEpoch) if (e < epoch && end > need) need = end
    if (need > 0 && (n.log.end < need || n.log.entries[need - 1].chain !== this.committed[need - 1])) {
      fail('leader completeness', `leader ${n.id} of epoch ${epoch} lacks committed offsets below ${need}`)
    }
    // Leader append-only: within one leadership, the log only grows.
    const m = this.leaderMark.get(n.id)
    if (m !== undefined && m.incarnation === n.incarnation && m.epoch === epoch && m.end > 0) {
      if (n.log.end < m.end || n.log.entries[m.end - 1].chain !== m.chain) {
        fail('leader append-only', `leader ${n.id} of epoch ${epoch} lost or rewrote offsets below ${m.end}`)
      }
    }
    this.leaderMark.set(n.id, { incarnation: n.incarnation, epoch, end: n.log.end, chain: n.log.lastChain() })
  }
}
