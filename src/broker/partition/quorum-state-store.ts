// The quorum states (epoch, vote, leader) of every data partition a broker hosts, in one file
// beside the partition directories, written as one group commit: every replica that asks for a
// write in the same event-loop turn (or while the previous write is on the disk) shares one
// atomic rewrite of the file (temp, fsync, rename, directory fsync). So an election storm after
// a restart costs a few fsyncs, not two per partition (issue 18); each replica still waits until
// the write holding its state is durable before anything of its Ready leaves.
//
// Why one file rewritten whole rather than a file per partition synced together: a file per
// partition needs an fsync per file and per directory however the writes are grouped; one file
// of about 40 bytes a partition costs a few microseconds to encode per thousand partitions and
// keeps the crash reasoning of writeFileAtomic (old content or new, never a mix). A partition
// without an entry (created by an older release) falls back to its own quorum-state.json.
import { join } from 'node:path'
import type { NodeId, QuorumState } from '../../raft/types.js'
import {
  decodeCheckedText, encodeCheckedText, parseCount, readSmallFile, StorageError, systemTimers, writeFileAtomic, type FileLayer, type Timers,
} from '../../storage/index.js'

export const QUORUM_STATES_FILE = 'quorum-states'
const MAGIC = 'bitacora-quorum-states'
/** A partition's key: its directory's name under the store's directory (no spaces or slashes). */
const KEY = /^[^\s/]+$/

interface Queued {
  readonly key: string
  readonly state: QuorumState
  readonly resolve: () => void
  readonly reject: (err: unknown) => void
}

export class QuorumStateStore {
  /** What the file holds (the last write that completed). */
  private durable: Map<string, QuorumState>
  /** Writes asked for since the current batch began; at most one per replica (each awaits its own). */
  private queued: Queued[] = []
  private writing = false
  private scheduled = false
  /** Batches written (each two fsyncs) since opening. */
  batches = 0

  private constructor(
    private readonly fs: FileLayer,
    /** The directory holding the file and the partition directories. */
    readonly dir: string,
    private readonly crc32c: (b: Uint8Array) => number,
    private readonly timers: Timers,
    durable: Map<string, QuorumState>,
  ) {
    this.durable = durable
  }

  /**
   * Reads `dir`'s store (empty if there is none), dropping entries whose partition directory is
   * gone (deleted while the broker ran or was away). Throws CORRUPT_FILE if the file is damaged.
   */
  static open(fs: FileLayer, dir: string, crc32c: (b: Uint8Array) => number, timers: Timers = systemTimers): QuorumStateStore {
    const path = join(dir, QUORUM_STATES_FILE)
    const bytes = readSmallFile(fs, path)
    const states = new Map<string, QuorumState>()
    if (bytes !== null) {
      for (const line of decodeCheckedText(MAGIC, bytes, crc32c, path)) {
        const [key, epoch, votedFor, leaderId, extra] = line.split(' ')
        if (key === undefined || !KEY.test(key) || extra !== undefined) throw new StorageError('CORRUPT_FILE', `${path}: bad line "${line}"`)
        if (!fs.exists(join(dir, key))) continue
        states.set(key, { epoch: parseCount(epoch, `${path}: ${key}'s epoch`), votedFor: nodeOrNull(votedFor, path), leaderId: nodeOrNull(leaderId, path) })
      }
    }
    return new QuorumStateStore(fs, dir, crc32c, timers, states)
  }

  /** The durable quorum state of the partition in directory `key`, or undefined if the store has none. */
  get(key: string): QuorumState | undefined {
    return this.durable.get(key)
  }

  /** Resolves once a write holding `state` for `key` (or a later one) is durable; rejects if that write failed. */
  save(key: string, state: QuorumState): Promise<void> {
    if (!KEY.test(key)) throw new StorageError('INVALID_ARGUMENT', `quorum state key "${key}" must be a directory name without spaces`)
    return new Promise((resolve, reject) => {
      this.queued.push({ key, state, resolve, reject })
      if (this.writing || this.scheduled) return // the write under way starts the next batch when it ends
      this.scheduled = true
      this.timers.soon(() => void this.writeBatch()) // the rest of this turn's replicas join the batch
    })
  }

  /** Writes every state queued so far as one atomic file; then the next batch, if any queued meanwhile. */
  private async writeBatch(): Promise<void> {
    this.scheduled = false
    const batch = this.queued
    this.queued = []
    this.writing = true
    const next = new Map(this.durable)
    for (const q of batch) next.set(q.key, q.state)
    try {
      await writeFileAtomic(this.fs, join(this.dir, QUORUM_STATES_FILE), this.encode(next))
      this.durable = next
      this.batches++
      for (const q of batch) q.resolve()
    } catch (err) {
      // The file holds the old content (or, after a failed directory fsync, either): the
      // replicas reopen from `durable`, the old one, which never says less than the disk does.
      for (const q of batch) q.reject(err)
    } finally {
      this.writing = false
      if (this.queued.length > 0) void this.writeBatch()
    }
  }

  private encode(states: ReadonlyMap<string, QuorumState>): Uint8Array {
    const lines: string[] = []
    for (const [key, s] of states) lines.push(`${key} ${s.epoch} ${s.votedFor ?? '-'} ${s.leaderId ?? '-'}`)
    return encodeCheckedText(MAGIC, lines, this.crc32c)
  }
}

function nodeOrNull(text: string | undefined, path: string): NodeId | null {
  return text === '-' ? null : parseCount(text, `${path}: a node id`)
}
