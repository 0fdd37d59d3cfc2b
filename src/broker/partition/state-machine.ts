// What a state-machine log (the metadata log) drives: an application whose state is the fold
// of the log's committed records. The replica shell applies committed data batches to it in
// log order, each exactly once in the life of its state (control batches, the log's own
// LeaderChange and voter records, are skipped); asks it for its state as bytes to take a
// snapshot; and replaces its state with a snapshot's when it opens from disk or installs the
// leader's. Everything happens inside the replica's input queue: one call at a time.
import type { DecodedRecord } from '../../codec/index.js'

/** One committed data batch, in log order. */
export interface CommittedBatch {
  /** Offset of its first record (every earlier batch has been applied, or came in a snapshot). */
  readonly baseOffset: number
  /** Offset after its last record. */
  readonly nextOffset: number
  /** Leader epoch it was written in. */
  readonly epoch: number
  /** Its records; their key, value and header bytes are views valid only during the call. */
  readonly records: readonly DecodedRecord[]
}

export interface StateMachine {
  /** Applies one committed batch. Throwing is a failure of the replica: it reopens from disk. */
  apply(batch: CommittedBatch): void
  /** The state after every batch applied so far, as bytes (what a snapshot holds). */
  snapshot(): Uint8Array
  /**
   * Replaces the state: with the bytes `snapshot()` returned for the state below `endOffset`,
   * or with the empty state (null, endOffset 0: nothing applied).
   */
  restore(state: Uint8Array | null, endOffset: number): void
}

/** When the shell snapshots the state: whichever limit applied records or bytes reach first. */
export interface SnapshotPolicy {
  /** Offsets applied since the latest snapshot. */
  readonly everyRecords: number
  /** Batch bytes applied since the latest snapshot. */
  readonly everyBytes: number
}

/** A replica's state machine and its snapshot policy (ReplicaOptions.stateMachine). */
export interface StateMachineOptions {
  readonly machine: StateMachine
  /** Default: SNAPSHOT_EVERY_RECORDS_DEFAULT / SNAPSHOT_EVERY_BYTES_DEFAULT (limits.ts). */
  readonly snapshotPolicy?: Partial<SnapshotPolicy>
}
