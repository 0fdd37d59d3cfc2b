// The simulator's fake log shell: entries are (offset, epoch, payload id) plus a chain hash
// over the whole prefix, so "same (offset, epoch) ⇒ same prefix" is one comparison.
// Appends land in memory at once; a flush makes a prefix durable later; a crash keeps
// only the durable prefix. The log start, its epoch, chain and voter set, and the latest
// snapshot are durable as soon as they change (a real shell writes them atomically).
// Disk damage (disk-damage.ts): a durable entry's bytes can go bad (its CRC fails) without the
// shell knowing until it reads them; the repair bar (the real shell's damaged.json) is durable.
import { assert } from '../raft/assert.js'
import type { AppendedRange, EpochStart, LogView, NodeId, SnapshotInfo, VoterDirectories, VoterSetAt } from '../raft/types.js'

export interface SimEntry {
  readonly offset: number
  readonly epoch: number
  /** Client payload id (> 0), a LeaderChange (-epoch) or a voter record (VOTERS_PAYLOAD - mask). */
  readonly payload: number
  /** Hash of this entry and every entry before it. */
  readonly chain: number
  /** The voter set a voter record puts in force, and its voters' directory ids where known. */
  readonly voters?: readonly NodeId[]
  readonly directoryIds?: VoterDirectories
}

/** A simulated state-machine snapshot: the committed prefix below endOffset, as its chain hash. */
export interface SimSnapshot extends SnapshotInfo {
  readonly chain: number
}

/** Record bytes each simulated entry stands for, so maxBytes limits have meaning. */
export const SIM_ENTRY_BYTES = 100
/** Payload ids of voter records sit below this (LeaderChange payloads are -epoch, epochs < 2^20). */
const VOTERS_PAYLOAD = -(1 << 21)

export function votersPayload(voters: readonly NodeId[]): number {
  let mask = 0
  for (const v of voters) mask |= 1 << v
  return VOTERS_PAYLOAD - mask
}

/** A simulated snapshot's size grows with the state it covers, so downloads take several chunks. */
export function simSnapshotBytes(endOffset: number): number {
  return 64 + 16 * endOffset
}

export function chainHash(prev: number, epoch: number, payload: number): number {
  let h1 = Math.imul((prev ^ 0x5bd1e995) >>> 0, 0x01000193) ^ epoch
  let h2 = Math.imul(Math.floor(prev / 0x100000000) + 0x2545f491, 0x85ebca6b) ^ payload
  h1 = Math.imul(h1 ^ (h1 >>> 15), 0x2c1b3c6d) ^ Math.imul(payload, 0x9e3779b1)
  h2 = Math.imul(h2 ^ (h2 >>> 13), 0x297a2d39) ^ Math.imul(epoch, 0xc2b2ae35)
  h1 ^= h2 >>> 7
  return (h1 >>> 0) * 0x200000 + ((h2 >>> 0) & 0x1fffff)
}

export class SimLog {
  /** Offsets [start, end) are in `entries`; everything below start is gone. */
  start = 0
  /** Epoch and chain of the record just below start (chain 0 for an empty prefix). */
  baseEpoch = 0
  baseChain = 0
  /** The voter set in force at start (null: the bootstrap set). */
  baseVoters: readonly NodeId[] | null = null
  baseDirectories: VoterDirectories | undefined = undefined
  entries: SimEntry[] = []
  /** Offsets of the voter records in `entries`, ascending (kept so voter checks stay cheap). */
  private voterOffsets: number[] = []
  durableEnd = 0
  snapshot: SimSnapshot | null = null
  /** Lowest offset whose stored bytes are bad and not yet found (null: none); always below durableEnd. */
  damagedAt: number | null = null
  /** The log end a damaged log must reach again before it votes (damaged.json; null: not damaged). */
  repairEnd: number | null = null
  /** Closed segments are opened without a CRC check (the core asks for one before campaigning). */
  unverifiedAtOpen = false
  /** End of the flush in progress (the log end when it began), or null. */
  flushTarget: number | null = null
  flushDoneAt = 0

  get end(): number {
    return this.start + this.entries.length
  }

  entryAt(offset: number): SimEntry {
    assert(offset >= this.start && offset < this.end, `offset ${offset} outside [${this.start}, ${this.end})`)
    return this.entries[offset - this.start]
  }

