// A state-machine log (the metadata log): the replica shell's part that keeps an application's
// state equal to the log's committed prefix. It applies committed data batches in order (below
// the high watermark, each once in the life of the state), snapshots the state on a policy and
// deletes the log below the snapshot, serves its latest snapshot to followers in chunks, and
// installs a downloaded one. Opening from disk loads the latest snapshot and moves the log start
// to its end; the tail is replayed as the high watermark passes it.
//
// Crash safety rests on one order everywhere: the new snapshot is durable and the latest
// (SnapshotStore: fsync, rename, directory fsync) before the log is touched. So a crash leaves
// either the previous snapshot with the log as it was, or the new snapshot with a log that
// still starts below it, which opening moves up to it (or, if the log does not hold the
// snapshot's last record, resets empty at its end).
import { readBatchHeader, splitBatches, type Codec } from '../../codec/index.js'
import type { InstallSnapshot, NodeId, SnapshotId, VoterSetAt, WriteSnapshotChunk } from '../../raft/types.js'
import { SnapshotStore, StorageError, type FileLayer, type LoadedSnapshot, type PartitionLog, type StoredSnapshot } from '../../storage/index.js'
import { resetLog, type DirectiveContext } from './log-directives.js'
import { APPLY_READ_BYTES, SNAPSHOT_EVERY_BYTES_DEFAULT, SNAPSHOT_EVERY_RECORDS_DEFAULT } from './limits.js'
import type { Opened } from './replica-disk.js'
import type { SnapshotPolicy, StateMachine, StateMachineOptions } from './state-machine.js'
import { fitToLog } from './voter-sets.js'

export class StateMachineLog {
  /** Offsets below this are in the machine's state. */
  private applied: number
  private recordsSinceSnapshot = 0
  private bytesSinceSnapshot = 0

  private constructor(
    private readonly store: SnapshotStore,
    private readonly machine: StateMachine,
    private readonly policy: SnapshotPolicy,
    private readonly codec: Codec,
    applied: number,
  ) {
    this.applied = applied
  }

  /**
   * Loads the latest snapshot into the machine (or the empty state) and makes the log start at
   * its end. Returns the snapshot for the core's log view, or null.
   */
  static async open(
    log: PartitionLog, fs: FileLayer, dir: string, codec: Codec, options: StateMachineOptions,
  ): Promise<{ sm: StateMachineLog; snapshot: StoredSnapshot | null }> {
    const { store, latest } = await SnapshotStore.open(fs, dir, (b) => codec.crc32c(b))
    const policy = {
      everyRecords: options.snapshotPolicy?.everyRecords ?? SNAPSHOT_EVERY_RECORDS_DEFAULT,
      everyBytes: options.snapshotPolicy?.everyBytes ?? SNAPSHOT_EVERY_BYTES_DEFAULT,
    }
    if (latest === null) {
      if (log.logStartOffset > 0) {
        throw new StorageError('CORRUPT_FILE', `${dir}: the state-machine log starts at ${log.logStartOffset} but holds no snapshot: the state below is lost`)
      }
      options.machine.restore(null, 0)
      return { sm: new StateMachineLog(store, options.machine, policy, codec, 0), snapshot: null }
    }
    await startLogAt(log, latest, dir)
    options.machine.restore(latest.state, latest.snapshot.endOffset)
    return { sm: new StateMachineLog(store, options.machine, policy, codec, latest.snapshot.endOffset), snapshot: latest.snapshot }
  }

  /** Offsets below this are applied to the state machine. */
  get appliedEnd(): number {
    return this.applied
  }

  /** Applies the committed batches below `hw` not applied yet (a batch the HW cuts waits). */
  async applyCommitted(log: PartitionLog, hw: number): Promise<void> {
    while (this.applied < hw) {
      const { bytes } = await log.read(this.applied, APPLY_READ_BYTES, { maxOffset: hw })
      if (bytes.length === 0) return
      for (const [start, end] of splitBatches(bytes)) {
        const h = readBatchHeader(bytes, start)
        if (h.baseOffset !== this.applied) throw new Error(`the state machine has applied up to ${this.applied}; the next batch starts at ${h.baseOffset}`)
        if (!h.control) {
          const { records } = this.codec.decodeBatch(bytes.subarray(start, end), { contiguous: false })
          this.machine.apply({ baseOffset: h.baseOffset, nextOffset: h.nextOffset, epoch: h.partitionLeaderEpoch, records })
        }
        this.applied = h.nextOffset
        this.recordsSinceSnapshot += h.nextOffset - h.baseOffset
        this.bytesSinceSnapshot += h.sizeBytes
      }
    }
  }

