// The cluster as one client sees it: seed URLs, a pool of Brokers (one connection each,
// shared by the producer, consumers and admin of one client), and the metadata cache that
// routes a partition to its leader. Refreshes are coalesced: however many callers ask at
// once, one Metadata request is in flight.
import { Backoff } from './backoff.js'
import { Broker, type BrokerConnectionOptions, type Contact } from './broker.js'
import type { HandshakeInfo } from './connection.js'
import { ClientError, isRetriableError } from './errors.js'
import { MetadataCache } from './metadata.js'
import { RECONNECT_BACKOFF_INITIAL_MS, RECONNECT_BACKOFF_MAX_MS } from './limits.js'

export interface ClusterOptions {
  brokers: readonly string[]
  connection: BrokerConnectionOptions
  metadataMaxAgeMs: number
  random?: () => number
  now?: () => number
}

export class Cluster {
  readonly metadata: MetadataCache
  private readonly pool = new Map<string, Broker>()
  private readonly interest = new Set<string>()
  private refreshing: Promise<void> | undefined
  private refreshAgain = false
  private closed = false
  private readonly contact: Contact = { reached: false }
  private readonly random: () => number
  readonly now: () => number

  constructor(private readonly options: ClusterOptions) {
    if (options.brokers.length === 0) throw new ClientError('INVALID_ARGUMENT', 'brokers: give at least one ws:// or wss:// URL')
    for (const url of options.brokers) {
      if (!/^wss?:\/\//.test(url)) throw new ClientError('INVALID_ARGUMENT', `broker URL ${url} must start with ws:// or wss://`)
    }
    this.metadata = new MetadataCache(options.metadataMaxAgeMs)
    this.random = options.random ?? Math.random
    this.now = options.now ?? Date.now
  }

  /** The Broker at `url`, created on first use. */
  brokerAt(url: string): Broker {
    if (this.closed) throw new ClientError('CLIENT_CLOSED', 'the client is closed')
    let broker = this.pool.get(url)
    if (broker === undefined) {
      const backoff = new Backoff({ initialMs: RECONNECT_BACKOFF_INITIAL_MS, maxMs: RECONNECT_BACKOFF_MAX_MS }, this.random)
      broker = new Broker(url, this.options.connection, backoff, this.contact, this.now)
      this.pool.set(url, broker)
    }
    return broker
  }

  /** The Broker with node id `id`, if metadata knows its URL. */
  brokerById(id: number): Broker | undefined {
    const address = this.metadata.broker(id)
    return address ? this.brokerAt(address.url) : undefined
  }

  /**
   * What broker `id` said in its last handshake, if the pool holds a Broker for it: a lookup
   * only, for code that must not throw or open anything (the producer's drain, in a timer
   * callback). Unlike brokerById it creates no Broker and works after close().
   */
  handshakeOf(id: number): HandshakeInfo | undefined {
    const address = this.metadata.broker(id)
    return address === undefined ? undefined : this.pool.get(address.url)?.handshake
  }

  /**
   * Any reachable broker, for Metadata and admin calls, spread over the known ones (metadata
   * brokers and seeds, as Kafka's least-loaded node): first those neither backing off after a
   * failure nor fenced, connected ones before the rest, the least loaded first, ties in random
   * order; then fenced ones; last those backing off, soonest back first (connecting to one
   * waits out its back-off). Each is tried in turn until one connects. Fails with
   * NO_BROKER_AVAILABLE (retriable) naming the last failure, or with that failure itself when
   * every URL failed in a way retrying cannot mend (CONNECTION_REFUSED).
   */
  async anyBroker(): Promise<Broker> {
    const fenced = new Set(this.metadata.brokerList().filter((b) => b.fenced).map((b) => b.url))
    const urls = [...new Set([...this.metadata.brokerList().map((b) => b.url), ...this.options.brokers])]
    shuffle(urls, this.random)
    const now = this.now()
    const candidates = urls.map((url) => {
      const broker = this.brokerAt(url)
      const backingOffUntil = broker.backingOffUntil > now ? broker.backingOffUntil : 0
      return { broker, rank: [backingOffUntil, fenced.has(url) ? 1 : 0, broker.isConnected ? 0 : 1, broker.load] }
    })
    candidates.sort((a, b) => compareRanks(a.rank, b.rank)) // stable: ties keep the random order
    let last: unknown
    let retriable = false
    for (const { broker } of candidates) {
      try {
        await broker.connect()
        return broker
      } catch (err) {
        last = err
        if (isRetriableError(err)) retriable = true
        else if (!(err instanceof ClientError && err.code === 'CONNECTION_REFUSED')) throw err // closed, or a broker's refusal
      }
    }
    if (!retriable) throw last
    const why = last instanceof Error ? `: ${last.message}` : ''
    throw new ClientError('NO_BROKER_AVAILABLE', `none of the ${urls.length} known brokers could be reached${why}`, { cause: last })
  }

  /** Tracks `topics` from now on and refreshes metadata if any of them needs it. */
  async ensureTopics(topics: Iterable<string>): Promise<void> {
    let needed = false
    for (const t of topics) {
      this.interest.add(t)
      if (this.metadata.needsRefresh(t, this.now())) needed = true
    }
    if (needed) await this.refreshMetadata()
  }

  /** Tracks `topics` from now on and refreshes metadata now, whatever the cache holds. */
  refreshTopics(topics: Iterable<string>): Promise<void> {
    for (const t of topics) this.interest.add(t)
    return this.refreshMetadata()
  }

  /** One Metadata request for every topic of interest, shared by concurrent callers. */
  refreshMetadata(): Promise<void> {
    if (this.refreshing) {
      // A caller that arrives mid-refresh may have learned something that refresh predates.
      this.refreshAgain = true
      return this.refreshing
    }
    this.refreshing = this.doRefresh().finally(() => {
      this.refreshing = undefined
    })
    return this.refreshing
  }

  forgetTopic(topic: string): void {
    this.interest.delete(topic)
    this.metadata.forget(topic)
  }

  close(): void {
    this.closed = true
    for (const b of this.pool.values()) b.close()
  }

  private async doRefresh(): Promise<void> {
    // At most one extra round for callers that arrived mid-request: bounded under any load.
    for (let round = 0; round < 2 && !this.closed; round++) {
      this.refreshAgain = false
      const broker = await this.anyBroker()
      // With no topic of interest yet the list is empty, which asks for every topic: fine for
      // discovery, and the cache bounds how many it keeps.
      const response = await broker.request('metadata', { topics: [...this.interest] }).catch((err: unknown) => {
        if (isRetriableError(err)) broker.reportFailure() // the next refresh asks another broker first
        throw err
      })
      this.metadata.update(response, this.now())
      if (!this.refreshAgain) break
    }
  }
}

function shuffle<T>(items: T[], random: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[items[i], items[j]] = [items[j], items[i]]
  }
}

/** Lexicographic order of two equally long lists of numbers. */
function compareRanks(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i]
  return 0
}
