// One reused buffer per connection for the request frames it sends at once. The socket takes
// a frame's bytes before send() returns (WebSocketLike.send: ws masks them into its own
// buffer, browsers queue a copy), so the next frame may overwrite them: a busy producer then
// allocates no frame per request (a fresh 1 MiB frame per request cost it ~15 % of its
// throughput at 1 KiB records, mostly in garbage collection). Frames that wait in the
// connection's queue are written into buffers of their own.
import type { FrameAllocator } from '../protocol/index.js'
import { FRAME_SCRATCH_BYTES_MAX } from './limits.js'

export class FrameScratch {
  private buf = new Uint8Array(0)

  constructor(private readonly keepBytesMax = FRAME_SCRATCH_BYTES_MAX) {}

  /** Bytes held for reuse. */
  get capacityBytes(): number {
    return this.buf.length
  }

  /** `bytes` bytes to write a frame into, valid until the next call. */
  readonly take: FrameAllocator = (bytes) => {
    if (bytes > this.keepBytesMax) return new Uint8Array(bytes)
    if (this.buf.length < bytes) this.buf = new Uint8Array(Math.min(this.keepBytesMax, Math.max(bytes, this.buf.length * 2)))
    return this.buf.subarray(0, bytes)
  }
}
