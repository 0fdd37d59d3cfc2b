// An in-memory FileLayer that models what survives a power cut, for durability tests.
//
// Per file (inode) it keeps the bytes last made durable by sync(); per directory, the entries
// last made durable by syncDir(). powerCut() then does what a real power loss may do: every
// directory reverts to its durable entries (unsynced creations, renames and removals are
// undone), every file reverts to its durable bytes, and, if a random source is given, a random
// prefix of each file's unsynced appended bytes survives (a torn tail). Handles opened before
// the cut are dead, as the process that held them would be.
import { dirname, basename } from 'node:path'
import type { FileHandle, FileLayer } from './file-layer.js'

class Inode {
  data = new Uint8Array(0)
  length = 0
  /** Bumped by every write or truncate. */
  version = 0
  durableLength = 0
  /** Durable bytes, captured only once an unsynced write or truncate touches them. */
  durableSnapshot: Uint8Array | null = null
  /** `version` when the latest fsync that completed began: an older one completing later adds nothing. */
  syncedVersion = -1

  ensureCapacity(n: number): void {
    if (n <= this.data.length) return
    const grown = new Uint8Array(Math.max(n, this.data.length * 2, 4096))
    grown.set(this.data.subarray(0, this.length))
    this.data = grown
  }

  /** Before changing bytes below durableLength, remember what the disk holds. */
  protectDurable(position: number): void {
    if (position < this.durableLength && this.durableSnapshot === null) {
      this.durableSnapshot = this.data.slice(0, this.durableLength)
    }
  }

  durableBytes(): Uint8Array {
    return this.durableSnapshot ?? this.data.slice(0, this.durableLength)
  }
}

interface Dir {
  entries: Map<string, Inode>
  durable: Map<string, Inode>
  /** Bumped by every change of `entries`; `syncedVersion`: as for files (Inode). */
  version: number
  syncedVersion: number
}

export interface PowerCutOptions {
  /** Random in [0, 1): when given, a random prefix of each file's unsynced tail survives. */
  random?: () => number
  /** With `random`: the surviving unsynced bytes may contain a zeroed run (sectors never written). */
  scramble?: boolean
}

class SimHandle implements FileHandle {
  private closed = false
  constructor(
    readonly path: string,
    private readonly inode: Inode,
    private readonly layer: SimFileLayer,
    private readonly era: number,
  ) {}

  private live(): Inode {
    if (this.closed) throw new Error(`${this.path}: handle is closed`)
    if (this.era !== this.layer.era) throw new Error(`${this.path}: handle died in a power cut`)
    return this.inode
  }

  size(): number {
    return this.live().length
  }

  read(into: Uint8Array, position: number): number {
    const f = this.live()
    const n = Math.max(0, Math.min(into.length, f.length - position))
    into.set(f.data.subarray(position, position + n))
    return n
  }

  write(bytes: Uint8Array, position: number): void {
    const f = this.live()
    f.protectDurable(position)
    f.version++
    f.ensureCapacity(position + bytes.length)
    if (position > f.length) f.data.fill(0, f.length, position)
    f.data.set(bytes, position)
    f.length = Math.max(f.length, position + bytes.length)
  }

  truncate(length: number): void {
    const f = this.live()
    f.protectDurable(length)
    f.version++
    if (length > f.length) {
      f.ensureCapacity(length)
      f.data.fill(0, f.length, length)
    }
    f.length = length
  }

  async sync(): Promise<void> {
    const f = this.live()
    this.layer.fsyncCount++
    // Durable is what the file held when the fsync started: writes racing with it are not
    // covered (the adversarial reading of fsync; the log must not count them as flushed).
    const version = f.version
    const atStart = f.data.slice(0, f.length)
    await this.layer.syncDelay(this.path)
    if (this.era !== this.layer.era) throw new Error(`${this.path}: power cut during fsync`)
    // Fsyncs may complete out of order; what a later-started one made durable stays durable.
    if (version <= f.syncedVersion) return
    f.syncedVersion = version
    if (f.version === version) {
      f.durableLength = f.length
      f.durableSnapshot = null
    } else {
      f.durableLength = atStart.length
      f.durableSnapshot = atStart
    }
  }

  close(): void {
    this.closed = true
  }
}

export class SimFileLayer implements FileLayer {
  fsyncCount = 0
  /** Incremented by each power cut; handles of an older era are dead. */
  era = 0
  private readonly dirs = new Map<string, Dir>()

  private readonly delay: (path: string) => Promise<void>
  /** When it returns true for a path, that fsync fails (EIO) and makes nothing durable. */
  failSync: ((path: string) => boolean) | null = null

  /**
   * `fsyncDelayMs` lets fsync take real time so that concurrent appends queue behind it; a
   * simulator passes `syncDelay` instead (its own virtual time) so that a run replays exactly.
   */
  constructor(options: number | { syncDelay?: (path: string) => Promise<void> } = 0) {
    const ms = typeof options === 'number' ? options : 0
    this.delay = (typeof options === 'object' ? options.syncDelay : undefined) ??
      (ms > 0 ? () => new Promise((resolve) => setTimeout(resolve, ms)) : () => new Promise((resolve) => setImmediate(resolve)))
  }

