// Safety checker: Raft's invariants, asserted after every simulation step and on the
// shell events that could break them. Each check names the property it guards.
import { majority } from '../raft/quorum.js'
import { differByOne, learnsDirectories } from '../raft/voter-set.js'
import type { Message, Status, VoterSetAt, VoteRequest } from '../raft/types.js'
import type { SimEntry, SimLog, SimSnapshot } from './sim-log.js'

/**
 * A node as the checker sees it: the stand-in shell (sim-node.ts) or the real one (shell-node.ts),
 * whose log the simulator follows in a SimLog of chain hashes.
 */
export interface CheckedNode {
  readonly id: number
  /** Running (a crashed node's log still counts for what is durable). */
  readonly up: boolean
  /** Bumped by every restart (and every reopen of the real shell): HW and applied checks restart. */
  readonly incarnation: number
  readonly log: SimLog
  /** Its directory id (a new one after its disk was wiped), if the simulation gives them. */
  readonly directoryId?: string
  /** The core's view. */
  status(): Status
  /** No Ready is half carried out: core and log are in step, the per-node checks apply. */
  readonly settled: boolean
}

export class SafetyViolation extends Error {
  override name = 'SafetyViolation'
}

/** A member of `set` whose node now has another directory id than the recorded one (its disk was wiped). */
export function isLostVoter(set: VoterSetAt, n: CheckedNode | undefined): boolean {
  const recorded = set.directoryIds?.[n?.id ?? -1]
  return n !== undefined && recorded !== undefined && n.directoryId !== undefined && n.directoryId !== recorded
}

function formatSet(set: VoterSetAt): string {
  return set.voters.map((v) => (set.directoryIds?.[v] === undefined ? `${v}` : `${v}@${set.directoryIds[v]}`)).join(',')
}

function fail(property: string, detail: string): never {
  throw new SafetyViolation(`${property}: ${detail}`)
}

/** Epochs are assumed below this so (offset, epoch) packs into one map key. */
const EPOCH_KEY_SPAN = 1 << 20

export class Checker {
  /** The voter set in force at the end of the committed prefix. */
  private committedVoters: VoterSetAt

  /** `nodes`: the cluster (filled by the caller), for the checks made on a node's behalf. */
  constructor(private readonly bootstrapVoters: readonly number[], private readonly nodes: readonly CheckedNode[] = []) {
    this.committedVoters = { offset: -1, voters: bootstrapVoters }
  }

  /**
   * Damaged logs not yet repaired, node → the log end it must reach again (the bar its shell
   * wrote before truncating). Tracked here, not read from the core: the checks below are what
   * keep a damaged replica's truncation from losing committed records.
   */
  private readonly damaged = new Map<number, number>()

  private readonly leaderOfEpoch = new Map<number, number>()
  /** (offset, epoch) → chain hash of the prefix ending there, across every node. */
  private readonly chainAt = new Map<number, number>()
  /** Chain hash and epoch of each committed offset, as first applied by any node. */
  private readonly committedChains: number[] = []
  private readonly committedEpochs: number[] = []
  private readonly committedPayloads: number[] = []
  /** Epoch → highest committed end learned by a node in that epoch. */
  private readonly committedEndByEpoch = new Map<number, number>()
  private readonly realVotes = new Map<string, number>()
  private readonly hwSeen = new Map<number, { incarnation: number; hw: number }>()
  private readonly applied = new Map<number, { incarnation: number; end: number }>()
  private readonly leaderMark = new Map<number, { incarnation: number; epoch: number; end: number; chain: number }>()

  /** Offsets below this are committed (some node's HW passed them). */
  get committedEnd(): number {
    return this.committedChains.length
  }

  /** Payload of the committed record at `offset`, if committed. */
  committedPayload(offset: number): number | undefined {
    return this.committedPayloads[offset]
  }

  /** Chain hash of the committed prefix ending at `offset`, if committed. */
  committed(offset: number): number | undefined {
    return this.committedChains[offset]
  }

