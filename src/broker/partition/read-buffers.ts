// Buffers fetches read stored batches into, reused so that serving reads allocates nothing:
// a fresh 1 MiB buffer per fetch made V8 run a full mark-compact every few fetches (external
// memory pressure), a third of the broker's time under a consumer. A fetch borrows buffers
// for its reads through a ReadLease and gives them back once its response is on the socket
// (the response frame is written in place around the records: api/fetch.ts). Bounded:
// at most `countMax` buffers exist; past that, and for reads larger than a buffer, storage
// allocates as before.
import { READ_BUFFER_BYTES, READ_BUFFERS_MAX } from './limits.js'

export class ReadBufferPool {
  private readonly free: Uint8Array[] = []
  private created = 0

  constructor(
    readonly bufferBytes = READ_BUFFER_BYTES,
    readonly countMax = READ_BUFFERS_MAX,
  ) {}

  /** Buffers existing now (lent or free). */
  get size(): number {
    return this.created
  }

  /** A free buffer, a new one while fewer than countMax exist, else undefined. */
  take(): Uint8Array | undefined {
    const b = this.free.pop()
    if (b !== undefined || this.created >= this.countMax) return b
    this.created++
    return new Uint8Array(this.bufferBytes)
  }

  give(b: Uint8Array): void {
    this.free.push(b)
  }
}

/** The buffers one request borrowed: all go back together, once nothing refers to them. */
export class ReadLease {
  private readonly held: Uint8Array[] = []

  constructor(private readonly pool: ReadBufferPool) {}

  take(): Uint8Array | undefined {
    const b = this.pool.take()
    if (b !== undefined) this.held.push(b)
    return b
  }

  /** Gives back one buffer early, if the read did not use it. */
  giveBack(b: Uint8Array): void {
    const i = this.held.indexOf(b)
    if (i < 0) return
    this.held.splice(i, 1)
    this.pool.give(b)
  }

  /** Gives back everything (the response was written, or none will be). */
  release(): void {
    for (const b of this.held.splice(0)) this.pool.give(b)
  }
}
