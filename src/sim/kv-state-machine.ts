// The state machine of the simulator's state-machine log mode: a small key-value map (client
// payload p sets key p mod KV_KEYS to p), a count of the records applied and a digest over
// every (offset, payload) applied, in order. The checker folds the committed prefix the same
// way (expectedState), so a node whose state skipped, repeated or reordered a committed record,
// or restored a wrong snapshot, differs from it. A batch applied twice is caught at once.
import type { CommittedBatch, StateMachine } from '../broker/partition/state-machine.js'
import { SafetyViolation, type Checker } from './checker.js'
import { chainHash } from './sim-log.js'

/** Keys of the map: enough that a snapshot spans several download chunks. */
export const KV_KEYS = 64

export interface KvState {
  /** Offsets below this are in the state (its last applied batch's end, or its snapshot's). */
  end: number
  count: number
  digest: number
  readonly kv: Map<number, number>
}

export function emptyKvState(): KvState {
  return { end: 0, count: 0, digest: 0, kv: new Map() }
}

/** Applies one committed client record (payload > 0) at `offset`. */
export function applyPayload(s: KvState, offset: number, payload: number): void {
  s.count++
  s.digest = chainHash(s.digest, offset, payload)
  s.kv.set(payload % KV_KEYS, payload)
}

export function sameKvState(a: KvState, b: KvState): boolean {
  if (a.count !== b.count || a.digest !== b.digest || a.kv.size !== b.kv.size) return false
  for (const [k, v] of a.kv) if (b.kv.get(k) !== v) return false
  return true
}

export function describeKvState(s: KvState): string {
  return `${s.count} records, digest ${s.digest}, ${s.kv.size} keys`
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export class KvStateMachine implements StateMachine {
  state = emptyKvState()
  /** Batches applied and states restored by this machine (the run's statistics). */
  applies = 0
  restores = 0

  /** `ignoreRestore` (tests of the checker): keep the old state where a snapshot should replace it. */
  constructor(private readonly nodeId: number, private readonly bug?: 'ignoreRestore') {}

  apply(batch: CommittedBatch): void {
    if (batch.baseOffset < this.state.end) {
      throw new SafetyViolation(`state-machine exactly once: node ${this.nodeId} applies offset ${batch.baseOffset}, its state already holds offsets below ${this.state.end}`)
    }
    for (const r of batch.records) applyPayload(this.state, r.offset, Number(decoder.decode(r.value!)))
    this.state.end = batch.nextOffset
    this.applies++
  }

  snapshot(): Uint8Array {
    const s = this.state
    return encoder.encode(JSON.stringify({ end: s.end, count: s.count, digest: s.digest, kv: [...s.kv] }))
  }

  restore(bytes: Uint8Array | null, endOffset: number): void {
    this.restores++
    if (this.bug === 'ignoreRestore') {
      this.state.end = endOffset
      return
    }
    if (bytes === null) {
      this.state = emptyKvState()
      return
    }
    const doc = JSON.parse(decoder.decode(bytes)) as { end: number; count: number; digest: number; kv: [number, number][] }
    // The shell snapshots at its applied end, which may pass the last data batch (control batches).
    if (doc.end > endOffset) throw new SafetyViolation(`snapshot safety: node ${this.nodeId} restores a state of offsets below ${doc.end} as the state below ${endOffset}`)
    this.state = { end: endOffset, count: doc.count, digest: doc.digest, kv: new Map(doc.kv) }
  }
}

/** What a node's state must be: the fold of the committed prefix, as the checker learned it. */
export class CommittedKvStates {
  /** Count and digest of the committed client records below each offset. */
  private readonly counts: number[] = [0]
  private readonly digests: number[] = [0]

  constructor(private readonly checker: Checker) {}

  /** Count and digest of the committed prefix below `end` (null: not all of it is committed). */
  summaryAt(end: number): { count: number; digest: number } | null {
    if (end > this.checker.committedEnd) return null
    for (let o = this.counts.length - 1; o < end; o++) {
      const payload = this.checker.committedPayload(o)!
      const s: KvState = { end: o, count: this.counts[o], digest: this.digests[o], kv: new Map() }
      if (payload > 0) applyPayload(s, o, payload)
      this.counts.push(s.count)
      this.digests.push(s.digest)
    }
    return { count: this.counts[end], digest: this.digests[end] }
  }

  /** The whole state of the committed prefix below `end` (end <= the committed end). */
  stateAt(end: number): KvState {
    const s = emptyKvState()
    for (let o = 0; o < end; o++) {
      const payload = this.checker.committedPayload(o)!
      if (payload > 0) applyPayload(s, o, payload)
    }
    s.end = end
    return s
  }
}
