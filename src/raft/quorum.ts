// Majority arithmetic for votes and the high watermark, kept apart from the core so the
// rule "a majority of voters has X" lives in exactly one place.
import { assert } from './assert.js'
import type { NodeId } from './types.js'

export function majority(voterCount: number): number {
  assert(voterCount >= 1, 'empty voter set')
  return Math.floor(voterCount / 2) + 1
}

/** The largest value that a majority of `values` (one per voter) is at least. */
export function quorumValue(values: readonly number[]): number {
  assert(values.length >= 1, 'no voters')
  const sorted = [...values].sort((a, b) => b - a)
  return sorted[majority(values.length) - 1]
}

/** Counts (pre-)vote answers; each voter counts once, whatever the network duplicates. */
export class VoteTally {
  private readonly granted = new Set<NodeId>()
  private readonly rejected = new Set<NodeId>()

  constructor(private readonly voters: ReadonlySet<NodeId>) {}

  record(from: NodeId, granted: boolean): void {
    if (!this.voters.has(from) || this.granted.has(from) || this.rejected.has(from)) return
    if (granted) this.granted.add(from)
    else this.rejected.add(from)
  }

  won(): boolean {
    return this.granted.size >= majority(this.voters.size)
  }

  lost(): boolean {
    return this.rejected.size >= majority(this.voters.size)
  }
}
