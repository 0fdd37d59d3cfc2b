// Real PartitionReplicas wired together in one process: each one's `send` goes, a turn of the
// event loop later, into another's `receive`, through a network the test controls (cut links,
// hold or rewrite messages). Each replica has its own simulated disk (SimFileLayer), which can
// be told to fail its next write or fsync. Time moves only when the test ticks.
import { loadCodec, type RecordInput } from '../../../src/codec/index.js'
import type { Logger } from '../../../src/broker/log.js'
import { PartitionReplica, type ReplicaObserver, type ReplicaOptions } from '../../../src/broker/partition/replica.js'
import type { StateMachineOptions } from '../../../src/broker/partition/state-machine.js'
import type { Message, NodeId } from '../../../src/raft/types.js'
import { resolveConfig, SimFileLayer, type FileHandle, type FileLayer, type LogConfig } from '../../../src/storage/index.js'

export const codec = await loadCodec()

/** One turn of the event loop: everything already queued runs first. */
export const turn = () => new Promise<void>((resolve) => setImmediate(resolve))

/** What to do with a message in flight: deliver it, drop it, or hand it to the test. */
export type Route = 'deliver' | 'drop' | 'hold'

/** A FileLayer over a SimFileLayer session that fails the next operation a test arms. */
export class FaultyFiles implements FileLayer {
  /** When set, the next matching write or fsync throws EIO (once). */
  failNext: { op: 'write' | 'sync'; path: RegExp } | null = null

  constructor(private readonly inner: FileLayer) {}

  private trip(op: 'write' | 'sync', path: string): void {
    const f = this.failNext
    if (f !== null && f.op === op && f.path.test(path)) {
      this.failNext = null
      throw Object.assign(new Error(`EIO: injected ${op} failure on ${path}`), { code: 'EIO' })
    }
  }

  open(path: string, options: { create: boolean }): FileHandle {
    const h = this.inner.open(path, options)
    return {
      path: h.path,
      size: () => h.size(),
      read: (into, position) => h.read(into, position),
      write: (bytes, position) => {
        this.trip('write', path)
        h.write(bytes, position)
      },
      truncate: (length) => h.truncate(length),
      sync: async () => {
        this.trip('sync', path)
        await h.sync()
      },
      close: () => h.close(),
    }
  }

  list(dir: string): string[] {
    return this.inner.list(dir)
  }
  exists(path: string): boolean {
    return this.inner.exists(path)
  }
  mkdirp(dir: string): Promise<void> {
    return this.inner.mkdirp(dir)
  }
  rename(from: string, to: string): void {
    this.inner.rename(from, to)
  }
  remove(path: string): void {
    this.inner.remove(path)
  }
  syncDir(dir: string): Promise<void> {
    this.trip('sync', dir)
    return this.inner.syncDir(dir)
  }
}

/** Log lines a replica wrote, kept for assertions. */
export class RecordingLogger implements Logger {
  readonly lines: Array<{ level: string; msg: string; fields: Record<string, unknown> }> = []
  info(msg: string, fields: Record<string, unknown> = {}): void {
    this.lines.push({ level: 'info', msg, fields })
  }
  warn(msg: string, fields: Record<string, unknown> = {}): void {
    this.lines.push({ level: 'warn', msg, fields })
  }
  error(msg: string, fields: Record<string, unknown> = {}): void {
    this.lines.push({ level: 'error', msg, fields })
  }
}

export interface ClusterOptions {
  voters: number
  /** Extra nodes that start as observers (not in the bootstrap voter set). */
  observers?: number
  logConfig?: Partial<LogConfig>
  electionTimeoutTicks?: number
  /** Overrides of core settings (a small fetchMaxBytes makes snapshot downloads take many chunks). */
  raft?: ReplicaOptions['raft']
  /** A state-machine log: each node's machine (asked again at every open, as a new process would). */
  stateMachine?: (id: NodeId) => StateMachineOptions
  observer?: (id: NodeId) => ReplicaObserver
  producerIdExpirationMs?: number
}

export class Cluster {
  readonly ids: NodeId[]
  readonly disks = new Map<NodeId, SimFileLayer>()
  readonly files = new Map<NodeId, FaultyFiles>()
  readonly logs = new Map<NodeId, RecordingLogger>()
  readonly replicas = new Map<NodeId, PartitionReplica>()
  /** Decides each message's fate; default: deliver unless a link is cut. */
  route: (m: Message) => Route = () => 'deliver'
  /** Messages routed 'hold', for the test to deliver, rewrite or drop. */
  readonly held: Message[] = []
  private readonly cut = new Set<string>()
  private readonly bootstrap: NodeId[]
  private seed = 1

  private constructor(readonly options: ClusterOptions) {
    const total = options.voters + (options.observers ?? 0)
    this.ids = Array.from({ length: total }, (_, i) => i + 1)
    this.bootstrap = this.ids.slice(0, options.voters)
  }

  static async start(options: ClusterOptions): Promise<Cluster> {
    const c = new Cluster(options)
    for (const id of c.ids) {
      const disk = new SimFileLayer()
      c.disks.set(id, disk)
      await c.open(id)
    }
    return c
  }

  dir(id: NodeId): string {
    return `/n${id}/p0`
  }

