// State-machine snapshots beside a log (the metadata log's; data partitions have none): the
// latest snapshot file, a download in progress, and the atomic step that makes either a new
// snapshot the latest. A snapshot becomes the latest only whole: its bytes are written to a
// temporary or pending file, fsynced, checked, and renamed to its final name, and the
// directory is fsynced; older snapshots are deleted only after that. So a power cut at any
// point leaves the previous snapshot or the new one, never a half one. Format (docs/storage.md):
//   <endOffset 20 digits>-<epoch 10 digits>.snapshot
//     u32 magic "BSNP", u16 version 1, u16 voter count n, u64 endOffset, u32 epoch,
//     n × u32 voter id, u32 state length, state bytes, u32 crc32c of everything before it
//   download.snapshot.part          a download in progress: never durable, deleted on open
import { join } from 'node:path'
import { TEMP_SUFFIX, writeDurably } from './atomic-file.js'
import { StorageError } from './errors.js'
import type { FileLayer } from './file-layer.js'
import { SNAPSHOT_BYTES_MAX } from './limits.js'

export const SNAPSHOT_SUFFIX = '.snapshot'
export const PENDING_SNAPSHOT_FILE = 'download.snapshot.part'
const MAGIC = 0x42534e50 // "BSNP"
const VERSION = 1
const FIXED_BYTES = 4 + 2 + 2 + 8 + 4 + 4 + 4
const NAME = /^(\d{20})-(\d{10})\.snapshot$/
/** Most voters a snapshot names (far above any Raft group's size; bounds a damaged count). */
const SNAPSHOT_VOTERS_MAX = 1024

type Crc = (bytes: Uint8Array) => number

/** Identity of a snapshot: the state after every record below endOffset; the last one has epoch `epoch`. */
export interface SnapshotKey {
  readonly endOffset: number
  readonly epoch: number
}

/** A snapshot file on disk: its identity, size (what a download fetches) and the voter set at its end. */
export interface StoredSnapshot extends SnapshotKey {
  readonly sizeBytes: number
  readonly voters: readonly number[]
}

export interface LoadedSnapshot {
  readonly snapshot: StoredSnapshot
  readonly state: Uint8Array
}

export function snapshotFileName(key: SnapshotKey): string {
  return `${String(key.endOffset).padStart(20, '0')}-${String(key.epoch).padStart(10, '0')}${SNAPSHOT_SUFFIX}`
}

export function encodeSnapshot(key: SnapshotKey, voters: readonly number[], state: Uint8Array, crc32c: Crc): Uint8Array {
  const size = FIXED_BYTES + 4 * voters.length + state.length
  if (size > SNAPSHOT_BYTES_MAX) {
    throw new StorageError('LIMIT_EXCEEDED', `a snapshot of ${size} bytes is over SNAPSHOT_BYTES_MAX ${SNAPSHOT_BYTES_MAX}`)
  }
  if (voters.length > SNAPSHOT_VOTERS_MAX) throw new StorageError('LIMIT_EXCEEDED', `${voters.length} voters is over ${SNAPSHOT_VOTERS_MAX}`)
  const out = new Uint8Array(size)
  const v = new DataView(out.buffer)
  let at = 0
  v.setUint32(at, MAGIC)
  v.setUint16((at += 4), VERSION)
  v.setUint16((at += 2), voters.length)
  v.setBigUint64((at += 2), BigInt(key.endOffset))
  v.setUint32((at += 8), key.epoch)
  at += 4
  for (const id of voters) {
    v.setUint32(at, id)
    at += 4
  }
  v.setUint32(at, state.length)
  out.set(state, (at += 4))
  at += state.length
  v.setUint32(at, crc32c(out.subarray(0, at)))
  return out
}