  /** The chain hash of the prefix ending at `offset`, if this log still knows it. */
  chainAt(offset: number): number | undefined {
    if (offset === this.start - 1) return this.baseChain
    return offset >= this.start && offset < this.end ? this.entries[offset - this.start].chain : undefined
  }

  lastChain(): number {
    return this.entries.length === 0 ? this.baseChain : this.entries[this.entries.length - 1].chain
  }

  appendLocal(epoch: number, payload: number, voters?: readonly NodeId[], directoryIds?: VoterDirectories): SimEntry {
    const e: SimEntry = {
      offset: this.end, epoch, payload, chain: chainHash(this.lastChain(), epoch, payload), ...(voters ? { voters } : {}), ...(directoryIds ? { directoryIds } : {}),
    }
    this.entries.push(e)
    if (voters !== undefined) this.voterOffsets.push(e.offset)
    return e
  }

  /** Appends a leader's entries; returns the epochs and voter sets that start inside them. */
  appendFetched(fromOffset: number, fetched: readonly SimEntry[]): AppendedRange {
    assert(fromOffset === this.end, `fetched append at ${fromOffset}, log end ${this.end}`)
    const epochStarts: EpochStart[] = []
    const voterSets: VoterSetAt[] = []
    let lastEpoch = this.entries.length === 0 ? this.baseEpoch : this.entries[this.entries.length - 1].epoch
    for (const e of fetched) {
      assert(e.offset === this.end, 'gap in fetched entries')
      const mine = this.appendLocal(e.epoch, e.payload, e.voters, e.directoryIds)
      assert(mine.chain === e.chain, 'fetched entries do not extend our prefix')
      if (e.epoch !== lastEpoch) epochStarts.push({ epoch: e.epoch, startOffset: e.offset })
      if (e.voters !== undefined) voterSets.push(voterSetOf(e))
      lastEpoch = e.epoch
    }
    return { epochStarts, voterSets }
  }

  read(fromOffset: number, maxBytes: number): SimEntry[] {
    assert(fromOffset >= this.start, `read at ${fromOffset} below the log start ${this.start}`)
    const count = Math.max(1, Math.floor(maxBytes / SIM_ENTRY_BYTES))
    return this.entries.slice(fromOffset - this.start, fromOffset - this.start + count)
  }

  truncate(offset: number): void {
    assert(offset >= this.start, `truncation to ${offset} below the log start ${this.start}`)
    this.entries.length = Math.min(this.entries.length, offset - this.start)
    this.dropVoterOffsetsFrom(this.end)
    this.durableEnd = Math.min(this.durableEnd, offset)
    if (this.damagedAt !== null && this.damagedAt >= offset) this.damagedAt = null // the bad bytes went with the tail
    // A flush that began before the truncation cannot vouch for what replaces the tail.
    if (this.flushTarget !== null) this.flushTarget = Math.min(this.flushTarget, offset)
  }

  /** Deletes the records below `offset` (retention, or after a snapshot). */
  advanceStart(offset: number): void {
    assert(offset > this.start && offset <= this.end, `log start ${offset} outside (${this.start}, ${this.end}]`)
    const last = this.entryAt(offset - 1)
    const base = this.voterSetAt(offset - 1)
    this.baseVoters = base?.voters ?? null
    this.baseDirectories = base?.directoryIds
    this.baseEpoch = last.epoch
    this.baseChain = last.chain
    this.entries = this.entries.slice(offset - this.start)
    this.voterOffsets = this.voterOffsets.filter((o) => o >= offset)
    this.start = offset
    this.durableEnd = Math.max(this.durableEnd, offset)
    if (this.damagedAt !== null && this.damagedAt < offset) this.damagedAt = null // deleted unread
  }

  takeSnapshot(endOffset: number): SimSnapshot {
    const last = this.entryAt(endOffset - 1)
    const s = { endOffset, epoch: last.epoch, chain: last.chain, sizeBytes: simSnapshotBytes(endOffset) }
    this.snapshot = s
    this.advanceStart(endOffset)
    return s
  }

  /** Starts over empty at `offset`, below which the (committed) prefix has chain `chain`. */
  reset(offset: number, epoch: number, chain: number, voters: readonly NodeId[], directoryIds: VoterDirectories | undefined): void {
    this.entries = []
    this.voterOffsets = []
    this.start = this.durableEnd = offset
    this.baseEpoch = epoch
    this.baseChain = chain
    this.baseVoters = voters
    this.baseDirectories = directoryIds
    this.flushTarget = null
    this.damagedAt = null
  }