  /** Waits as long as one fsync takes; throws EIO if `failSync` says this one fails. */
  async syncDelay(path: string): Promise<void> {
    await this.delay(path)
    if (this.failSync?.(path) === true) throw Object.assign(new Error(`EIO: fsync of ${path} failed`), { code: 'EIO' })
  }

  private dir(path: string): Dir {
    const d = this.dirs.get(path)
    if (d === undefined) throw Object.assign(new Error(`ENOENT: no directory ${path}`), { code: 'ENOENT' })
    return d
  }

  open(path: string, options: { create: boolean }): FileHandle {
    const d = this.dir(dirname(path))
    let inode = d.entries.get(basename(path))
    if (inode === undefined) {
      if (!options.create) throw Object.assign(new Error(`ENOENT: no file ${path}`), { code: 'ENOENT' })
      inode = new Inode()
      d.entries.set(basename(path), inode)
      d.version++
    }
    return new SimHandle(path, inode, this, this.era)
  }

  list(dir: string): string[] {
    return [...this.dir(dir).entries.keys()]
  }

  exists(path: string): boolean {
    if (this.dirs.has(path)) return true
    return this.dirs.get(dirname(path))?.entries.has(basename(path)) ?? false
  }

  async mkdirp(dir: string): Promise<void> {
    // Directories are durable at once: the engine never depends on a directory's creation order.
    for (let p = dir; !this.dirs.has(p); p = dirname(p)) {
      this.dirs.set(p, { entries: new Map(), durable: new Map(), version: 0, syncedVersion: -1 })
      if (dirname(p) === p) break
    }
  }

  rename(from: string, to: string): void {
    const src = this.dir(dirname(from))
    const inode = src.entries.get(basename(from))
    if (inode === undefined) throw Object.assign(new Error(`ENOENT: no file ${from}`), { code: 'ENOENT' })
    const dst = this.dir(dirname(to))
    src.entries.delete(basename(from))
    dst.entries.set(basename(to), inode)
    src.version++
    dst.version++
  }

  remove(path: string): void {
    const d = this.dirs.get(dirname(path))
    if (d?.entries.delete(basename(path)) === true) d.version++
  }

  async syncDir(dir: string): Promise<void> {
    const era = this.era
    this.fsyncCount++
    // As for files: what the directory held when the fsync began, and only if no later one completed first.
    const d = this.dir(dir)
    const version = d.version
    const atStart = new Map(d.entries)
    await this.syncDelay(dir)
    if (era !== this.era) throw new Error(`${dir}: power cut during fsync`)
    if (version <= d.syncedVersion) return
    d.syncedVersion = version
    d.durable = atStart
  }

  /**
   * A view of this file system for one process lifetime: after a power cut every call through
   * it fails, so that async work a crashed process left in flight (a checkpoint's rename, say)
   * cannot act on the disk the next process sees. Open each log instance on its own session.
   */
  session(): FileLayer {
    const era = this.era
    const live = () => {
      if (era !== this.era) throw new Error('the process that used this session died in a power cut')
    }
    return {
      open: (path, options) => (live(), this.open(path, options)),
      list: (dir) => (live(), this.list(dir)),
      exists: (path) => (live(), this.exists(path)),
      mkdirp: async (dir) => (live(), this.mkdirp(dir)),
      rename: (from, to) => (live(), this.rename(from, to)),
      remove: (path) => (live(), this.remove(path)),
      syncDir: async (dir) => (live(), this.syncDir(dir)),
    }
  }

  /** Simulates losing power: keeps only what was made durable (plus torn tails if random). */
  powerCut(options: PowerCutOptions = {}): void {
    this.era++
    const seen = new Set<Inode>()
    for (const d of this.dirs.values()) {
      d.entries = new Map(d.durable)
      d.version++
      for (const inode of d.entries.values()) {
        if (seen.has(inode)) continue
        seen.add(inode)
        const unsynced = inode.data.slice(inode.durableLength, inode.length)
        const kept = inode.durableBytes()
        const tornBytes = options.random ? Math.floor(options.random() * (unsynced.length + 1)) : 0
        inode.data = new Uint8Array(kept.length + tornBytes)
        inode.data.set(kept)
        inode.data.set(unsynced.subarray(0, tornBytes), kept.length)
        if (options.scramble && options.random && tornBytes > 0) {
          const from = kept.length + Math.floor(options.random() * tornBytes)
          inode.data.fill(0, from, from + 1 + Math.floor(options.random() * 64))
        }
        inode.length = inode.data.length
        inode.durableLength = kept.length
        inode.durableSnapshot = null
        inode.version++ // the torn bytes are new content: the next fsync must cover them
      }
    }
  }

  /** Test helper: changes a file's bytes on "disk" (durably), e.g. to flip a bit. */
  damage(path: string, change: (bytes: Uint8Array) => Uint8Array): void {
    const inode = this.dir(dirname(path)).entries.get(basename(path))
    if (inode === undefined) throw new Error(`no file ${path}`)
    const next = change(inode.data.slice(0, inode.length))
    inode.data = next.slice()
    inode.length = next.length
    inode.durableLength = next.length
    inode.durableSnapshot = null
  }
}
