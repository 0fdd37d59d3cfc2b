// The voter set's history along the log (KIP-853 shape). A voter record takes effect as soon
// as it is appended — committed or not, as in the Raft dissertation (§4.1) and KRaft — and a
// truncation that removes it brings back the set before it. One change at a time keeps every
// two sets in force anywhere within one voter of each other, so their majorities overlap.
// Each set also records its voters' directory ids where known (KIP-853's ReplicaKey): a record
// may also only learn directory ids, never change one (that is a removal and an addition).
import { assert } from './assert.js'
import { VOTERS_MAX, VOTER_SETS_MAX } from './limits.js'
import type { DirectoryId, NodeId, VoterDirectories, VoterSetAt } from './types.js'

const NONE: VoterDirectories = Object.freeze({})

export class VoterHistory {
  /** Oldest first; entries[0] is the set in force at the log start (offset -1: bootstrap). */
  private readonly entries: VoterSetAt[]

  constructor(bootstrap: readonly NodeId[], recorded: readonly VoterSetAt[], logStart: number) {
    // A persisted base at offset -1 (a log that starts at 0) stands in for the bootstrap set.
    const base = recorded[0]?.offset === -1 ? recorded[0] : { offset: -1, voters: bootstrap }
    this.entries = [checkedSet(-1, base.voters, base.directoryIds)]
    for (const v of recorded) if (v.offset !== -1) this.record(v.offset, v.voters, v.directoryIds)
    this.advanceStart(logStart)
  }

  current(): readonly NodeId[] {
    return this.entries[this.entries.length - 1].voters
  }

  /** The directory ids the set in force records (where known). */
  currentDirectories(): VoterDirectories {
    return this.entries[this.entries.length - 1].directoryIds ?? NONE
  }

  /** The set in force before the latest record, if this log still holds it. */
  previous(): VoterSetAt | null {
    return this.entries.length < 2 ? null : this.entries[this.entries.length - 2]
  }

  /** Offset of the latest voter record (-1 if the set in force is the bootstrap one). */
  latestOffset(): number {
    return this.entries[this.entries.length - 1].offset
  }

  /** The set in force at `offset`, i.e. under the latest record at or before it. */
  at(offset: number): readonly NodeId[] {
    return this.entryAt(offset).voters
  }

  /** The directory ids recorded for the set in force at `offset`. */
  directoriesAt(offset: number): VoterDirectories | undefined {
    return this.entryAt(offset).directoryIds
  }

  private entryAt(offset: number): VoterSetAt {
    for (let i = this.entries.length - 1; i > 0; i--) if (this.entries[i].offset <= offset) return this.entries[i]
    return this.entries[0]
  }

  record(offset: number, voters: readonly NodeId[], directoryIds?: VoterDirectories): void {
    assert(Number.isSafeInteger(offset) && offset > this.latestOffset(), `voter record at ${offset} not after ${this.latestOffset()}`)
    assert(this.entries.length < VOTER_SETS_MAX, 'voter history full')
    this.entries.push(checkedSet(offset, voters, directoryIds))
  }

  /** The log was truncated at `offset`: records at or after it are gone, the set before them returns. */
  truncateFrom(offset: number): void {
    while (this.entries.length > 1 && this.entries[this.entries.length - 1].offset >= offset) this.entries.pop()
  }

  /** The log now starts at `logStart`: the set in force there becomes the base. */
  advanceStart(logStart: number): void {
    let base = 0
    while (base + 1 < this.entries.length && this.entries[base + 1].offset < logStart) base++
    this.entries.splice(0, base)
  }

  /** An empty log starting at `logStart` under `voters` (a reset or an installed snapshot). */
  reset(logStart: number, voters: readonly NodeId[], directoryIds?: VoterDirectories): void {
    this.entries.length = 0
    this.entries.push(checkedSet(logStart - 1, voters, directoryIds))
  }

  snapshot(): VoterSetAt[] {
    return this.entries.map((e) => ({ offset: e.offset, voters: [...e.voters], ...(e.directoryIds === undefined ? {} : { directoryIds: e.directoryIds }) }))
  }
}

/**
 * KIP-853: is the replica (id, directoryId) the member `id` of a voter set recording `dirs`?
 * An unknown directory id on either side matches (bootstrap lists, nodes that predate them).
 */
export function isVoterKey(voters: ReadonlySet<NodeId>, dirs: VoterDirectories, id: NodeId, directoryId: DirectoryId | undefined): boolean {
  if (!voters.has(id)) return false
  const recorded = dirs[id]
  return recorded === undefined || directoryId === undefined || recorded === directoryId
}

export function sameDirectories(a: VoterDirectories | undefined, b: VoterDirectories | undefined): boolean {
  const ka = Object.keys(a ?? NONE)
  const kb = Object.keys(b ?? NONE)
  return ka.length === kb.length && ka.every((k) => (a as Record<string, string>)[k] === (b as Record<string, string> | undefined)?.[k])
}

/** `dirs` as a set records it: undefined when none is known (so a set without any looks as it always did). */
export function knownDirectories(dirs: Readonly<Record<number, DirectoryId | undefined>>): VoterDirectories | undefined {
  const out: Record<NodeId, DirectoryId> = {}
  let any = false
  for (const [k, v] of Object.entries(dirs)) {
    if (v === undefined) continue
    out[Number(k)] = v
    any = true
  }
  return any ? out : undefined
}

/**
 * True when `b` has the same voters as `a`, every directory id `a` knows unchanged, and at least
 * one more known: a record that only learns directory ids (KIP-853's upgrade of a bootstrap set).
 */
export function learnsDirectories(a: VoterSetAt, b: VoterSetAt): boolean {
  if (a.voters.length !== b.voters.length || !a.voters.every((v) => b.voters.includes(v))) return false
  const da = a.directoryIds ?? NONE
  const db = b.directoryIds ?? NONE
  return Object.keys(da).every((k) => da[Number(k)] === db[Number(k)]) && Object.keys(db).length > Object.keys(da).length
}

/** True when `b` is `a` with exactly one voter added or removed. */
export function differByOne(a: readonly NodeId[], b: readonly NodeId[]): boolean {
  const sa = new Set(a)
  const sb = new Set(b)
  let onlyA = 0
  let onlyB = 0
  for (const x of sa) if (!sb.has(x)) onlyA++
  for (const x of sb) if (!sa.has(x)) onlyB++
  return onlyA + onlyB === 1
}

function checkedSet(offset: number, voters: readonly NodeId[], directoryIds: VoterDirectories | undefined): VoterSetAt {
  assert(voters.length >= 1 && voters.length <= VOTERS_MAX, `voter count ${voters.length} out of range`)
  assert(new Set(voters).size === voters.length, 'duplicate voter')
  const dirs = knownDirectories(directoryIds ?? NONE)
  for (const k of Object.keys(dirs ?? NONE)) assert(voters.includes(Number(k)), `directory id for ${k}, not a voter`)
  const sorted = [...voters].sort((a, b) => a - b)
  return dirs === undefined ? { offset, voters: sorted } : { offset, voters: sorted, directoryIds: dirs }
}