  /** Chain hash of the prefix ending at (offset, epoch), if any node ever appended that entry. */
  chainOf(offset: number, epoch: number): number | undefined {
    return this.chainAt.get(offset * EPOCH_KEY_SPAN + epoch)
  }

  /**
   * Log matching: two entries with the same offset and epoch have identical prefixes. And
   * KIP-853's one voter at a time: a voter record changes the set in force by exactly one, or
   * only learns directory ids it lacked.
   */
  appendedEntry(node: number, e: SimEntry, log: SimLog): void {
    if (e.epoch >= EPOCH_KEY_SPAN) fail('simulator limit', `epoch ${e.epoch} too large`)
    const key = e.offset * EPOCH_KEY_SPAN + e.epoch
    const prior = this.chainAt.get(key)
    if (prior === undefined) this.chainAt.set(key, e.chain)
    else if (prior !== e.chain) fail('log matching', `node ${node} offset ${e.offset} epoch ${e.epoch} has a different prefix`)
    if (e.voters === undefined) return
    const before = log.voterSetAt(e.offset - 1) ?? { offset: -1, voters: this.bootstrapVoters }
    const after = { offset: e.offset, voters: e.voters, directoryIds: e.directoryIds }
    if (!differByOne(before.voters, e.voters) && !learnsDirectories(before, after)) {
      fail('one voter at a time', `node ${node} offset ${e.offset} changes voters ${formatSet(before)} to ${formatSet(after)}`)
    }
  }

  /**
   * Election restriction and vote uniqueness (one vote per voter per epoch, even across crashes;
   * a replica whose disk was wiped is another replica, with another directory id).
   */
  voteGranted(voter: number, req: VoteRequest, lastEpoch: number, logEnd: number, voterDirectoryId?: string): void {
    const upToDate = req.lastEpoch > lastEpoch || (req.lastEpoch === lastEpoch && req.logEnd >= logEnd)
    if (!upToDate) {
      fail('election restriction', `node ${voter} granted a ${req.preVote ? 'pre-vote' : 'vote'} in epoch ${req.epoch} to ${req.from} ` +
        `whose log (${req.lastEpoch}, ${req.logEnd}) is behind its own (${lastEpoch}, ${logEnd})`)
    }
    const v = this.nodes[voter - 1]
    if (v !== undefined && this.unrepaired(v)) {
      fail('damaged log', `node ${voter} granted a ${req.preVote ? 'pre-vote' : 'vote'} in epoch ${req.epoch} to ${req.from} before its damaged log was repaired (log end ${logEnd}, bar ${this.damaged.get(voter)})`)
    }
    if (req.preVote) return
    const key = `${voter}/${voterDirectoryId ?? ''}:${req.epoch}`
    const prior = this.realVotes.get(key)
    if (prior !== undefined && prior !== req.from) {
      fail('vote uniqueness', `node ${voter} voted for ${prior} and ${req.from} in epoch ${req.epoch}`)
    }
    this.realVotes.set(key, req.from)
  }

  /**
   * The fence: a fenced node starts no candidacy (no pre-vote or vote request of its own) and
   * does not lead (no BeginQuorumEpoch). `m` is a message `node` is sending.
   */
  sent(node: CheckedNode, m: Message): void {
    if (m.type !== 'vote' && m.type !== 'beginQuorumEpoch') return
    const s = node.status()
    if (!s.fenced) return
    const act = m.type === 'vote' ? `asks ${m.to} for a ${m.preVote ? 'pre-vote' : 'vote'}` : `tells ${m.to} it leads`
    fail('fence', `fenced node ${node.id} ${act} in epoch ${m.epoch}`)
  }

