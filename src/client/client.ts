// The client: one Cluster (connections and metadata) shared by the producers, consumers and
// admin made from it. Transport-agnostic: the entry points (node.ts, browser.ts) pass a
// WebSocket factory; nothing here imports a platform module.
import { loadCodec } from '../codec/index.js'
import { FRAME_BYTES_MAX_DEFAULT } from '../protocol/index.js'
import { Admin } from './admin.js'
import type { RetryOptions } from './backoff.js'
import { Cluster } from './cluster.js'
import { Consumer, type ConsumerOptions } from './consumer.js'
import { NODE_GROUP_PLATFORM, type GroupPlatform } from './group-member.js'
import {
  API_TIMEOUT_MS_DEFAULT, CLIENT_VERSION, CONNECT_TIMEOUT_MS_DEFAULT, intOption, IN_FLIGHT_REQUESTS_MAX_DEFAULT, METADATA_MAX_AGE_MS_DEFAULT,
  PENDING_REQUESTS_MAX_DEFAULT, REQUEST_TIMEOUT_MS_DEFAULT, RESPONSE_BYTES_MAX_DEFAULT,
} from './limits.js'
import { Producer, type ProducerOptions } from './producer.js'
import type { WebSocketFactory } from './transport.js'

export interface ClientOptions {
  /** Seed broker URLs, e.g. ['ws://127.0.0.1:9092']; the rest are learned from metadata. */
  brokers: readonly string[]
  clientId?: string
  /** Opens WebSockets; the Node and browser entry points supply one. */
  webSocketFactory: WebSocketFactory
  /** Names this client in the handshake, e.g. 'bitacora-js/0.1.0 (node)'. */
  clientSoftware?: string
  /** Opening a connection, WebSocket and handshake together (default 15 s). */
  connectTimeoutMs?: number
  /** A request's wait for its answer (default 30 s). */
  requestTimeoutMs?: number
  /**
   * Bound of every admin call and of a consumer's offset lookups, retries included; a consumer
   * partition whose fetches fail this long makes the iterator throw (default 60 s).
   */
  apiTimeoutMs?: number
  /** Requests in flight per connection (the broker's handshake limit may lower it). */
  maxInFlightRequests?: number
  /** Requests queued per connection behind the in-flight ones. */
  maxPendingRequests?: number
  maxResponseBytes?: number
  metadataMaxAgeMs?: number
  retry?: RetryOptions
  /** Injected randomness (back-off jitter, broker choice, sticky partitions): tests pass a seeded one. */
  random?: () => number
}

export class Client {
  readonly cluster: Cluster
  private readonly requestTimeoutMs: number
  private readonly apiTimeoutMs: number
  private readonly closers = new Set<{ close(): unknown }>()

  /** `groupPlatform`: set by the browser entry (heartbeats from a Worker, a longer default session). */
  constructor(private readonly options: ClientOptions, private readonly groupPlatform: GroupPlatform = NODE_GROUP_PLATFORM) {
    this.requestTimeoutMs = intOption('requestTimeoutMs', options.requestTimeoutMs, REQUEST_TIMEOUT_MS_DEFAULT, 1)
    this.apiTimeoutMs = intOption('apiTimeoutMs', options.apiTimeoutMs, API_TIMEOUT_MS_DEFAULT, 0)
    this.cluster = new Cluster({
      brokers: options.brokers,
      metadataMaxAgeMs: options.metadataMaxAgeMs ?? METADATA_MAX_AGE_MS_DEFAULT,
      random: options.random,
      connection: {
        clientId: options.clientId ?? 'bitacora-js',
        clientSoftware: options.clientSoftware ?? `bitacora-js/${CLIENT_VERSION}`,
        webSocketFactory: options.webSocketFactory,
        connectTimeoutMs: intOption('connectTimeoutMs', options.connectTimeoutMs, CONNECT_TIMEOUT_MS_DEFAULT, 1),
        requestTimeoutMs: this.requestTimeoutMs,
        inFlightMax: options.maxInFlightRequests ?? IN_FLIGHT_REQUESTS_MAX_DEFAULT,
        pendingMax: options.maxPendingRequests ?? PENDING_REQUESTS_MAX_DEFAULT,
        responseBytesMax: options.maxResponseBytes ?? RESPONSE_BYTES_MAX_DEFAULT,
        requestFrameBytesMax: FRAME_BYTES_MAX_DEFAULT,
      },
    })
  }

  /** A producer (the codec loads once, asynchronously, hence the promise). */
  async producer(options: ProducerOptions = {}): Promise<Producer> {
    const codec = await loadCodec()
    const producer = new Producer(this.cluster, codec, { retry: this.options.retry, ...options }, this.requestTimeoutMs, this.options.random)
    this.closers.add(producer)
    return producer
  }

  async consumer(options: ConsumerOptions = {}): Promise<Consumer> {
    const codec = await loadCodec()
    const consumer = new Consumer(this.cluster, codec, { retry: this.options.retry, apiTimeoutMs: this.apiTimeoutMs, ...options }, this.requestTimeoutMs, this.options.random, this.groupPlatform)
    this.closers.add(consumer)
    return consumer
  }

  admin(): Admin {
    const admin = new Admin(this.cluster, this.requestTimeoutMs, { retry: this.options.retry, apiTimeoutMs: this.apiTimeoutMs }, this.options.random)
    this.closers.add(admin)
    return admin
  }

  /** Closes producers (flushing them), consumers and admins made here, then every connection. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.closers].map((c) => c.close()))
    this.cluster.close()
  }
}

export function createClient(options: ClientOptions, groupPlatform?: GroupPlatform): Client {
  return new Client(options, groupPlatform)
}
