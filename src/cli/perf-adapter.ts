// What the perf runners need from a system under test, so that Bitácora and its peers run the
// very same workload code: a producer that acknowledges each record, and a consumer that reads
// a topic (or stream) from its start.
import { performance } from 'node:perf_hooks' // the global is a lazy getter: about 30 ns more per call

/** Called once per record: null when the system acknowledged it (per its durability mode), else why it failed. */
export type PerfAck = (error: Error | null) => void

export interface PerfProducer {
  /**
   * Sends one record and calls `done` once it is acknowledged or failed. A callback rather than
   * a promise so that each system pays only its own client's cost per record: Bitácora's
   * producer calls back directly (as Kafka's perf tool uses Kafka's); promise-based clients
   * (NATS, ioredis) chain `done` to their promise.
   */
  send(value: Uint8Array, done: PerfAck): void
  /** Resolves when everything sent so far is acknowledged. */
  flush(): Promise<void>
  close(): Promise<void>
}

export interface PerfConsumer {
  /**
   * Calls `onRecord` for each record from the start, in order, until stop() is called; resolves
   * after it stopped. A value is only valid during the call.
   */
  consume(onRecord: (value: Uint8Array) => void): Promise<void>
  stop(): void
}

/** Kafka's payload: random uppercase letters, made once and reused for every record. */
export function kafkaPayload(size: number, seed = 42): Uint8Array {
  const out = new Uint8Array(size)
  let x = seed >>> 0 || 1
  for (let i = 0; i < size; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = 65 + ((x >>> 0) % 26)
  }
  return out
}

/** Records in flight allowed for a record size: about `bytes` of payload, within [256, 200,000]. */
export function windowFor(recordSize: number, bytes = 32 * 1024 * 1024): number {
  return Math.max(256, Math.min(200_000, Math.floor(bytes / (recordSize + 64))))
}

/**
 * A clock for acknowledgements: performance.now() read once per burst of callbacks (until the
 * current task's microtasks run), not once per record. Acknowledgements arrive in bursts (a
 * whole batch at a time), a clock read costs about 0.1 µs here, and at a million records a
 * second that is 10 % of the time a record may take. Bursts last microseconds, well under
 * the histogram's resolution.
 */
export function burstClock(read: () => number = () => performance.now()): () => number {
  let now = -1
  const reset = () => {
    now = -1
  }
  return () => {
    if (now < 0) {
      now = read()
      queueMicrotask(reset)
    }
    return now
  }
}

/**
 * Acknowledgement callbacks for the records in flight without one allocation per record: one
 * callback per slot (made when first needed, at most `slotsMax`), each reading its record's
 * send time from a typed array; a settled record frees its slot for a later one. Per-record
 * closures kept alive until their acknowledgement would make the measuring tool itself the
 * garbage collector's main work at a million records a second.
 */
export class AckSlots {
  private readonly sentAt: Float64Array
  private readonly busy: Uint8Array
  private readonly free: Int32Array
  private freeCount = 0
  private readonly callbacks: PerfAck[] = []

  constructor(private readonly slotsMax: number, private readonly onAck: (sentAt: number, error: Error | null) => void) {
    this.sentAt = new Float64Array(slotsMax)
    this.busy = new Uint8Array(slotsMax)
    this.free = new Int32Array(slotsMax)
  }

  /** The callback for a record sent at `sentAt` (performance.now()); throws past slotsMax in flight. */
  take(sentAt: number): PerfAck {
    let slot: number
    if (this.freeCount > 0) {
      slot = this.free[--this.freeCount]
    } else {
      slot = this.callbacks.length
      if (slot >= this.slotsMax) throw new RangeError(`more than ${this.slotsMax} records in flight`)
      this.callbacks.push(this.make(slot))
    }
    this.sentAt[slot] = sentAt
    this.busy[slot] = 1
    return this.callbacks[slot]
  }

  private make(slot: number): PerfAck {
    return (error) => {
      if (this.busy[slot] === 0) return // settled twice: the system's bug, not counted twice
      this.busy[slot] = 0
      const sentAt = this.sentAt[slot]
      this.free[this.freeCount++] = slot
      this.onAck(sentAt, error)
    }
  }
}