  /**
   * The policy asks for a snapshot, and the state is of flushed records past the log start:
   * the core counts a snapshot's records as durable, so none may be on this disk only in part.
   */
  snapshotDue(log: PartitionLog): boolean {
    const due = this.recordsSinceSnapshot >= this.policy.everyRecords || this.bytesSinceSnapshot >= this.policy.everyBytes
    return due && this.applied > log.logStartOffset && this.applied <= log.flushedOffset
  }

  /**
   * Snapshots the state at the applied end (at or below the HW), makes it durable, tells the
   * core, then deletes the log below it and drops the voter records it no longer holds.
   */
  async takeSnapshot(ctx: DirectiveContext, o: Opened): Promise<void> {
    const endOffset = this.applied
    const epoch = o.log.epochAt(endOffset - 1)
    const voters = votersAt(o.voterSets, endOffset - 1)
    ctx.observer?.snapshotting?.({ endOffset, epoch }, voters)
    const stored = await this.store.write({ endOffset, epoch }, voters, this.machine.snapshot())
    o.core.snapshotTaken({ endOffset, epoch, sizeBytes: stored.sizeBytes })
    this.recordsSinceSnapshot = this.bytesSinceSnapshot = 0
    await o.log.deleteRecordsBefore(endOffset)
    await ctx.saveVoterSets(o, fitToLog(o.voterSets, o.log.logStartOffset, o.log.logEndOffset))
  }

  /** Leader: bytes of its latest snapshot for a follower's download. */
  readChunk(snapshotId: SnapshotId, position: number, length: number): Uint8Array {
    return this.store.read(snapshotId, position, length)
  }

  /** Follower: a downloaded chunk into the pending file (position 0 starts afresh; not durable). */
  writeChunk(d: WriteSnapshotChunk): void {
    if (!(d.chunk instanceof Uint8Array)) throw new Error('a snapshot chunk that is not bytes')
    this.store.writePending(d.position, d.chunk)
  }

  /**
   * Follower: the download is complete. Makes it the latest snapshot (durable, checked whole),
   * then resets the log empty at its end with the voters the leader named, then loads it.
   */
  async install(ctx: DirectiveContext, o: Opened, d: InstallSnapshot): Promise<void> {
    // From the moment the snapshot is the latest, opening resets the log to its end.
    ctx.observer?.resetting?.(d.snapshot.endOffset)
    const loaded: LoadedSnapshot = await this.store.installPending(d.snapshot)
    if (!sameVoters(loaded.snapshot.voters, d.voters)) {
      throw new Error(`the downloaded snapshot names voters ${loaded.snapshot.voters.join(',')}, the leader named ${d.voters.join(',')}`)
    }
    await resetLog(ctx, o, d.snapshot.endOffset, d.snapshot.epoch, d.voters, d.directoryIds)
    this.machine.restore(loaded.state, d.snapshot.endOffset)
    this.applied = d.snapshot.endOffset
    this.recordsSinceSnapshot = this.bytesSinceSnapshot = 0
    ctx.observer?.snapshotInstalled?.(d.snapshot)
  }
}

/**
 * Makes the log start at the snapshot's end: keeps the records past it if the log holds the
 * snapshot's last record (same offset and epoch: the same prefix), else starts over empty there.
 * A log that starts past the snapshot lacks records no snapshot holds.
 */
async function startLogAt(log: PartitionLog, latest: LoadedSnapshot, dir: string): Promise<void> {
  const { endOffset, epoch } = latest.snapshot
  if (log.logStartOffset > endOffset) {
    throw new StorageError('CORRUPT_FILE', `${dir}: the log starts at ${log.logStartOffset}, past its latest snapshot's end ${endOffset}: the records between are lost`)
  }
  if (log.logStartOffset === endOffset) return
  if (log.logEndOffset >= endOffset && log.epochAt(endOffset - 1) === epoch) await log.deleteRecordsBefore(endOffset)
  else await log.truncateFullyAndStartAt(endOffset, epoch)
}

/** The voter set in force once the record at `offset` is in the log. */
function votersAt(sets: readonly VoterSetAt[], offset: number): readonly NodeId[] {
  let voters = sets[0].voters
  for (const s of sets) if (s.offset <= offset) voters = s.voters
  return voters
}

function sameVoters(a: readonly NodeId[], b: readonly NodeId[]): boolean {
  const sorted = (ids: readonly NodeId[]) => [...ids].sort((x, y) => x - y).join()
  return sorted(a) === sorted(b)
}