  installSnapshot(s: SimSnapshot, voters: readonly NodeId[], directoryIds: VoterDirectories | undefined): void {
    this.snapshot = s
    this.reset(s.endOffset, s.epoch, s.chain, voters, directoryIds)
  }

  /** The disk is wiped: nothing of this log is left, as on a new node's empty data dir. */
  wipe(): void {
    this.start = this.baseEpoch = this.baseChain = this.durableEnd = this.flushDoneAt = 0
    this.baseVoters = null
    this.baseDirectories = undefined
    this.entries = []
    this.voterOffsets = []
    this.snapshot = null
    this.flushTarget = null
    this.damagedAt = this.repairEnd = null
  }

  /** The stored bytes of the durable entry at `offset` go bad (nothing notices yet). */
  damage(offset: number): void {
    assert(offset >= this.start && offset < this.durableEnd, `damage at ${offset} outside the durable log [${this.start}, ${this.durableEnd})`)
    this.damagedAt = Math.min(this.damagedAt ?? offset, offset)
  }

  /** The voter records still in the log, with the set in force at its start first. */
  voterRecords(): VoterSetAt[] {
    const out: VoterSetAt[] = this.baseVoters === null ? [] : [this.baseSet()!]
    for (const o of this.voterOffsets) out.push(voterSetOf(this.entryAt(o)))
    return out
  }

  /** The set in force once the record at `offset` is appended (null: the bootstrap set). */
  votersAt(offset: number): readonly NodeId[] | null {
    return this.voterSetAt(offset)?.voters ?? null
  }

  /** As votersAt, with the set's directory ids. */
  voterSetAt(offset: number): VoterSetAt | null {
    let v = this.baseSet()
    for (const o of this.voterOffsets) {
      if (o > offset) break
      v = voterSetOf(this.entryAt(o))
    }
    return v
  }

  private baseSet(): VoterSetAt | null {
    if (this.baseVoters === null) return null
    const base = { offset: this.start - 1, voters: this.baseVoters }
    return this.baseDirectories === undefined ? base : { ...base, directoryIds: this.baseDirectories }
  }

  private dropVoterOffsetsFrom(end: number): void {
    while (this.voterOffsets.length > 0 && this.voterOffsets[this.voterOffsets.length - 1] >= end) this.voterOffsets.pop()
  }

  startFlush(doneAt: number): void {
    if (this.flushTarget !== null || this.durableEnd >= this.end) return
    this.flushTarget = this.end
    this.flushDoneAt = doneAt
  }

  /** Completes a due flush; returns the new durable end, or null if nothing completed. */
  completeFlush(now: number): number | null {
    if (this.flushTarget === null || now < this.flushDoneAt) return null
    this.durableEnd = Math.max(this.durableEnd, Math.min(this.flushTarget, this.end))
    this.flushTarget = null
    return this.durableEnd
  }

  crash(): void {
    this.entries.length = Math.max(0, this.durableEnd - this.start)
    this.dropVoterOffsetsFrom(this.end)
    this.flushTarget = null
  }

  view(): LogView {
    const snapshot = this.snapshot === null ? null : { endOffset: this.snapshot.endOffset, epoch: this.snapshot.epoch, sizeBytes: this.snapshot.sizeBytes }
    const damage = this.unverifiedAtOpen ? { unverified: this.entries.length > 0, damagedUntil: this.repairEnd } : {}
    return {
      logStart: this.start, logEnd: this.end, flushedEnd: this.durableEnd, epochs: epochStarts(this.entries),
      logStartEpoch: this.baseEpoch, voterSets: this.voterRecords(), snapshot, ...damage,
    }
  }
}

function voterSetOf(e: SimEntry): VoterSetAt {
  const set = { offset: e.offset, voters: e.voters! }
  return e.directoryIds === undefined ? set : { ...set, directoryIds: e.directoryIds }
}

/** Rebuilds the epoch cache from entries (a real shell persists it beside the log). */
export function epochStarts(entries: readonly SimEntry[]): EpochStart[] {
  const out: EpochStart[] = []
  for (const e of entries) {
    if (out.length === 0 || out[out.length - 1].epoch !== e.epoch) out.push({ epoch: e.epoch, startOffset: e.offset })
  }
  return out
}
