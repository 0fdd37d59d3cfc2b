// The file layer: the only way the storage engine touches files. The log runs unchanged on the
// real file system (NodeFileLayer) and on the power-cut simulator (SimFileLayer), which is what
// makes durability testable: SIGKILL keeps the page cache, a simulated power cut does not.
//
// Data operations are synchronous: a pwrite/pread against the page cache costs microseconds,
// less than a thread-pool round trip, and keeps appends ordered without locks (Kafka also
// writes on the request thread). Only the operations that wait for the disk (fsync of a file
// or a directory) are asynchronous, and that is where group commit lets appends share one.

export interface FileHandle {
  readonly path: string
  /** Current length in bytes. */
  size(): number
  /** Reads up to into.length bytes at `position`; returns how many were read (short at EOF). */
  read(into: Uint8Array, position: number): number
  /** Writes all of `bytes` at `position` (into the page cache, not yet durable). */
  write(bytes: Uint8Array, position: number): void
  /** Sets the length (not yet durable). */
  truncate(length: number): void
  /** Makes the file's data and length durable (fdatasync). Does not make its name durable. */
  sync(): Promise<void>
  close(): void
}

export interface FileLayer {
  /** Opens a file for reading and writing; `create` makes it if missing (name not yet durable). */
  open(path: string, options: { create: boolean }): FileHandle
  /** Names in a directory (files only matter to the engine), unsorted. */
  list(dir: string): string[]
  exists(path: string): boolean
  /** Creates a directory and its parents (durable: parents are synced). */
  mkdirp(dir: string): Promise<void>
  /** Renames atomically, replacing `to` if it exists (not durable until syncDir). */
  rename(from: string, to: string): void
  /** Removes a file (not durable until syncDir). Missing files are ignored. */
  remove(path: string): void
  /** Makes creations, renames and removals in `dir` durable (fsync of the directory). */
  syncDir(dir: string): Promise<void>
  /** fsyncs issued so far (files and directories), where the layer counts them. */
  readonly fsyncCount?: number
}

/** Reads a whole (small) file. */
export function readWhole(fs: FileLayer, path: string, maxBytes: number): Uint8Array {
  const h = fs.open(path, { create: false })
  try {
    const size = h.size()
    if (size > maxBytes) throw new RangeError(`${path} is ${size} bytes, over the ${maxBytes}-byte limit`)
    const out = new Uint8Array(size)
    const n = h.read(out, 0)
    return out.subarray(0, n)
  } finally {
    h.close()
  }
}
