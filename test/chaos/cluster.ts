// A cluster of real broker processes (dist/, free loopback ports, temp data dirs) with a TCP
// proxy in front of every ordered pair: broker i reaches broker j only through proxy (i, j)
// (--peer-route j=URL on i), so a fault can cut, delay or reset one direction of one pair.
// Clients reach the brokers directly. Every process and proxy is stopped by `close()`.
import { closeSync, openSync, readdirSync, readSync, statSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { ProcessCluster } from '../integration/quorum-nodes.js'
import { RESTART_MS_MAX } from './limits.js'
import type { Fault } from './schedule.js'
import { TcpProxy } from './tcp-proxy.js'

export class Teardowns {
  private readonly fns: Array<() => unknown> = []

  teardown(fn: () => unknown): void {
    this.fns.push(fn)
  }

  /** Runs every teardown once, last registered first; errors are ignored (best effort at exit). */
  async run(): Promise<void> {
    while (this.fns.length > 0) {
      try {
        await this.fns.pop()!()
      } catch {
        // keep going: the rest must still run
      }
    }
  }
}

export class ChaosCluster {
  /** `${from}>${to}`: the proxy `from` dials `to` through. */
  private readonly proxies = new Map<string, TcpProxy>()
  private readonly paused = new Set<number>()

  private constructor(readonly nodes: ProcessCluster, private readonly random: () => number) {}

  static async start(teardowns: { teardown(fn: () => unknown): void }, ids: readonly number[], random: () => number, extraArgs: readonly string[] = []): Promise<ChaosCluster> {
    const nodes = await ProcessCluster.create(teardowns, ids, ids, extraArgs)
    const c = new ChaosCluster(nodes, random)
    for (const from of ids) {
      const routes: string[] = []
      for (const to of ids.filter((id) => id !== from)) {
        const proxy = await TcpProxy.start({ host: '127.0.0.1', port: nodes.ports.get(to)! })
        teardowns.teardown(() => proxy.close())
        c.proxies.set(`${from}>${to}`, proxy)
        routes.push('--peer-route', `${to}=${proxy.url}`)
      }
      nodes.nodeArgs.set(from, routes)
    }
    await nodes.startAll()
    return c
  }

  get ids(): number[] {
    return this.nodes.ids
  }

  url(id: number): string {
    return this.nodes.url(id)
  }

  get running(): number[] {
    return this.ids.filter((id) => this.nodes.processes.has(id) && !this.paused.has(id))
  }

  proxy(from: number, to: number): TcpProxy {
    const p = this.proxies.get(`${from}>${to}`)
    if (p === undefined) throw new Error(`no proxy from ${from} to ${to}`)
    return p
  }

  /** Every proxy carrying `node`'s traffic, both directions. */
  private proxiesOf(node: number): TcpProxy[] {
    return this.ids.filter((id) => id !== node).flatMap((other) => [this.proxy(node, other), this.proxy(other, node)])
  }

  /** Starts the fault; returns how to heal it. */
  async inject(f: Exclude<Fault, { kind: 'kill-leader' }>): Promise<() => Promise<void>> {
    switch (f.kind) {
      case 'kill':
        await this.nodes.stop(f.node, 'SIGKILL')
        return () => this.restart(f.node)
      case 'pause':
        this.nodes.signal(f.node, 'SIGSTOP')
        this.paused.add(f.node)
        return async () => {
          this.nodes.signal(f.node, 'SIGCONT')
          this.paused.delete(f.node)
        }
      case 'partition':
        return this.cut([this.proxy(f.a, f.b), this.proxy(f.b, f.a)], f.how)
      case 'one-way':
        return this.cut([this.proxy(f.from, f.to)], f.how)
      case 'isolate':
        return this.cut(this.proxiesOf(f.node), f.how)
      case 'delay':
        for (const p of this.proxiesOf(f.node)) p.delay(f.ms)
        return this.healer(this.proxiesOf(f.node))
      case 'loss':
        for (const p of this.proxiesOf(f.node)) p.drop(f.probability, this.random)
        return this.healer(this.proxiesOf(f.node))
      case 'corrupt':
        await this.nodes.stop(f.node, 'SIGTERM')
        this.lastCorruption = flipByteInClosedSegment(this.nodes.dataDirs.get(f.node)!, this.random)
        return () => this.restart(f.node)
    }
  }

  /** What the last corrupt fault did (or why it could not). */
  lastCorruption = ''

  private cut(proxies: readonly TcpProxy[], how: 'reset' | 'silent'): () => Promise<void> {
    for (const p of proxies) p.cut(how)
    return this.healer(proxies)
  }

  private healer(proxies: readonly TcpProxy[]): () => Promise<void> {
    return async () => {
      for (const p of proxies) p.heal()
    }
  }

  private async restart(node: number): Promise<void> {
    const started = this.nodes.start(node)
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`node ${node} did not restart within ${RESTART_MS_MAX} ms`)), RESTART_MS_MAX)))
    try {
      await Promise.race([started, timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  /** Every proxy back to plain forwarding, every paused node continued, every stopped node started. */
  async healAll(): Promise<void> {
    for (const p of this.proxies.values()) p.heal()
    for (const id of this.paused) this.nodes.signal(id, 'SIGCONT')
    this.paused.clear()
    for (const id of this.ids) if (!this.nodes.processes.has(id)) await this.restart(id)
  }

  /** Where each node keeps its data. */
  dataDir(id: number): string {
    return this.nodes.dataDirs.get(id)!
  }

  /** The stderr of a node's current process (its log), for a report. */
  stderr(id: number): string {
    return this.nodes.processes.get(id)?.stderr() ?? ''
  }
}

/**
 * Flips one byte inside the records of a batch of a closed segment (not the last one) of some
 * data partition in `dataDir`, so only that batch's CRC breaks. Returns what it did.
 */
export function flipByteInClosedSegment(dataDir: string, random: () => number): string {
  const partitions = readdirSync(dataDir).filter((d) => /^[0-9a-f]{32}-\d+$/.test(d) && statSync(join(dataDir, d)).isDirectory())
  const candidates = partitions.flatMap((d) => {
    const segments = readdirSync(join(dataDir, d)).filter((f) => /^\d{20}\.log$/.test(f)).sort()
    return segments.slice(0, -1).map((f) => join(dataDir, d, f)).filter((f) => statSync(f).size > 200)
  })
  if (candidates.length === 0) return `no closed segment in ${dataDir} (nothing flipped)`
  const file = candidates[Math.floor(random() * candidates.length)]
  const size = statSync(file).size
  // Past the first batch's 61-byte header: inside its records (or a later batch's), never the framing of the first.
  const position = 61 + Math.floor(random() * Math.min(size - 61, 100))
  const fd = openSync(file, 'r+')
  try {
    const byte = Buffer.alloc(1)
    readSync(fd, byte, 0, 1, position)
    byte[0] ^= 0xff
    writeSync(fd, byte, 0, 1, position)
  } finally {
    closeSync(fd)
  }
  return `flipped the byte at ${position} of ${file}`
}