  /**
   * A leader never deletes its own entries; nobody deletes what it applied, except the bad
   * entries of a damaged log (`damage`): those a majority still holds, or the damaged replica
   * abstains until it holds them again (damageFound).
   */
  truncating(node: CheckedNode, offset: number, damage = false): void {
    const s = node.status()
    if (s.role === 'leader') fail('leader append-only', `leader ${node.id} of epoch ${s.epoch} truncates to ${offset}`)
    if (damage) return
    const a = this.applied.get(node.id)
    if (a !== undefined && a.incarnation === node.incarnation && offset < a.end) {
      fail('committed durability', `node ${node.id} truncates to ${offset} below its applied end ${a.end}`)
    }
  }

  /**
   * Disk damage: `node` found bad bytes at `offset` of its log, which ended at `logEnd`. Until
   * it holds its old log end again (or, caught up with a leader, the committed prefix) it must
   * neither vote nor lead; meanwhile it counts for the commit quorum as if it held everything (an
   * abstaining voter elects no one that lacks a committed record). Its HW drops on purpose.
   */
  damageFound(node: CheckedNode, offset: number, logEnd: number): void {
    this.damaged.set(node.id, Math.max(this.damaged.get(node.id) ?? 0, logEnd))
    this.hwSeen.delete(node.id)
    if (offset < node.log.start || offset >= logEnd) fail('simulator', `node ${node.id} reports damage at ${offset} outside its log [${node.log.start}, ${logEnd})`)
  }

  /** Never serve a damaged entry: every entry handed to a fetch answer reads back good. */
  served(node: CheckedNode, entries: readonly SimEntry[], log: SimLog): void {
    const bad = log.damagedAt
    const hit = bad === null ? undefined : entries.find((e) => e.offset === bad)
    if (hit !== undefined) fail('damaged log', `node ${node.id} serves its damaged entry at offset ${hit.offset}`)
  }

  /**
   * Is `n`'s damaged log still unrepaired? Repaired once its log is durable up to the bar again,
   * or once its core says so (caught up with a leader) while it durably holds the committed prefix.
   */
  unrepaired(n: CheckedNode): boolean {
    const bar = this.damaged.get(n.id)
    if (bar === undefined) return false
    const coreRepaired = n.up && n.settled && n.status().damagedUntil === null && this.holdsCommitted(n)
    if (n.log.durableEnd < bar && !coreRepaired) return true
    this.damaged.delete(n.id)
    return false
  }

  /** Damaged logs not yet repaired (the damage guard allows one at a time). */
  get damagedLogs(): number {
    let count = 0
    for (const id of [...this.damaged.keys()]) if (this.unrepaired(this.nodes[id - 1])) count++
    return count
  }

  private holdsCommitted(n: CheckedNode): boolean {
    const end = this.committedEnd
    if (end === 0 || n.log.start >= end) return true
    return n.log.durableEnd >= end && n.log.chainAt(end - 1) === this.committedChains[end - 1]
  }

  /** Snapshot safety: a snapshot (taken or installed) holds exactly the committed prefix. */
  snapshot(node: number, s: SimSnapshot, how: 'taken' | 'installed'): void {
    this.committedPrefix('snapshot safety', `node ${node} ${how} a snapshot ending at ${s.endOffset}`, s.endOffset, s.epoch, s.chain)
  }

  /** Reset safety: a follower that starts over sits on the committed prefix, with its epoch. */
  reset(node: number, logStart: number, epoch: number, chain: number): void {
    this.committedPrefix('reset safety', `node ${node} starts over at ${logStart}`, logStart, epoch, chain)
  }

  private committedPrefix(property: string, what: string, end: number, epoch: number, chain: number): void {
    const want = this.committedChains[end - 1]
    if (want === undefined) fail(property, `${what}, beyond what is committed (${this.committedEnd})`)
    if (want !== chain) fail(property, `${what}, after a prefix that differs from the committed one`)
    if (this.committedEpochs[end - 1] !== epoch) fail(property, `${what} after epoch ${epoch}; the committed record there has epoch ${this.committedEpochs[end - 1]}`)
  }

