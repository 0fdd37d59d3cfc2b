// The simulated network: per-message loss, delay (hence reordering) and duplication, and
// directed link cuts that model symmetric, asymmetric and "bridge" partitions.
import { assert } from '../raft/assert.js'
import type { Prng } from './prng.js'
import type { Message } from '../raft/types.js'
import { NETWORK_INFLIGHT_MAX } from './limits.js'


export interface NetworkFaults {
  lossRate: number
  duplicateRate: number
  delayMinTicks: number
  delayMaxTicks: number
}

interface InFlight {
  readonly deliverAt: number
  readonly seq: number
  readonly msg: Message
}

export type PartitionKind = 'none' | 'symmetric' | 'asymmetric' | 'bridge' | 'isolate'

export class SimNetwork {
  private queue: InFlight[] = []
  private seq = 0
  /** blocked.has(from * 64 + to): messages from → to are dropped. */
  private readonly blocked = new Set<number>()
  partition: PartitionKind = 'none'
  partitionNote = ''
  sent = 0
  dropped = 0

  constructor(
    private readonly rng: Prng,
    public faults: NetworkFaults,
  ) {}

  send(m: Message, now: number): void {
    this.sent++
    if (this.blocked.has(m.from * 64 + m.to) || this.rng.chance(this.faults.lossRate)) {
      this.dropped++
      return
    }
    const copies = this.rng.chance(this.faults.duplicateRate) ? 2 : 1
    for (let i = 0; i < copies; i++) {
      if (this.queue.length >= NETWORK_INFLIGHT_MAX) {
        this.dropped++
        return
      }
      const span = this.faults.delayMaxTicks - this.faults.delayMinTicks + 1
      const deliverAt = now + this.faults.delayMinTicks + this.rng.int(span)
      this.queue.push({ deliverAt, seq: this.seq++, msg: m })
    }
  }

  /** Removes and returns the messages due at `now`, in delivery order. */
  due(now: number): Message[] {
    const ready: InFlight[] = []
    const later: InFlight[] = []
    for (const f of this.queue) (f.deliverAt <= now ? ready : later).push(f)
    if (ready.length === 0) return []
    this.queue = later
    ready.sort((a, b) => a.deliverAt - b.deliverAt || a.seq - b.seq)
    return ready.map((f) => f.msg)
  }

  get inFlight(): number {
    return this.queue.length
  }

  heal(): void {
    this.blocked.clear()
    this.partition = 'none'
    this.partitionNote = ''
  }

  /** Cuts links according to `kind` among `nodes` (shuffled by the caller's rng). */
  split(kind: PartitionKind, nodes: readonly number[]): void {
    this.heal()
    if (kind === 'none' || nodes.length < 2) return
    const order = [...nodes]
    for (let i = order.length - 1; i > 0; i--) {
      const j = this.rng.int(i + 1)
      ;[order[i], order[j]] = [order[j], order[i]]
    }
    this.partition = kind
    if (kind === 'isolate') {
      const [lone, ...rest] = order
      this.cutBoth([lone], rest)
      this.partitionNote = `${lone} | ${rest.join(',')}`
    } else if (kind === 'symmetric') {
      const cut = 1 + this.rng.int(order.length - 1)
      this.cutBoth(order.slice(0, cut), order.slice(cut))
      this.partitionNote = `${order.slice(0, cut).join(',')} | ${order.slice(cut).join(',')}`
    } else if (kind === 'asymmetric') {
      // One node can send but not receive (or the reverse): the classic stale-leader maker.
      const [lone, ...rest] = order
      const inbound = this.rng.chance(0.5)
      for (const r of rest) this.blocked.add(inbound ? r * 64 + lone : lone * 64 + r)
      this.partitionNote = inbound ? `${rest.join(',')} -/-> ${lone}` : `${lone} -/-> ${rest.join(',')}`
    } else {
      assert(kind === 'bridge', 'unknown partition kind')
      // Two sides that reach each other only through one bridge node.
      const [bridge, ...rest] = order
      const cut = 1 + this.rng.int(Math.max(1, rest.length - 1))
      this.cutBoth(rest.slice(0, cut), rest.slice(cut))
      this.partitionNote = `${rest.slice(0, cut).join(',')} <- ${bridge} -> ${rest.slice(cut).join(',')}`
    }
  }

  private cutBoth(a: readonly number[], b: readonly number[]): void {
    for (const x of a) {
      for (const y of b) {
        this.blocked.add(x * 64 + y)
        this.blocked.add(y * 64 + x)
      }
    }
  }
}
