// The data directory: one broker process at a time, and whose it is.
//
// The lock is taken before anything is read or written. On Linux it is an abstract Unix socket
// bound to a name derived from the directory's real path: the kernel lets one process bind it
// and releases it when that process dies, however it dies, so a lock is never stale. A `lock`
// file records the holder's pid for people (and is the lock itself where abstract sockets do
// not exist: there a lock whose pid is dead is stale and taken over).
//
// Whose it is: `meta.properties` (as Kafka's) holds the cluster id, the node id and a directory
// id made once, when the directory is first used. A node started on another node's or another
// cluster's directory refuses, having written nothing. The directory id tells a wiped disk from
// the one a voter had: same node id, new directory id, a new replica (KIP-853).
import { createHash, randomUUID } from 'node:crypto'
import { closeSync, mkdirSync, openSync, readFileSync, realpathSync, rmSync, writeSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { readSmallFile, writeFileAtomic, type FileLayer } from '../storage/index.js'
import { StartupError, startupError } from './startup-error.js'

const LOCK_FILE = 'lock'
const META_FILE = 'meta.properties'
const META_VERSION = 1
/** What releases before meta.properties wrote: the cluster id alone. Upgraded on first start. */
const LEGACY_CLUSTER_ID_FILE = 'cluster-id'

export interface NodeIdentity {
  readonly clusterId: string
  readonly nodeId: number
  /** A random UUID made when this directory was first used by its node. */
  readonly directoryId: string
}

export interface DataDir {
  readonly path: string
  readonly identity: NodeIdentity
  /** Gives up the lock (at stop). */
  release(): Promise<void>
}

export interface ExpectedIdentity {
  readonly nodeId: number
  /** The cluster this node must belong to; absent: whatever the directory says (or a new one). */
  readonly clusterId?: string
}

/** Creates the directory if missing, locks it, and checks (or, on first use, writes) whose it is. */
export async function openDataDir(fs: FileLayer, path: string, expected: ExpectedIdentity): Promise<DataDir> {
  try {
    mkdirSync(path, { recursive: true })
  } catch (err) {
    throw startupError(`cannot create data directory ${path}`, err)
  }
  const lock = await takeLock(path)
  try {
    const identity = await identify(fs, path, expected)
    lock.record()
    return { path, identity, release: lock.release }
  } catch (err) {
    await lock.release()
    throw startupError(`cannot use data directory ${path}`, err)
  }
}

/** The identity in meta.properties, checked against what this node expects; written on first use. */
async function identify(fs: FileLayer, dir: string, expected: ExpectedIdentity): Promise<NodeIdentity> {
  const path = join(dir, META_FILE)
  const saved = readSmallFile(fs, path)
  if (saved !== null) {
    const found = parseMeta(new TextDecoder().decode(saved), path)
    if (found.nodeId !== expected.nodeId) {
      throw new StartupError(`data directory ${dir} belongs to node ${found.nodeId} (${META_FILE}); start it with --id ${found.nodeId}, or give node ${expected.nodeId} its own --data-dir`)
    }
    if (expected.clusterId !== undefined && found.clusterId !== expected.clusterId) {
      throw new StartupError(`data directory ${dir} belongs to cluster ${found.clusterId}, not ${expected.clusterId} (${META_FILE}); give this node another --data-dir`)
    }
    return found
  }
  const legacy = readSmallFile(fs, join(dir, LEGACY_CLUSTER_ID_FILE))
  const legacyClusterId = legacy === null ? undefined : new TextDecoder().decode(legacy).trim()
  if (legacyClusterId !== undefined && expected.clusterId !== undefined && legacyClusterId !== expected.clusterId) {
    throw new StartupError(`data directory ${dir} belongs to cluster ${legacyClusterId}, not ${expected.clusterId} (${LEGACY_CLUSTER_ID_FILE}); give this node another --data-dir`)
  }
  const identity: NodeIdentity = { clusterId: legacyClusterId ?? expected.clusterId ?? randomUUID(), nodeId: expected.nodeId, directoryId: randomUUID() }
  await writeFileAtomic(fs, path, new TextEncoder().encode(formatMeta(identity)))
  if (legacy !== null) {
    fs.remove(join(dir, LEGACY_CLUSTER_ID_FILE)) // meta.properties holds it now
    await fs.syncDir(dir)
  }
  return identity
}

export function formatMeta(m: NodeIdentity): string {
  return `# Written by the broker when this directory was first used. Do not edit.\nversion=${META_VERSION}\ncluster.id=${m.clusterId}\nnode.id=${m.nodeId}\ndirectory.id=${m.directoryId}\n`
}

export function parseMeta(text: string, path: string): NodeIdentity {
  const props = new Map<string, string>()
  for (const line of text.split('\n')) {
    const trimmed = line.trim()
    if (trimmed === '' || trimmed.startsWith('#')) continue
    const eq = trimmed.indexOf('=')
    if (eq < 0) throw new StartupError(`${path} is damaged: '${trimmed}' is not key=value`)
    props.set(trimmed.slice(0, eq), trimmed.slice(eq + 1))
  }
  const field = (key: string) => {
    const value = props.get(key)
    if (value === undefined || value === '') throw new StartupError(`${path} is damaged: it has no ${key}`)
    return value
  }
  if (field('version') !== String(META_VERSION)) throw new StartupError(`${path}: version ${field('version')} is not one this broker reads (${META_VERSION})`)
  const nodeId = Number(field('node.id'))
  if (!Number.isInteger(nodeId) || nodeId < 0) throw new StartupError(`${path} is damaged: node.id ${field('node.id')} is not an integer >= 0`)
  return { clusterId: field('cluster.id'), nodeId, directoryId: field('directory.id') }
}

interface Lock {
  /** Writes the lock file naming this process (once the directory is known to be this node's). */
  record(): void
  release(): Promise<void>
}

async function takeLock(path: string): Promise<Lock> {
  let real: string
  try {
    real = realpathSync(path)
  } catch (err) {
    throw startupError(`cannot open data directory ${path}`, err)
  }
  const lockFile = join(real, LOCK_FILE)
  const socket = process.platform === 'linux' ? await bindAbstract(real, lockFile) : null
  if (socket === null) takeLockFile(lockFile)
  return {
    record: () => {
      if (socket !== null) writeLockFile(lockFile, 'w')
    },
    release: async () => {
      rmSync(lockFile, { force: true })
      if (socket !== null) await new Promise<void>((resolve) => socket.close(() => resolve()))
    },
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
