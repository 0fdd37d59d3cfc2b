// The voter set's history along the log (KIP-853 shape). A voter record takes effect as soon
// as it is appended — committed or not, as in the Raft dissertation (§4.1) and KRaft — and a
// truncation that removes it brings back the set before it. One change at a time keeps every
// two sets in force anywhere within one voter of each other, so their majorities overlap.
import { assert } from './assert.js'
import { VOTERS_MAX, VOTER_SETS_MAX } from './limits.js'
import type { NodeId, VoterSetAt } from './types.js'

export class VoterHistory {
  /** Oldest first; entries[0] is the set in force at the log start (offset -1: bootstrap). */
  private readonly entries: VoterSetAt[]

  constructor(bootstrap: readonly NodeId[], recorded: readonly VoterSetAt[], logStart: number) {
    // A persisted base at offset -1 (a log that starts at 0) stands in for the bootstrap set.
    const base = recorded[0]?.offset === -1 ? recorded[0].voters : bootstrap
    this.entries = [{ offset: -1, voters: checkedVoters(base) }]
    for (const v of recorded) if (v.offset !== -1) this.record(v.offset, v.voters)
    this.advanceStart(logStart)
  }

  current(): readonly NodeId[] {
    return this.entries[this.entries.length - 1].voters
  }

  /** The set in force before the latest record, if this log still holds it. */
  previous(): readonly NodeId[] | null {
    return this.entries.length < 2 ? null : this.entries[this.entries.length - 2].voters
  }

  /** Offset of the latest voter record (-1 if the set in force is the bootstrap one). */
  latestOffset(): number {
    return this.entries[this.entries.length - 1].offset
  }

  /** The set in force at `offset`, i.e. under the latest record at or before it. */
  at(offset: number): readonly NodeId[] {
    for (let i = this.entries.length - 1; i > 0; i--) if (this.entries[i].offset <= offset) return this.entries[i].voters
    return this.entries[0].voters
  }

  record(offset: number, voters: readonly NodeId[]): void {
    assert(Number.isSafeInteger(offset) && offset > this.latestOffset(), `voter record at ${offset} not after ${this.latestOffset()}`)
    assert(this.entries.length < VOTER_SETS_MAX, 'voter history full')
    this.entries.push({ offset, voters: checkedVoters(voters) })
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
  reset(logStart: number, voters: readonly NodeId[]): void {
    this.entries.length = 0
    this.entries.push({ offset: logStart - 1, voters: checkedVoters(voters) })
  }

  snapshot(): VoterSetAt[] {
    return this.entries.map((e) => ({ offset: e.offset, voters: [...e.voters] }))
  }
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

function checkedVoters(voters: readonly NodeId[]): readonly NodeId[] {
  assert(voters.length >= 1 && voters.length <= VOTERS_MAX, `voter count ${voters.length} out of range`)
  assert(new Set(voters).size === voters.length, 'duplicate voter')
  return [...voters].sort((a, b) => a - b)
}
