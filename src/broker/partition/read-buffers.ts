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

/**
 * Byte views with free room before them in a buffer that holds nothing else there (a storage read
 * with `headroomBytes`: partition-log.ts ReadResult), keyed by the view, so that whoever sends
 * them may write a frame's header into that room instead of copying the bytes behind a header.
 * Only a view registered here may be written before; anything else has no room.
 */
const freeRoom = new WeakMap<Uint8Array, number>()

/** Registers `bytes` as having `room` free bytes before them (see freeRoom) and returns them. */
export function withRoomBefore(bytes: Uint8Array, room: number): Uint8Array {
  if (!Number.isInteger(room) || room < 0 || room > bytes.byteOffset) throw new RangeError(`${room} bytes of room before a view at byte ${bytes.byteOffset}`)
  if (room > 0) freeRoom.set(bytes, room)
  return bytes
}

/** The free bytes before `bytes` that a writer may use (0 unless registered by withRoomBefore). */
export function roomBefore(bytes: Uint8Array): number {
  return freeRoom.get(bytes) ?? 0
}

/**
 * `bytes` with `head` bytes of its room in front: a view over [start - head, end) of the same
 * buffer, for the caller to write the head into, registered with the room left before it.
 * The caller checked roomBefore(bytes) >= head.
 */
export function extendIntoRoom(bytes: Uint8Array, head: number): Uint8Array {
  const room = roomBefore(bytes)
  if (head > room) throw new RangeError(`a ${head}-byte head does not fit ${room} bytes of room`)
  const out = new Uint8Array(bytes.buffer, bytes.byteOffset - head, head + bytes.length)
  return withRoomBefore(out, room - head)
}
