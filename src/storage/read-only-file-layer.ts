// A FileLayer over node:fs that can only read: files open O_RDONLY and every call that would
// change the disk fails an assertion. The log dump reads a running broker's data directory
// through it, so nothing it does (or a bug in it) can write there.
import * as fs from 'node:fs'
import type { FileHandle, FileLayer } from './file-layer.js'
import { readFully } from './node-file-layer.js'

/** A write through this layer is a bug in its caller, never bad input: an assertion, as errors.ts's. */
const refuse = (what: string): never => {
  throw new Error(`storage assertion failed: ${what} through a read-only file layer`)
}

class ReadOnlyFileHandle implements FileHandle {
  private closed = false
  constructor(
    readonly path: string,
    private readonly fd: number,
  ) {}

  size(): number {
    return fs.fstatSync(this.fd).size
  }

  read(into: Uint8Array, position: number): number {
    return readFully(this.fd, into, position)
  }

  write(): void {
    refuse(`write to ${this.path}`)
  }

  truncate(): void {
    refuse(`truncate ${this.path}`)
  }

  sync(): Promise<void> {
    return refuse(`fsync ${this.path}`)
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    fs.closeSync(this.fd)
  }
}

export class ReadOnlyFileLayer implements FileLayer {
  open(path: string, options: { create: boolean }): FileHandle {
    if (options.create) refuse(`create ${path}`)
    return new ReadOnlyFileHandle(path, fs.openSync(path, fs.constants.O_RDONLY))
  }

  list(dir: string): string[] {
    return fs.readdirSync(dir)
  }

  exists(path: string): boolean {
    return fs.existsSync(path)
  }

  mkdirp(dir: string): Promise<void> {
    return refuse(`mkdir ${dir}`)
  }

  rename(from: string, to: string): void {
    refuse(`rename ${from} to ${to}`)
  }

  remove(path: string): void {
    refuse(`remove ${path}`)
  }

  syncDir(dir: string): Promise<void> {
    return refuse(`fsync ${dir}`)
  }
}
