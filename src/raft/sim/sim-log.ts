// The simulator's fake log shell: entries are (offset, epoch, payload id) plus a chain hash
// over the whole prefix, so "same (offset, epoch) ⇒ same prefix" is one comparison.
// Appends land in memory at once; a flush makes a prefix durable later; a crash keeps
// only the durable prefix.
import { assert } from '../assert.js'
import type { EpochStart, LogView } from '../types.js'

export interface SimEntry {
  readonly offset: number
  readonly epoch: number
  /** Client payload id (> 0) or a LeaderChange control record (negative epoch). */
  readonly payload: number
  /** Hash of this entry and every entry before it. */
  readonly chain: number
}

/** Record bytes each simulated entry stands for, so maxBytes limits have meaning. */
export const SIM_ENTRY_BYTES = 100

export function chainHash(prev: number, epoch: number, payload: number): number {
  let h1 = Math.imul((prev ^ 0x5bd1e995) >>> 0, 0x01000193) ^ epoch
  let h2 = Math.imul(Math.floor(prev / 0x100000000) + 0x2545f491, 0x85ebca6b) ^ payload
  h1 = Math.imul(h1 ^ (h1 >>> 15), 0x2c1b3c6d) ^ Math.imul(payload, 0x9e3779b1)
  h2 = Math.imul(h2 ^ (h2 >>> 13), 0x297a2d39) ^ Math.imul(epoch, 0xc2b2ae35)
  h1 ^= h2 >>> 7
  return (h1 >>> 0) * 0x200000 + ((h2 >>> 0) & 0x1fffff)
}

export class SimLog {
  entries: SimEntry[] = []
  durableEnd = 0
  /** End of the flush in progress (the log end when it began), or null. */
  flushTarget: number | null = null
  flushDoneAt = 0

  get end(): number {
    return this.entries.length
  }

  lastChain(): number {
    return this.entries.length === 0 ? 0 : this.entries[this.entries.length - 1].chain
  }

  appendLocal(epoch: number, payload: number): SimEntry {
    const e = { offset: this.end, epoch, payload, chain: chainHash(this.lastChain(), epoch, payload) }
    this.entries.push(e)
    return e
  }

  /** Appends a leader's entries; returns the epochs that start inside them. */
  appendFetched(fromOffset: number, fetched: readonly SimEntry[]): EpochStart[] {
    assert(fromOffset === this.end, `fetched append at ${fromOffset}, log end ${this.end}`)
    const starts: EpochStart[] = []
    let lastEpoch = this.entries.length === 0 ? 0 : this.entries[this.entries.length - 1].epoch
    for (const e of fetched) {
      assert(e.offset === this.end, 'gap in fetched entries')
      const mine = this.appendLocal(e.epoch, e.payload)
      assert(mine.chain === e.chain, 'fetched entries do not extend our prefix')
      if (e.epoch !== lastEpoch) starts.push({ epoch: e.epoch, startOffset: e.offset })
      lastEpoch = e.epoch
    }
    return starts
  }

  read(fromOffset: number, maxBytes: number): SimEntry[] {
    const count = Math.max(1, Math.floor(maxBytes / SIM_ENTRY_BYTES))
    return this.entries.slice(fromOffset, fromOffset + count)
  }

  truncate(offset: number): void {
    this.entries.length = Math.min(this.entries.length, offset)
    this.durableEnd = Math.min(this.durableEnd, offset)
    // A flush that began before the truncation cannot vouch for what replaces the tail.
    if (this.flushTarget !== null) this.flushTarget = Math.min(this.flushTarget, offset)
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
    this.entries.length = this.durableEnd
    this.flushTarget = null
  }

  view(): LogView {
    return { logStart: 0, logEnd: this.end, flushedEnd: this.durableEnd, epochs: epochStarts(this.entries) }
  }
}

/** Rebuilds the epoch cache from entries (a real shell persists it beside the log). */
export function epochStarts(entries: readonly SimEntry[]): EpochStart[] {
  const out: EpochStart[] = []
  for (const e of entries) {
    if (out.length === 0 || out[out.length - 1].epoch !== e.epoch) out.push({ epoch: e.epoch, startOffset: e.offset })
  }
  return out
}