  /**
   * `n` (settled) is about to drop its records below `end`, which lie below its HW (retention):
   * apply them first. The real shell may move its HW and its log start within one step, and the
   * checker must not lose the only sight it had of those committed records.
   */
  catchUp(n: CheckedNode, end: number): void {
    const s = n.status()
    this.apply(n, s.epoch, Math.min(end, s.highWatermark))
  }

  afterStep(nodes: readonly CheckedNode[]): void {
    for (const n of nodes) if (n.up && n.settled) this.checkNode(n)
    this.checkCommitQuorum(nodes)
  }

  /**
   * Commit quorum: the committed prefix is durable on so many members of the committed voter
   * set that every majority of it holds the prefix, so no candidate lacking it can be elected
   * (voters refuse logs behind their own). One change at a time keeps this true across voter
   * changes; counting a removed voter toward the HW breaks it. A voter whose disk was wiped
   * (its node now has another directory id than the one recorded) is lost, not missing: no
   * majority can count it any more (it refuses what is addressed to it), so whether a candidate
   * lacking the prefix can win is the leader-completeness check's to see. A voter whose damaged
   * log is not yet repaired counts as holding it: it votes for no one until it does.
   */
  private checkCommitQuorum(nodes: readonly CheckedNode[]): void {
    const end = this.committedEnd
    if (end === 0) return
    let missing = 0
    for (const id of this.committedVoters.voters) {
      const n = nodes[id - 1]
      if (n !== undefined && isLostVoter(this.committedVoters, n)) continue
      if (n !== undefined && this.unrepaired(n)) continue // it abstains: no one lacking the prefix gets its vote
      if (n === undefined || n.log.durableEnd < end) missing++
    }
    if (missing >= majority(this.committedVoters.voters.length)) {
      fail('commit quorum', `offsets below ${end} are committed but ${missing} of voters ${formatSet(this.committedVoters)} lack them on disk`)
    }
  }

  /** The committed voter set knows every voter's directory id, and none of them was wiped. */
  committedVotersIntact(nodes: readonly CheckedNode[]): boolean {
    const set = this.committedVoters
    return set.voters.every((id) => set.directoryIds?.[id] !== undefined && !isLostVoter(set, nodes[id - 1]))
  }

  /** The voter set in force at the committed end. */
  committedVoterSet(): VoterSetAt {
    return this.committedVoters
  }

  private checkNode(n: CheckedNode): void {
    const s = n.status()
    if (s.logEnd !== n.log.end || s.logStart !== n.log.start) {
      fail('shell agreement', `node ${n.id} core log [${s.logStart}, ${s.logEnd}) != shell [${n.log.start}, ${n.log.end})`)
    }
    if (s.flushedEnd > n.log.durableEnd) fail('durability', `node ${n.id} believes ${s.flushedEnd} flushed, disk has ${n.log.durableEnd}`)
    if (s.highWatermark > s.logEnd) fail('HW bound', `node ${n.id} HW ${s.highWatermark} > log end ${s.logEnd}`)
    const seen = this.hwSeen.get(n.id)
    if (seen !== undefined && seen.incarnation === n.incarnation && s.highWatermark < seen.hw) {
      fail('HW monotonic', `node ${n.id} HW went from ${seen.hw} to ${s.highWatermark}`)
    }
    this.hwSeen.set(n.id, { incarnation: n.incarnation, hw: s.highWatermark })
    this.apply(n, s.epoch, s.highWatermark)
    this.checkVoters(n, s.voters)
    if (s.fenced && s.role !== 'follower' && s.role !== 'unattached') fail('fence', `fenced node ${n.id} is ${s.role} in epoch ${s.epoch}`)
    if (s.role !== 'follower' && s.role !== 'unattached' && this.unrepaired(n)) {
      fail('damaged log', `node ${n.id} is ${s.role} in epoch ${s.epoch} before its damaged log was repaired (log end ${n.log.end}, bar ${this.damaged.get(n.id)})`)
    }
    if (s.role === 'leader') this.checkLeader(n, s.epoch)
  }

