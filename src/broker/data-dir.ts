// The data directory: one broker process at a time, and the cluster id it belongs to.
//
// The lock is taken before anything is written. On Linux it is an abstract Unix socket bound
// to a name derived from the directory's real path: the kernel lets one process bind it and
// releases it when that process dies, however it dies, so a lock is never stale. A `lock` file
// beside the data records the holder's pid for people (and is the lock itself where abstract
// sockets do not exist: there a lock whose pid is dead is stale and taken over).
import { createHash, randomUUID } from 'node:crypto'
import { mkdirSync, openSync, readFileSync, realpathSync, rmSync, writeSync, closeSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { readSmallFile, writeFileAtomic, type FileLayer } from '../storage/index.js'
import { StartupError, startupError } from './startup-error.js'

const LOCK_FILE = 'lock'
const CLUSTER_ID_FILE = 'cluster-id'

export interface DataDir {
  readonly path: string
  readonly clusterId: string
  /** Gives up the lock (at stop). */
  release(): Promise<void>
}

/** Creates the directory if missing, locks it, and reads (or, on first start, writes) the cluster id. */
export async function openDataDir(fs: FileLayer, path: string): Promise<DataDir> {
  try {
    mkdirSync(path, { recursive: true })
  } catch (err) {
    throw startupError(`cannot create data directory ${path}`, err)
  }
  const release = await lock(path)
  try {
    return { path, clusterId: await loadClusterId(fs, path), release }
  } catch (err) {
    await release()
    throw startupError(`cannot read data directory ${path}`, err)
  }
}

async function lock(path: string): Promise<() => Promise<void>> {
  let real: string
  try {
    real = realpathSync(path)
  } catch (err) {
    throw startupError(`cannot open data directory ${path}`, err)
  }
  const lockFile = join(real, LOCK_FILE)
  const socket = process.platform === 'linux' ? await bindAbstract(real, lockFile) : null
  if (socket === null) takeLockFile(lockFile)
  else writeLockFile(lockFile, 'w')
  return async () => {
    rmSync(lockFile, { force: true })
    if (socket !== null) await new Promise<void>((resolve) => socket.close(() => resolve()))
  }
}

/** Binds the directory's abstract socket, or throws the "locked" error naming the holder. */
function bindAbstract(realPath: string, lockFile: string): Promise<Server> {
  const name = '\0bitacora-data-dir-' + createHash('sha256').update(realPath).digest('hex').slice(0, 40)
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'EADDRINUSE' ? lockedError(realPath, lockFile) : startupError(`cannot lock data directory ${realPath}`, err))
    })
    server.listen(name, () => {
      server.unref() // the lock alone does not keep the process running
      resolve(server)
    })
  })
}

/** Where no abstract socket exists: create the lock file exclusively; a dead holder's lock is stale. */
function takeLockFile(lockFile: string): void {
  try {
    writeLockFile(lockFile, 'wx')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw startupError(`cannot lock ${lockFile}`, err)
    const holder = lockHolder(lockFile)
    if (holder !== null && isAlive(holder)) throw lockedError(lockFile, lockFile)
    rmSync(lockFile, { force: true })
    writeLockFile(lockFile, 'wx') // a racing process that also saw the stale lock gets EEXIST
  }
}

function writeLockFile(lockFile: string, flags: 'w' | 'wx'): void {
  const fd = openSync(lockFile, flags, 0o644)
  try {
    writeSync(fd, JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString() }) + '\n')
  } finally {
    closeSync(fd)
  }
}

function lockHolder(lockFile: string): number | null {
  try {
    const pid = (JSON.parse(readFileSync(lockFile, 'utf8')) as { pid?: unknown }).pid
    return typeof pid === 'number' && Number.isInteger(pid) && pid > 0 ? pid : null
  } catch {
    return null
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function lockedError(dir: string, lockFile: string): StartupError {
  const holder = lockHolder(lockFile)
  const who = holder === null ? 'another process' : `another process (pid ${holder})`
  return new StartupError(`data directory ${dir} is in use by ${who}; stop it, or give this broker its own --data-dir`)
}

/** The cluster id, made once and kept in the data directory. */
async function loadClusterId(fs: FileLayer, dataDir: string): Promise<string> {
  const path = join(dataDir, CLUSTER_ID_FILE)
  const saved = readSmallFile(fs, path)
  if (saved !== null) return new TextDecoder().decode(saved).trim()
  const id = randomUUID()
  await writeFileAtomic(fs, path, new TextEncoder().encode(id + '\n'))
  return id
}