/** Parses and checks a whole snapshot file; throws CORRUPT_FILE naming `what` and the problem. */
export function decodeSnapshot(bytes: Uint8Array, crc32c: Crc, what: string): LoadedSnapshot {
  const bad = (why: string) => new StorageError('CORRUPT_FILE', `snapshot ${what} is damaged: ${why}`)
  if (bytes.length < FIXED_BYTES) throw bad(`${bytes.length} bytes is shorter than a header`)
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length)
  const crcAt = bytes.length - 4
  if (v.getUint32(crcAt) !== crc32c(bytes.subarray(0, crcAt))) throw bad('checksum mismatch (torn or damaged)')
  if (v.getUint32(0) !== MAGIC) throw bad('not a snapshot file (magic)')
  if (v.getUint16(4) !== VERSION) throw bad(`version ${v.getUint16(4)} is not ${VERSION}`)
  const count = v.getUint16(6)
  const endOffset = Number(v.getBigUint64(8))
  const epoch = v.getUint32(16)
  let at = 20
  if (count > SNAPSHOT_VOTERS_MAX || at + 4 * count + 4 > crcAt) throw bad(`${count} voters do not fit`)
  const voters: number[] = []
  for (let i = 0; i < count; i++, at += 4) voters.push(v.getUint32(at))
  const stateLength = v.getUint32(at)
  at += 4
  if (at + stateLength !== crcAt) throw bad(`state of ${stateLength} bytes does not fill the file`)
  if (!Number.isSafeInteger(endOffset)) throw bad(`end offset ${endOffset}`)
  return { snapshot: { endOffset, epoch, sizeBytes: bytes.length, voters }, state: bytes.subarray(at, crcAt) }
}

export class SnapshotStore {
  private constructor(
    private readonly fs: FileLayer,
    private readonly dir: string,
    private readonly crc32c: Crc,
    private current: StoredSnapshot | null,
  ) {}

  /**
   * Opens the snapshots in `dir` and returns the latest one with its state (checked whole), or
   * null. Drops what a crash may have left: a download in progress, a half-written snapshot
   * (temp file), older snapshots whose deletion did not finish. A damaged latest snapshot
   * throws CORRUPT_FILE: the state it held is not anywhere else on this node.
   */
  static async open(fs: FileLayer, dir: string, crc32c: Crc): Promise<{ store: SnapshotStore; latest: LoadedSnapshot | null }> {
    await fs.mkdirp(dir)
    const found: SnapshotKey[] = []
    let removed = false
    for (const name of fs.list(dir)) {
      if (name === PENDING_SNAPSHOT_FILE || name.endsWith(SNAPSHOT_SUFFIX + TEMP_SUFFIX)) {
        fs.remove(join(dir, name))
        removed = true
        continue
      }
      const m = NAME.exec(name)
      if (m !== null) found.push({ endOffset: Number(m[1]), epoch: Number(m[2]) })
    }
    found.sort((a, b) => a.endOffset - b.endOffset || a.epoch - b.epoch)
    const key = found.pop()
    for (const older of found) fs.remove(join(dir, snapshotFileName(older)))
    if (removed || found.length > 0) await fs.syncDir(dir)
    if (key === undefined) return { store: new SnapshotStore(fs, dir, crc32c, null), latest: null }
    const name = snapshotFileName(key)
    const loaded = decodeSnapshot(readFile(fs, join(dir, name)), crc32c, name)
    if (loaded.snapshot.endOffset !== key.endOffset || loaded.snapshot.epoch !== key.epoch) {
      throw new StorageError('CORRUPT_FILE', `snapshot ${name} holds the state at ${loaded.snapshot.endOffset} (epoch ${loaded.snapshot.epoch}), not what its name says`)
    }
    return { store: new SnapshotStore(fs, dir, crc32c, loaded.snapshot), latest: loaded }
  }

  /** The latest snapshot, or null. */
  get latest(): StoredSnapshot | null {
    return this.current
  }

  /** Writes a new snapshot of `state` and makes it the latest, atomically; then deletes the older one. */
  async write(key: SnapshotKey, voters: readonly number[], state: Uint8Array): Promise<StoredSnapshot> {
    const bytes = encodeSnapshot(key, voters, state, this.crc32c)
    const temp = join(this.dir, snapshotFileName(key) + TEMP_SUFFIX)
    await writeDurably(this.fs, temp, bytes)
    return this.makeLatest(temp, { ...key, sizeBytes: bytes.length, voters: [...voters] })
  }

  /** Bytes [position, position + length) of the latest snapshot's file, which must be `key`. */
  read(key: SnapshotKey, position: number, length: number): Uint8Array {
    const s = this.current
    if (s === null || s.endOffset !== key.endOffset || s.epoch !== key.epoch) {
      throw new StorageError('INVALID_ARGUMENT', `snapshot ${snapshotFileName(key)} is not the latest (${s === null ? 'none' : snapshotFileName(s)})`)
    }
    if (!Number.isSafeInteger(position) || !Number.isSafeInteger(length) || position < 0 || length < 1 || position + length > s.sizeBytes) {
      throw new StorageError('INVALID_ARGUMENT', `bytes [${position}, ${position + length}) are outside snapshot ${snapshotFileName(s)} of ${s.sizeBytes} bytes`)
    }
    const h = this.fs.open(join(this.dir, snapshotFileName(s)), { create: false })
    try {
      const out = new Uint8Array(length)
      const n = h.read(out, position)
      if (n !== length) throw new StorageError('CORRUPT_FILE', `snapshot ${snapshotFileName(s)} is shorter than its ${s.sizeBytes} bytes`)
      return out
    } finally {
      h.close()
    }
  }

