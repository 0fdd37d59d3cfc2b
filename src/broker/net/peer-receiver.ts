// The receiving side of the peer links: the RaftFrames a proven peer sent, checked and handed
// to the caller's router one message at a time. A misaddressed envelope (from is not the peer
// the connection proved, or to is not this broker) is dropped whole; a malformed frame alone,
// and a frame for a partition this broker does not host is counted and dropped.
import type { bitacora } from '../../protocol/index.js'
import type { Message, NodeId } from '../../raft/types.js'
import type { PeerWarnings } from './peer-warnings.js'
import { fromRaftFrame, RaftWireError } from './raft-wire.js'

/** Where received messages go: the broker's replicas, by partition. */
export interface RaftRouter {
  /** Hands `message` to the replica of (topicId, partition); false when this broker has none (dropped). */
  deliver(topicId: string, partition: number, message: Message): boolean
}

/** What the `raft` API handler needs: the frames of one request, from the peer the session proved. */
export interface RaftReceiver {
  receive(from: NodeId, frames: bitacora.RaftFrames.$Properties): void
}

export interface ReceiverStats {
  readonly framesDelivered: number
  /** Frames for a (topic, partition) the router does not know. */
  readonly unknownPartition: number
  readonly malformed: number
  /** Frames of envelopes whose from or to was wrong. */
  readonly misaddressed: number
}

export class RaftFrameReceiver implements RaftReceiver {
  private framesDelivered = 0
  private unknownPartition = 0
  private malformed = 0
  private misaddressed = 0

  constructor(
    private readonly self: NodeId,
    private readonly router: RaftRouter,
    private readonly warnings: PeerWarnings,
  ) {}

  receive(from: NodeId, envelope: bitacora.RaftFrames.$Properties): void {
    const frames = envelope.frames ?? []
    if ((envelope.from ?? 0) !== from || (envelope.to ?? 0) !== this.self) {
      this.misaddressed += frames.length
      this.warnings.warn(`misaddressed:${from}`, 'raft frames misaddressed', {
        peer: from, from: envelope.from ?? 0, to: envelope.to ?? 0, self: this.self, frames: frames.length,
      })
      return
    }
    for (const frame of frames) {
      let m
      try {
        m = fromRaftFrame(frame, from, this.self)
      } catch (err) {
        if (!(err instanceof RaftWireError)) throw err
        this.malformed++
        this.warnings.warn(`malformed:${from}`, 'malformed raft frame dropped', { peer: from, error: err.message })
        continue
      }
      if (this.router.deliver(m.topicId, m.partition, m.message)) this.framesDelivered++
      else this.unknownPartition++
    }
  }

  stats(): ReceiverStats {
    return { framesDelivered: this.framesDelivered, unknownPartition: this.unknownPartition, malformed: this.malformed, misaddressed: this.misaddressed }
  }
}
