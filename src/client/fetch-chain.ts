// Which fetches a consumer may have in flight, and where a chained answer starts (fetcher.ts).
// A broker that chains fetches (its answers carry fetched_from) gets a second fetch while the
// first is in flight, each partition in it marked after_previous: the broker reads it from
// where the first's answer ends. Pure bookkeeping, no I/O: the fetcher asks it what may go out
// and tells it what went out and what came back.
import type { PartitionState } from './fetcher.js'
import { ANSWERS_WAITING_PER_BROKER_MAX, FETCHES_IN_FLIGHT_PER_BROKER_MAX } from './limits.js'

/** One partition of a fetch that went out. */
export interface Asked {
  state: PartitionState
  /** The offset asked for; for a chained ask, the broker's fallback when it has nothing to follow. */
  offset: number
  /** The partition's generation when asked: an answer to an older one is dropped. */
  generation: number
  /** Asked after_previous: continue where the fetch in flight before it ends. */
  chained: boolean
}

interface Flight {
  leader: number
  generation: number
}

export class FetchChain {
  private readonly flights = new Map<PartitionState, Flight[]>()
  private readonly perBroker = new Map<number, number>()
  /** Brokers whose answers carried fetched_from: they chain fetches. */
  private readonly chaining = new Set<number>()

  /** Fetches in flight to `leader`. */
  inFlight(leader: number): number {
    return this.perBroker.get(leader) ?? 0
  }

  /** Whether any fetch is in flight. */
  get busy(): boolean {
    return this.perBroker.size > 0
  }

  /**
   * Whether a fetch may go to `leader`, with `waiting` of its answers not yet handed out: the
   * first while fewer than ANSWERS_WAITING_PER_BROKER_MAX wait; a second, chained after it,
   * only while none waits (it hides the round trip while this side would otherwise wait for
   * the network; with answers waiting it would only hold more memory, and measured, cost
   * garbage collection).
   */
  canStart(leader: number, waiting: number): boolean {
    const flying = this.inFlight(leader)
    if (flying === 0) return waiting < ANSWERS_WAITING_PER_BROKER_MAX
    return this.chaining.has(leader) && flying < FETCHES_IN_FLIGHT_PER_BROKER_MAX && waiting === 0
  }

  /**
   * How `s` can be fetched from `leader` now: plainly when none of its fetches is in flight;
   * chained when one is, to the same broker, of its current generation, and that broker
   * chains; else not now (it waits for what is in flight).
   */
  kind(s: PartitionState, leader: number): 'plain' | 'chained' | null {
    const flights = this.flights.get(s)
    if (flights === undefined) return 'plain'
    if (flights.length > 1 || !this.chaining.has(leader)) return null
    return flights[0].leader === leader && flights[0].generation === s.generation ? 'chained' : null
  }

  sent(leader: number, asked: readonly Asked[]): void {
    this.perBroker.set(leader, this.inFlight(leader) + 1)
    for (const a of asked) {
      const flights = this.flights.get(a.state)
      if (flights === undefined) this.flights.set(a.state, [{ leader, generation: a.generation }])
      else flights.push({ leader, generation: a.generation })
    }
  }

  /** A fetch's answer (or failure) was taken: its partitions are no longer in flight with it. */
  landed(leader: number, asked: readonly Asked[]): void {
    const n = this.inFlight(leader) - 1
    if (n > 0) this.perBroker.set(leader, n)
    else this.perBroker.delete(leader)
    for (const a of asked) {
      const flights = this.flights.get(a.state)
      if (flights === undefined) continue
      flights.shift() // a broker's answers are taken in the order they went out
      if (flights.length === 0) this.flights.delete(a.state)
    }
  }

  /** What an answer of `leader` says about it: chains (fetched_from present) or not. */
  learned(leader: number, chains: boolean): void {
    if (chains) this.chaining.add(leader)
    else this.chaining.delete(leader)
  }
}

/**
 * Where an answer's records are read from for the consumer: where the partition's fetching
 * stands (fetchPosition, else position) when the answer starts at or before it (a chained
 * answer the broker read from the fallback repeats what came before: skipped); the answer's
 * own start when the partition was sought since (it is dropped anyway). Null when the answer
 * starts past where fetching stands: the answer it followed was lost, so it leaves a gap.
 */
export function answerStart(a: Asked, fetchedFrom: number | null | undefined): number | null {
  const from = fetchedFrom ?? a.offset
  const s = a.state
  const at = s.fetchPosition ?? s.position
  if (s.generation !== a.generation || at === null) return from
  return from > at ? null : at
}