  /**
   * Writes a downloaded chunk at `position` of the pending snapshot (not durable). Position 0
   * starts afresh, discarding any partial download; any other position must be where the
   * pending file ends (chunks arrive in order).
   */
  writePending(position: number, chunk: Uint8Array): void {
    const path = join(this.dir, PENDING_SNAPSHOT_FILE)
    if (position + chunk.length > SNAPSHOT_BYTES_MAX) {
      throw new StorageError('LIMIT_EXCEEDED', `a snapshot download past ${position + chunk.length} bytes is over SNAPSHOT_BYTES_MAX ${SNAPSHOT_BYTES_MAX}`)
    }
    if (position !== 0 && !this.fs.exists(path)) {
      throw new StorageError('INVALID_ARGUMENT', `a snapshot chunk at ${position} without a download in progress`)
    }
    const h = this.fs.open(path, { create: position === 0 })
    try {
      if (position === 0) h.truncate(0)
      else if (h.size() !== position) throw new StorageError('INVALID_ARGUMENT', `a snapshot chunk at ${position}; the download holds ${h.size()} bytes`)
      h.write(chunk, position)
    } finally {
      h.close()
    }
  }

  /**
   * The download is complete: checks it whole against what the leader announced (`expected`),
   * makes it durable and the latest snapshot, and returns it with its state. Throws CORRUPT_FILE
   * (the pending file is left for the next download to overwrite) if it is not that snapshot.
   */
  async installPending(expected: SnapshotKey & { readonly sizeBytes: number }): Promise<LoadedSnapshot> {
    const path = join(this.dir, PENDING_SNAPSHOT_FILE)
    if (!this.fs.exists(path)) throw new StorageError('INVALID_ARGUMENT', 'installing a snapshot that was never downloaded')
    const h = this.fs.open(path, { create: false })
    let bytes: Uint8Array
    try {
      await h.sync()
      if (h.size() !== expected.sizeBytes) {
        throw new StorageError('CORRUPT_FILE', `the downloaded snapshot holds ${h.size()} bytes, the leader announced ${expected.sizeBytes}`)
      }
      bytes = new Uint8Array(expected.sizeBytes)
      h.read(bytes, 0)
    } finally {
      h.close()
    }
    const name = snapshotFileName(expected)
    const loaded = decodeSnapshot(bytes, this.crc32c, `download of ${name}`)
    if (loaded.snapshot.endOffset !== expected.endOffset || loaded.snapshot.epoch !== expected.epoch) {
      throw new StorageError('CORRUPT_FILE', `the downloaded snapshot holds ${snapshotFileName(loaded.snapshot)}, the leader announced ${name}`)
    }
    await this.makeLatest(path, loaded.snapshot)
    return loaded
  }

  /** Renames a durable, checked file to its snapshot name, fsyncs the directory, then drops the older snapshot. */
  private async makeLatest(from: string, snapshot: StoredSnapshot): Promise<StoredSnapshot> {
    const previous = this.current
    this.fs.rename(from, join(this.dir, snapshotFileName(snapshot)))
    await this.fs.syncDir(this.dir)
    this.current = snapshot
    if (previous !== null && snapshotFileName(previous) !== snapshotFileName(snapshot)) {
      this.fs.remove(join(this.dir, snapshotFileName(previous)))
      await this.fs.syncDir(this.dir)
    }
    return snapshot
  }
}

function readFile(fs: FileLayer, path: string): Uint8Array {
  const h = fs.open(path, { create: false })
  try {
    const size = h.size()
    if (size > SNAPSHOT_BYTES_MAX) throw new StorageError('CORRUPT_FILE', `${path} is ${size} bytes, over SNAPSHOT_BYTES_MAX ${SNAPSHOT_BYTES_MAX}`)
    const out = new Uint8Array(size)
    return out.subarray(0, h.read(out, 0))
  } finally {
    h.close()
  }
}