  replicaOptions(id: NodeId, voters: readonly NodeId[] = this.bootstrap): ReplicaOptions {
    const files = new FaultyFiles(this.disks.get(id)!.session())
    this.files.set(id, files)
    const logger = this.logs.get(id) ?? new RecordingLogger()
    this.logs.set(id, logger)
    let x = this.seed++ * 7919
    return {
      dir: this.dir(id),
      nodeId: id,
      voters,
      logConfig: resolveConfig({ segmentBytes: 1024, ...this.options.logConfig }),
      electionTimeoutTicks: this.options.electionTimeoutTicks ?? 10,
      send: (m) => this.send(m),
      random: (bound) => {
        x = (x * 1103515245 + 12345) >>> 0
        return x % bound
      },
      fs: files,
      logger,
      raft: this.options.raft,
      stateMachine: this.options.stateMachine?.(id),
      observer: this.options.observer?.(id),
      producerIdExpirationMs: this.options.producerIdExpirationMs,
    }
  }

  /** Opens (or reopens) node `id` from its disk. */
  async open(id: NodeId, voters?: readonly NodeId[]): Promise<PartitionReplica> {
    const r = await PartitionReplica.open(this.replicaOptions(id, voters))
    this.replicas.set(id, r)
    return r
  }

  get(id: NodeId): PartitionReplica {
    return this.replicas.get(id)!
  }

  /** Closes node `id` cleanly (a leader resigns first). */
  async stop(id: NodeId): Promise<void> {
    const r = this.replicas.get(id)
    this.replicas.delete(id)
    await r?.close()
  }

  /** Node `id` dies at once (SIGKILL); with `powerCut` its disk also loses what was not fsynced. */
  crash(id: NodeId, powerCut: boolean): void {
    this.replicas.get(id)?.abandon()
    this.replicas.delete(id)
    if (powerCut) this.disks.get(id)!.powerCut({ random: Math.random })
  }

  async stopAll(): Promise<void> {
    for (const id of [...this.replicas.keys()]) await this.stop(id)
  }

  /** Cuts (or restores) both directions between `a` and every node in `others`. */
  isolate(a: NodeId, isolated = true, others: readonly NodeId[] = this.ids): void {
    for (const b of others) {
      if (b === a) continue
      for (const key of [`${a}>${b}`, `${b}>${a}`]) {
        if (isolated) this.cut.add(key)
        else this.cut.delete(key)
      }
    }
  }

  healAll(): void {
    this.cut.clear()
  }

  send(m: Message): void {
    if (this.cut.has(`${m.from}>${m.to}`)) return
    const route = this.route(m)
    if (route === 'drop') return
    if (route === 'hold') {
      this.held.push(m)
      return
    }
    setImmediate(() => this.deliver(m))
  }

  /** Delivers `m` now (a held or forged message). */
  deliver(m: Message): Promise<void> {
    const to = this.replicas.get(m.to)
    return to === undefined ? Promise.resolve() : to.receive(m)
  }

  /** One tick on every running replica, then a few turns for the messages it caused. */
  async tick(): Promise<void> {
    for (const r of this.replicas.values()) void r.tick()
    for (let i = 0; i < 4; i++) await turn()
  }

  /** Ticks until `cond` holds; fails after `maxTicks`. */
  async until(what: string, cond: () => boolean, maxTicks = 2000): Promise<void> {
    for (let i = 0; i < maxTicks; i++) {
      if (cond()) return
      await this.tick()
    }
    if (!cond()) throw new Error(`timed out waiting for: ${what}`)
  }

  leader(): PartitionReplica | undefined {
    let best: PartitionReplica | undefined
    for (const r of this.replicas.values()) if (r.isLeader && (best === undefined || r.leaderEpoch > best.leaderEpoch)) best = r
    return best
  }

  leaderId(): NodeId | undefined {
    for (const [id, r] of this.replicas) if (r === this.leader()) return id
    return undefined
  }

  async electLeader(): Promise<PartitionReplica> {
    await this.until('a leader whose epoch is committed', () => this.leader()?.leaderReady === true)
    return this.leader()!
  }

  /** Appends one batch of `count` records at the leader; returns its [first, next) offsets. */
  async produce(leader: PartitionReplica, count = 1, key: string | null = null, value: string | null = 'v'): Promise<{ firstOffset: number; nextOffset: number }> {
    const records: RecordInput[] = Array.from({ length: count }, (_, i) => ({
      key: key === null ? null : new TextEncoder().encode(key),
      value: value === null ? null : new TextEncoder().encode(`${value}-${i}`),
      timestamp: Date.now() - 60_000,
    }))
    return leader.appendValidated(codec.encodeBatch(records))
  }

  /** The stored bytes of node `id` from `from` to its end. */
  async bytes(id: NodeId, from: number): Promise<Uint8Array> {
    const log = this.get(id).log
    const parts: Uint8Array[] = []
    let offset = from
    while (offset < log.logEndOffset) {
      const r = await log.read(offset, 1 << 20)
      if (r.bytes.length === 0) break
      parts.push(r.bytes.slice())
      offset = r.nextOffset
    }
    return Buffer.concat(parts)
  }
}
