// The metadata log's state machine: the metadata image. Each committed batch is decoded (one
// MetadataRecord per record value) and applied whole or not at all; a snapshot is the image
// encoded compactly (record-codec.ts), restored by replaying the records it stands for. Every
// new image goes to one listener (the metadata node, which hands it to the publishers), with
// what changed — or null after a restore, when anything may have.
//
// A committed batch that does not decode or fit the image is skipped, with an error logged:
// every node skips the same batch (the log is the same everywhere), so images stay equal, and
// one bad record cannot stop a node from following the log. The active controller checks its
// records against the image before appending them, so this is a bug or a damaged log, never
// a user's input.
import { MetadataImage, MetadataError, type MetadataChanges, type MetadataRecord } from '../../../metadata/image.js'
import { decodeRecord, decodeSnapshot, encodeSnapshot } from '../../../metadata/record-codec.js'
import type { Logger } from '../../log.js'
import type { CommittedBatch, StateMachine } from '../../partition/state-machine.js'

/** A new committed image: `offset` is the end of the log it holds (exclusive). */
export interface ImageUpdate {
  readonly image: MetadataImage
  readonly offset: number
  /** Null after a restore (a snapshot loaded or installed): anything may have changed. */
  readonly changes: MetadataChanges | null
}

const NO_CHANGES: MetadataChanges = { changedTopicIds: new Set(), removedTopics: [], changedBrokerIds: new Set() }

export class MetadataStateMachine implements StateMachine {
  private current = MetadataImage.EMPTY
  private end = 0

  constructor(
    private readonly log: Logger,
    private readonly updated: (update: ImageUpdate) => void,
  ) {}

  get image(): MetadataImage {
    return this.current
  }

  /** Offsets below this are in the image. */
  get offset(): number {
    return this.end
  }

  apply(batch: CommittedBatch): void {
    let next: { image: MetadataImage; changes: MetadataChanges }
    try {
      const records: MetadataRecord[] = batch.records.map((r) => {
        if (r.value === null) throw new MetadataError(`record ${r.offset} has no value`)
        return decodeRecord(r.value)
      })
      next = this.current.replay(records)
    } catch (err) {
      if (!(err instanceof MetadataError)) throw err
      this.log.error('metadata batch skipped: it does not fit the image', { baseOffset: batch.baseOffset, nextOffset: batch.nextOffset, error: err.message })
      this.end = batch.nextOffset
      this.updated({ image: this.current, offset: batch.nextOffset, changes: NO_CHANGES })
      return
    }
    this.current = next.image
    this.end = batch.nextOffset
    this.updated({ image: next.image, offset: batch.nextOffset, changes: next.changes })
  }

  snapshot(): Uint8Array {
    return encodeSnapshot(this.current)
  }

  restore(state: Uint8Array | null, endOffset: number): void {
    // A snapshot this node wrote or downloaded whole (CRC-checked): one that does not decode is a bug, and fails the replica.
    this.current = state === null ? MetadataImage.EMPTY : MetadataImage.EMPTY.apply(decodeSnapshot(state))
    this.end = endOffset
    this.updated({ image: this.current, offset: endOffset, changes: null })
  }
}
