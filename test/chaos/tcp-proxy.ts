// A loopback TCP forwarder in front of one broker, for one ordered pair of brokers: broker i
// dials broker j here (--peer-route j=ws://127.0.0.1:PORT on broker i), so everything i sends to
// j (its Raft frames, its requests and their answers) crosses this proxy, and the chaos tool
// controls it in-process:
// - pass: forward as is;
// - cut 'reset': every connection reset, new ones reset as soon as accepted (a crashed host);
// - cut 'silent': nothing forwarded, sockets held open, new ones accepted and held (a network
//   partition: the sender learns nothing until its own timeouts fire); healing forwards what
//   the kernel buffers still hold, as TCP would after retransmits;
// - delay: every chunk held this many ms before it is forwarded (order kept);
// - drop: each chunk resets its connection with this probability (TCP cannot lose bytes, so
//   loss between brokers is a reset connection).
// Buffers are bounded: a direction holding PROXY_QUEUED_BYTES_MAX pauses its source socket, so
// the sender sees TCP back-pressure, never an unbounded queue here.
import { createServer, connect, type Server, type Socket, type AddressInfo } from 'node:net'
import { PROXY_QUEUED_BYTES_MAX } from './limits.js'

export type ProxyMode =
  | { readonly kind: 'pass' }
  | { readonly kind: 'cut'; readonly how: 'reset' | 'silent' }

export interface ProxyStats {
  readonly accepted: number
  readonly open: number
  readonly bytesForwarded: number
  /** Bytes received and not yet forwarded (delayed or held by a cut), over every connection. */
  readonly bytesHeld: number
  readonly resets: number
}

/** One direction of one connection: chunks waiting for their release time, in order. */
class Pipe {
  private readonly queue: Array<{ chunk: Buffer; at: number }> = []
  queuedBytes = 0
  private timer: NodeJS.Timeout | null = null

  constructor(private readonly from: Socket, private readonly to: Socket, private readonly proxy: TcpProxy) {
    from.on('data', (chunk: Buffer) => this.take(chunk))
  }

  private take(chunk: Buffer): void {
    if (this.proxy.rollDrop()) return this.proxy.resetConnection(this.from)
    this.queue.push({ chunk, at: Date.now() + this.proxy.delayMs })
    this.queuedBytes += chunk.length
    if (this.queuedBytes >= PROXY_QUEUED_BYTES_MAX) this.from.pause()
    this.pump()
  }

  /** Forwards every chunk whose time has come, unless the proxy is cut. */
  pump(): void {
    if (this.timer !== null) clearTimeout(this.timer), (this.timer = null)
    if (this.proxy.mode.kind === 'cut' || this.to.destroyed) return
    const now = Date.now()
    while (this.queue.length > 0 && this.queue[0].at <= now) {
      const { chunk } = this.queue.shift()!
      this.queuedBytes -= chunk.length
      this.proxy.forwarded(chunk.length)
      this.to.write(chunk)
    }
    if (this.queuedBytes < PROXY_QUEUED_BYTES_MAX && this.from.isPaused()) this.from.resume()
    if (this.queue.length > 0) this.timer = setTimeout(() => this.pump(), this.queue[0].at - now)
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer), (this.timer = null)
    this.queue.length = 0
    this.queuedBytes = 0
  }
}

interface Connection {
  readonly client: Socket
  readonly upstream: Socket
  readonly pipes: readonly Pipe[]
  readonly end: () => void
}

export class TcpProxy {
  mode: ProxyMode = { kind: 'pass' }
  delayMs = 0
  private dropProbability = 0
  private random: () => number = Math.random
  private readonly connections = new Set<Connection>()
  private accepted = 0
  private resets = 0
  private bytesForwarded = 0

  private constructor(private readonly server: Server, private readonly target: { host: string; port: number }) {
    server.on('connection', (client) => this.accept(client))
  }

  /** A proxy on a free loopback port forwarding to `target`. */
  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const server = createServer({ pauseOnConnect: false, noDelay: true })
    const proxy = new TcpProxy(server, target)
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', resolve)
    })
    return proxy
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/`
  }

  get stats(): ProxyStats {
    let bytesHeld = 0
    for (const c of this.connections) for (const p of c.pipes) bytesHeld += p.queuedBytes
    return { accepted: this.accepted, open: this.connections.size, bytesForwarded: this.bytesForwarded, bytesHeld, resets: this.resets }
  }

  /** Forward again (what a silent cut held is forwarded now); delay and drop stay as set. */
  pass(): void {
    this.mode = { kind: 'pass' }
    for (const c of [...this.connections]) {
      for (const p of c.pipes) p.pump()
      if (c.client.readableEnded || c.upstream.readableEnded) c.end()
    }
  }

  cut(how: 'reset' | 'silent'): void {
    this.mode = { kind: 'cut', how }
    if (how === 'reset') for (const c of [...this.connections]) this.reset(c)
  }

  delay(ms: number): void {
    if (!(ms >= 0)) throw new Error(`delay: expected ms >= 0, got ${ms}`)
    this.delayMs = ms
  }

  /** Each chunk resets its connection with `probability`, drawn from `random` (seeded by the caller). */
  drop(probability: number, random: () => number = Math.random): void {
    if (!(probability >= 0 && probability <= 1)) throw new Error(`drop: expected a probability in [0, 1], got ${probability}`)
    this.dropProbability = probability
    this.random = random
  }

  /** Back to plain forwarding: no cut, no delay, no drop. */
  heal(): void {
    this.delayMs = 0
    this.dropProbability = 0
    this.pass()
  }

  async close(): Promise<void> {
    for (const c of [...this.connections]) this.reset(c)
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  /** @internal for Pipe */
  rollDrop(): boolean {
    return this.dropProbability > 0 && this.random() < this.dropProbability
  }

  /** @internal for Pipe */
  forwarded(bytes: number): void {
    this.bytesForwarded += bytes
  }

  /** @internal for Pipe: resets the connection `socket` belongs to. */
  resetConnection(socket: Socket): void {
    for (const c of this.connections) if (c.client === socket || c.upstream === socket) return this.reset(c)
  }

  private accept(client: Socket): void {
    this.accepted++
    if (this.mode.kind === 'cut' && this.mode.how === 'reset') {
      this.resets++
      client.on('error', () => {})
      client.resetAndDestroy()
      return
    }
    const upstream = connect({ host: this.target.host, port: this.target.port, noDelay: true })
    const pipes = [new Pipe(client, upstream, this), new Pipe(upstream, client, this)]
    const end = () => {
      if (!this.connections.delete(c)) return
      for (const p of pipes) p.stop()
      client.destroy()
      upstream.destroy()
    }
    const c: Connection = { client, upstream, pipes, end }
    this.connections.add(c)
    for (const s of [client, upstream]) {
      s.on('error', end)
      s.on('close', end)
      // A half-close passes through only while forwarding: a cut holds both ends open.
      s.on('end', () => (this.mode.kind === 'pass' ? end() : undefined))
    }
  }

  private reset(c: Connection): void {
    if (!this.connections.delete(c)) return
    this.resets++
    for (const p of c.pipes) p.stop()
    for (const s of [c.client, c.upstream]) {
      s.on('error', () => {})
      if (s.connecting || s.destroyed) s.destroy()
      else s.resetAndDestroy()
    }
  }
}
