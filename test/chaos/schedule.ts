// The chaos tool's fault schedule: a pure function of (seed, nodes, options), so `--seed S`
// replays the same faults in the same order against the same targets. Faults run one at a time:
// inject, hold, heal, then a quiet gap in which the cluster must recover.
import { FAULT_GAP_MS, FAULT_HOLD_MS, SCHEDULE_FAULTS_MAX } from './limits.js'
import { Prng } from '../../src/sim/prng.js'

export type Fault =
  /** SIGKILL, then start it again (same data dir). */
  | { readonly kind: 'kill'; readonly node: number }
  /** The same, of whichever node leads `partition` of the topic when the fault comes (only with --faults). */
  | { readonly kind: 'kill-leader'; readonly partition: number }
  /** SIGSTOP, then SIGCONT: a leader that is silent, not dead. */
  | { readonly kind: 'pause'; readonly node: number }
  /** Both directions between two nodes cut. */
  | { readonly kind: 'partition'; readonly a: number; readonly b: number; readonly how: 'reset' | 'silent' }
  /** Only `from`'s traffic to `to` cut (its frames, its requests and their answers). */
  | { readonly kind: 'one-way'; readonly from: number; readonly to: number; readonly how: 'reset' | 'silent' }
  /** A node cut from every other node both ways; clients still reach it. */
  | { readonly kind: 'isolate'; readonly node: number; readonly how: 'reset' | 'silent' }
  /** Every chunk to and from a node held this long. */
  | { readonly kind: 'delay'; readonly node: number; readonly ms: number }
  /** A node's inter-broker connections reset with this probability per chunk. */
  | { readonly kind: 'loss'; readonly node: number; readonly probability: number }
  /** A node stopped, one byte of a closed segment of one of its replicas flipped, started again. */
  | { readonly kind: 'corrupt'; readonly node: number }

export interface ScheduledFault {
  readonly fault: Fault
  readonly holdMs: number
  /** Quiet time after healing, before the next fault. */
  readonly gapMs: number
}

export interface ScheduleOptions {
  readonly nodes: readonly number[]
  /** Include the segment-corruption fault (off until replicas repair a bad CRC: issue 18 "diskfault"). */
  readonly corrupt: boolean
  /** Draw only these kinds (`--faults`; e.g. only kills, for many leader kills in few minutes). Default: all of them. */
  readonly kinds?: readonly FaultKind[]
}

/** Uniform floats in [0, 1) from a seed: the simulator's PRNG, so a schedule replays from its seed. */
export function seededRandom(seed: number): () => number {
  const prng = new Prng(seed >>> 0)
  return () => prng.next() / 0x100000000
}

export const FAULT_KINDS = ['kill', 'pause', 'partition', 'one-way', 'isolate', 'delay', 'loss', 'corrupt', 'kill-leader'] as const
export type FaultKind = (typeof FAULT_KINDS)[number]
/** What a schedule draws from without --faults (kill-leader only when asked: adding it would change every seed's schedule). */
const DEFAULT_KINDS: readonly FaultKind[] = FAULT_KINDS.filter((k) => k !== 'kill-leader')

/** The first SCHEDULE_FAULTS_MAX faults of seed `seed`; a run executes as many as its time allows. */
export function makeSchedule(seed: number, o: ScheduleOptions): ScheduledFault[] {
  if (o.nodes.length < 2) throw new Error(`a schedule needs at least 2 nodes, got ${o.nodes.length}`)
  const random = seededRandom(seed)
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1))
  const pick = <T>(xs: readonly T[]): T => xs[int(0, xs.length - 1)]
  const kinds = (o.kinds ?? DEFAULT_KINDS).filter((k) => k !== 'corrupt' || o.corrupt)
  if (kinds.length === 0) throw new Error('a schedule needs at least one fault kind (corrupt needs --corrupt-segments)')
  const out: ScheduledFault[] = []
  for (let i = 0; i < SCHEDULE_FAULTS_MAX; i++) {
    const kind = pick(kinds)
    const node = pick(o.nodes)
    const other = pick(o.nodes.filter((n) => n !== node))
    const how = pick(['reset', 'silent'] as const)
    const fault: Fault =
      kind === 'partition' ? { kind, a: node, b: other, how }
      : kind === 'one-way' ? { kind, from: node, to: other, how }
      : kind === 'isolate' ? { kind, node, how }
      : kind === 'delay' ? { kind, node, ms: int(5, 200) }
      : kind === 'loss' ? { kind, node, probability: int(1, 20) / 1000 }
      : kind === 'kill-leader' ? { kind, partition: o.nodes.indexOf(node) } // the topic has one partition per node
      : { kind, node }
    out.push({ fault, holdMs: int(FAULT_HOLD_MS.min, FAULT_HOLD_MS.max), gapMs: int(FAULT_GAP_MS.min, FAULT_GAP_MS.max) })
  }
  return out
}

export function describeFault(f: Fault): string {
  switch (f.kind) {
    case 'kill': return `SIGKILL node ${f.node}, restart`
    case 'kill-leader': return `SIGKILL the leader of partition ${f.partition}, restart`
    case 'pause': return `SIGSTOP node ${f.node}, SIGCONT`
    case 'partition': return `cut ${f.a} <-> ${f.b} (${f.how})`
    case 'one-way': return `cut ${f.from} -> ${f.to} (${f.how})`
    case 'isolate': return `isolate node ${f.node} from its peers (${f.how})`
    case 'delay': return `delay node ${f.node}'s peer traffic ${f.ms} ms per chunk`
    case 'loss': return `reset node ${f.node}'s peer connections with p=${f.probability} per chunk`
    case 'corrupt': return `flip a byte in a closed segment on node ${f.node}`
  }
}
