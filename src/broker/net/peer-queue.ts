// The frames waiting for one peer: encoded, bounded in count and bytes, and in bytes per
// (topic, partition) so one busy partition cannot crowd out the others. A frame over a bound
// is refused (the link drops and counts it): Raft tolerates lost messages and re-sends what it
// still needs, so a peer that is down or slow costs bounded memory, never an unbounded buffer.
import type { PeerLimits } from '../limits.js'

/** Why a frame to a peer was not sent. */
export type DropReason =
  /** The peer's queue holds queuedFramesMax frames or queuedBytesMax bytes. */
  | 'queueFull'
  /** The frame's partition holds pairQueuedBytesMax bytes of the queue. */
  | 'pairFull'
  /** The frame alone is larger than the peer's frame limit. */
  | 'tooLarge'
  /** The peer's socket has sendBufferBytesMax unsent bytes. */
  | 'slowPeer'
  /** The connection failed or closed with the frame still queued. */
  | 'unreachable'
  /** The node has no URL in the peer list. */
  | 'unknownNode'
  /** The transport was closed. */
  | 'closed'

export const DROP_REASONS: readonly DropReason[] = ['queueFull', 'pairFull', 'tooLarge', 'slowPeer', 'unreachable', 'unknownNode', 'closed']

export class PeerQueue {
  private frames: Uint8Array[] = []
  private bytes = 0
  private readonly pairBytes = new Map<string, number>()

  constructor(private readonly limits: Pick<PeerLimits, 'queuedFramesMax' | 'queuedBytesMax' | 'pairQueuedBytesMax'>) {}

  get length(): number {
    return this.frames.length
  }

  get byteLength(): number {
    return this.bytes
  }

  /** Queues `frame` of partition `pair`, or says why not. */
  offer(pair: string, frame: Uint8Array): DropReason | null {
    const l = this.limits
    if (this.frames.length >= l.queuedFramesMax || this.bytes + frame.length > l.queuedBytesMax) return 'queueFull'
    const pairBytes = (this.pairBytes.get(pair) ?? 0) + frame.length
    if (pairBytes > l.pairQueuedBytesMax) return 'pairFull'
    this.pairBytes.set(pair, pairBytes)
    this.frames.push(frame)
    this.bytes += frame.length
    return null
  }

  /** Everything queued, oldest first; the queue is empty afterwards. */
  takeAll(): Uint8Array[] {
    const frames = this.frames
    this.frames = []
    this.bytes = 0
    this.pairBytes.clear()
    return frames
  }
}
