// One __consumer_offsets partition's groups as a state machine (partition/state-machine.ts):
// every replica, leader or follower, replays the partition's committed records into the groups
// it holds, so a replica that becomes leader coordinates at once, with every committed offset and
// member. Snapshots (the live records) bound the log, in place of compaction.
import type { CommittedBatch, StateMachine } from '../partition/state-machine.js'
import type { Logger } from '../log.js'
import { groupRecords, replay } from './core/records.js'
import { emptyGroup, isDead, type GroupState } from './core/state.js'
import { decodeGroupRecord, decodeSnapshot, encodeGroupRecord, encodeSnapshot, GroupRecordError } from './record-codec.js'

export class GroupsMachine implements StateMachine {
  private readonly groups = new Map<string, GroupState>()
  private applied = 0
  private readonly waiters = new Set<{ readonly offset: number; readonly done: () => void }>()
  private skipped = 0

  constructor(private readonly log: Logger) {}

  /** Offsets below this are in the groups. */
  get appliedOffset(): number {
    return this.applied
  }

  group(groupId: string): GroupState | undefined {
    return this.groups.get(groupId)
  }

  all(): IterableIterator<GroupState> {
    return this.groups.values()
  }

  /**
   * Resolves true once every offset below `offset` is applied (a write the leader appended is
   * then in the groups), false after `timeoutMs` (the replica stopped or reopened meanwhile).
   */
  whenApplied(offset: number, timeoutMs: number): Promise<boolean> {
    if (this.applied >= offset) return Promise.resolve(true)
    return new Promise((resolve) => {
      const waiter = {
        offset,
        done: () => {
          clearTimeout(timer)
          resolve(true)
        },
      }
      const timer = setTimeout(() => {
        this.waiters.delete(waiter)
        resolve(false)
      }, timeoutMs)
      this.waiters.add(waiter)
    })
  }

  apply(batch: CommittedBatch): void {
    for (const r of batch.records) {
      if (r.key === null) {
        this.skip(batch.baseOffset, 'a record without a key')
        continue
      }
      let record
      try {
        record = decodeGroupRecord({ key: r.key, value: r.value })
      } catch (err) {
        if (!(err instanceof GroupRecordError)) throw err
        // Not a group record (produced to the internal topic by hand?): skipped, never a replica failure.
        this.skip(r.offset, err.message)
        continue
      }
      const next = replay(this.groups.get(record.groupId) ?? emptyGroup(record.groupId), record)
      // Forgotten once nothing of it is left (a deleted group's tombstones, or all offsets of an empty one).
      if (isDead(next) && next.groupEpoch === 0) this.groups.delete(record.groupId)
      else this.groups.set(record.groupId, next)
    }
    this.advanced(batch.nextOffset)
  }

  snapshot(): Uint8Array {
    return encodeSnapshot([...this.groups.values()].flatMap((g) => groupRecords(g).map(encodeGroupRecord)))
  }

  restore(state: Uint8Array | null, endOffset: number): void {
    this.groups.clear()
    if (state !== null) {
      for (const bytes of decodeSnapshot(state)) {
        const record = decodeGroupRecord(bytes)
        this.groups.set(record.groupId, replay(this.groups.get(record.groupId) ?? emptyGroup(record.groupId), record))
      }
    }
    this.applied = endOffset
    this.advanced(endOffset)
  }

  private advanced(offset: number): void {
    this.applied = offset
    for (const w of this.waiters) {
      if (w.offset > offset) continue
      this.waiters.delete(w)
      w.done()
    }
  }

  private skip(offset: number, why: string): void {
    if (this.skipped++ % 1000 === 0) this.log.warn('a record of __consumer_offsets is not a group record: skipped', { offset, why, skipped: this.skipped })
  }
}