  /** State-machine safety: every node applies the same entry at each committed offset. */
  private apply(n: CheckedNode, epoch: number, hw: number): void {
    let a = this.applied.get(n.id)
    if (a === undefined || a.incarnation !== n.incarnation) {
      a = { incarnation: n.incarnation, end: 0 }
      this.applied.set(n.id, a)
    }
    if (a.end < n.log.start && hw >= n.log.start) {
      // The state below the log start came by snapshot, reset or retention: it is the committed prefix.
      const want = this.committedChains[n.log.start - 1]
      if (want !== undefined && want !== n.log.baseChain) {
        fail('state-machine safety', `node ${n.id} holds a prefix below its log start ${n.log.start} that differs from the committed one`)
      }
      a.end = n.log.start
    }
    for (let o = Math.max(a.end, n.log.start); o < hw; o++) {
      const chain = n.log.entryAt(o).chain
      if (o > this.committedChains.length) fail('simulator', `node ${n.id} commits offset ${o} before anyone committed ${this.committedChains.length}`)
      if (o === this.committedChains.length) {
        const e = n.log.entryAt(o)
        this.committedChains.push(chain)
        this.committedEpochs.push(e.epoch)
        this.committedPayloads.push(e.payload)
        if (e.voters !== undefined) this.committedVoters = { offset: e.offset, voters: e.voters, directoryIds: e.directoryIds }
      } else if (this.committedChains[o] !== chain) fail('state-machine safety', `node ${n.id} applied a different entry at committed offset ${o}`)
    }
    if (hw > a.end) {
      a.end = hw
      this.committedEndByEpoch.set(epoch, Math.max(this.committedEndByEpoch.get(epoch) ?? 0, hw))
    }
  }

  /**
   * KIP-853: the core and its log agree on the voter set in force; each voter record changes
   * the set by exactly one voter; and no log holds more than one uncommitted voter record.
   */
  private checkVoters(n: CheckedNode, voters: readonly number[]): void {
    const records = n.log.voterRecords()
    const inLog = records.length === 0 ? this.bootstrapVoters : records[records.length - 1].voters
    if (inLog.length !== voters.length || inLog.some((v, i) => v !== voters[i])) {
      fail('shell agreement', `node ${n.id} core voters ${voters.join(',')} != log voters ${inLog.join(',')}`)
    }
    let uncommitted = 0
    for (const r of records) if (r.offset >= this.committedEnd) uncommitted++
    if (uncommitted > 1) fail('one voter change in flight', `node ${n.id} holds ${uncommitted} uncommitted voter records`)
  }

  private checkLeader(n: CheckedNode, epoch: number): void {
    const prior = this.leaderOfEpoch.get(epoch)
    if (prior !== undefined && prior !== n.id) fail('election safety', `nodes ${prior} and ${n.id} both lead epoch ${epoch}`)
    this.leaderOfEpoch.set(epoch, n.id)
    // Leader completeness: everything committed in an earlier epoch is in this leader's log.
    let need = 0
    for (const [e, end] of this.committedEndByEpoch) if (e < epoch && end > need) need = end
    if (need > 0 && (n.log.end < need || (need - 1 >= n.log.start - 1 && n.log.chainAt(need - 1) !== this.committedChains[need - 1]))) {
      fail('leader completeness', `leader ${n.id} of epoch ${epoch} lacks committed offsets below ${need}`)
    }
    // Leader append-only: within one leadership, the log only grows.
    const m = this.leaderMark.get(n.id)
    if (m !== undefined && m.incarnation === n.incarnation && m.epoch === epoch && m.end > 0) {
      if (n.log.end < m.end || (m.end - 1 >= n.log.start - 1 && n.log.chainAt(m.end - 1) !== m.chain)) {
        fail('leader append-only', `leader ${n.id} of epoch ${epoch} lost or rewrote offsets below ${m.end}`)
      }
    }
    this.leaderMark.set(n.id, { incarnation: n.incarnation, epoch, end: n.log.end, chain: n.log.lastChain() })
  }
}
