// Buffers for encoded batches, reused once their batch is settled: a busy producer otherwise
// allocates its whole throughput a second time in fresh buffers (after staging), which V8
// collects with full mark-compacts under the external-memory pressure. Bounded: at most
// `countMax` kept. Only batches of at least half a spare use one (a one-record batch must
// not hold a whole batch-size buffer while in flight); others, and batches larger than
// `bufferBytes`, get a buffer of their own size.
export class BatchSpares {
  private readonly free: Uint8Array[] = []

  constructor(
    readonly bufferBytes: number,
    readonly countMax: number,
  ) {}

  /** Buffers kept for reuse. */
  get count(): number {
    return this.free.length
  }

  /** A buffer of exactly `bytes` bytes for one encoded batch (the codec's allocate option). */
  readonly take = (bytes: number): Uint8Array => {
    if (bytes > this.bufferBytes || bytes * 2 < this.bufferBytes) return new Uint8Array(bytes)
    return (this.free.pop() ?? new Uint8Array(this.bufferBytes)).subarray(0, bytes)
  }

  /** Takes back a settled batch's bytes; only ones take() handed out are kept. */
  give(bytes: Uint8Array): void {
    if (bytes.byteOffset !== 0 || bytes.buffer.byteLength !== this.bufferBytes || this.free.length >= this.countMax) return
    this.free.push(new Uint8Array(bytes.buffer))
  }
}
