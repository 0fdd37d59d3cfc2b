// FileLayer over node:fs. Writes and reads are positional syscalls (pwrite/pread); fsync goes
// to the thread pool so that other appends continue while the disk works. `fsyncCount` counts
// every fsync (file or directory) for tests and metrics.
import * as fs from 'node:fs'
import { dirname } from 'node:path'
import type { FileHandle, FileLayer } from './file-layer.js'

function fdatasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())))
}

function fsyncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fsync(fd, (err) => (err ? reject(err) : resolve())))
}

class NodeFileHandle implements FileHandle {
  private closed = false
  constructor(
    readonly path: string,
    private readonly fd: number,
    private readonly layer: NodeFileLayer,
  ) {}

  size(): number {
    return fs.fstatSync(this.fd).size
  }

  read(into: Uint8Array, position: number): number {
    return readFully(this.fd, into, position)
  }

  write(bytes: Uint8Array, position: number): void {
    let done = 0
    while (done < bytes.length) {
      done += fs.writeSync(this.fd, bytes, done, bytes.length - done, position + done)
    }
  }

  truncate(length: number): void {
    fs.ftruncateSync(this.fd, length)
  }

  async sync(): Promise<void> {
    this.layer.fsyncCount++
    await fdatasync(this.fd)
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    fs.closeSync(this.fd)
  }
}

export class NodeFileLayer implements FileLayer {
  /** fsyncs issued (files and directories) since construction. */
  fsyncCount = 0

  open(path: string, options: { create: boolean }): FileHandle {
    const flags = options.create ? fs.constants.O_RDWR | fs.constants.O_CREAT : fs.constants.O_RDWR
    return new NodeFileHandle(path, fs.openSync(path, flags, 0o644), this)
  }

  list(dir: string): string[] {
    return fs.readdirSync(dir)
  }

  exists(path: string): boolean {
    return fs.existsSync(path)
  }

  async mkdirp(dir: string): Promise<void> {
    if (fs.existsSync(dir)) return
    await this.mkdirp(dirname(dir))
    fs.mkdirSync(dir)
    await this.syncDir(dirname(dir))
  }

  rename(from: string, to: string): void {
    fs.renameSync(from, to)
  }

  remove(path: string): void {
    fs.rmSync(path, { force: true })
  }

  async syncDir(dir: string): Promise<void> {
    const fd = fs.openSync(dir, 'r')
    try {
      this.fsyncCount++
      await fsyncFd(fd)
    } finally {
      fs.closeSync(fd)
    }
  }
}

/** Reads into `into` from `position` until it is full or the file ends; the bytes read. */
export function readFully(fd: number, into: Uint8Array, position: number): number {
  let done = 0
  while (done < into.length) {
    const n = fs.readSync(fd, into, done, into.length - done, position + done)
    if (n === 0) break
    done += n
  }
  return done
}
