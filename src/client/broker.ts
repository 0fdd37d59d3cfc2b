// One broker, as the rest of the client sees it: a URL with a connection that is opened on
// first use and re-opened after it drops, with jittered exponential back-off between failed
// attempts so a cluster restart is not met by every client at once (the back-off runs from the
// failure, and Cluster.anyBroker asks other brokers while it lasts). Typed calls per API sit
// on top of Connection's generic request().
import type { ApiName } from '../protocol/index.js'
import { Backoff } from './backoff.js'
import {
  Connection, type ConnectionOptions, type FrameEncoder, type HandshakeInfo, type RequestBody, type RequestOptions, type ResponseBody,
} from './connection.js'
import { ClientError } from './errors.js'

export type BrokerConnectionOptions = Omit<ConnectionOptions, 'url' | 'firstContact'>

/** Shared by a client's brokers: whether any connection of the client has ever opened. */
export interface Contact {
  reached: boolean
}

export class Broker {
  private connection: Connection | undefined
  private connecting: Promise<Connection> | undefined
  /** Failures since the last connection opened: failed connects, and failures reported. */
  private failures = 0
  /** Before this time a new connection is not tried (the back-off after the last failure). */
  private retryAt = 0
  private closed = false
  private wakeSleep: (() => void) | undefined

  constructor(
    readonly url: string,
    private readonly options: BrokerConnectionOptions,
    private readonly reconnectBackoff: Backoff,
    private readonly contact: Contact = { reached: false },
    private readonly now: () => number = Date.now,
  ) {}

  /** What the broker said in the last handshake (undefined before the first one). */
  get handshake(): HandshakeInfo | undefined {
    return this.connection?.handshake
  }

  get isConnected(): boolean {
    return this.connection?.isReady === true
  }

  /** Requests in flight or queued on the connection (0 without one). */
  get load(): number {
    return this.connection?.load ?? 0
  }

  /** When this broker may be tried again after failing: 0 when it has not failed since it last connected. */
  get backingOffUntil(): number {
    return this.failures === 0 ? 0 : this.retryAt
  }

  /**
   * A request to this broker failed in a way that says it may be down or stalled (the
   * connection closed or timed out): it counts as a failed attempt, so that callers choosing
   * any broker (Cluster.anyBroker) ask others first until its back-off ends.
   */
  reportFailure(): void {
    this.failed()
  }

  /** The largest request frame this broker accepts. */
  get maxFrameBytes(): number {
    return this.connection?.maxFrameBytes ?? this.options.requestFrameBytesMax
  }

  /** A ready connection: the current one, or a new one after the back-off due. */
  connect(): Promise<Connection> {
    if (this.closed) return Promise.reject(new ClientError('CLIENT_CLOSED', `client closed; not connecting to ${this.url}`))
    if (this.connection?.isReady) return Promise.resolve(this.connection)
    this.connecting ??= this.reconnect().finally(() => {
      this.connecting = undefined
    })
    return this.connecting
  }

  async request<K extends ApiName>(api: K, body: RequestBody<K>, options?: RequestOptions): Promise<ResponseBody<K>> {
    const connection = await this.connect()
    return connection.request(api, body, options)
  }

  async sendOnly<K extends ApiName>(api: K, body: RequestBody<K>): Promise<void> {
    const connection = await this.connect()
    connection.sendOnly(api, body)
  }

  /** request() with a caller-encoded frame (Connection.requestFrame). */
  async requestFrame<K extends ApiName>(api: K, encode: FrameEncoder, options?: RequestOptions): Promise<ResponseBody<K>> {
    const connection = await this.connect()
    return connection.requestFrame<K>(api, encode, options)
  }

  async sendOnlyFrame(api: ApiName, encode: FrameEncoder): Promise<void> {
    const connection = await this.connect()
    connection.sendOnlyFrame(api, encode)
  }

  close(): void {
    this.closed = true
    this.wakeSleep?.()
    this.connection?.close(new ClientError('CLIENT_CLOSED', 'client closed'))
  }

  private async reconnect(): Promise<Connection> {
    const waitMs = this.backingOffUntil - this.now()
    if (waitMs > 0) await this.sleep(waitMs)
    if (this.closed) throw new ClientError('CLIENT_CLOSED', `client closed; not connecting to ${this.url}`)
    const connection = new Connection({ ...this.options, url: this.url, firstContact: !this.contact.reached })
    try {
      await connection.connect()
    } catch (err) {
      this.failed()
      throw err instanceof ClientError ? err : new ClientError('CONNECTION_FAILED', `cannot connect to ${this.url}`, { cause: err })
    }
    this.failures = 0
    this.retryAt = 0
    this.contact.reached = true
    this.connection = connection
    // Requests already handed out may still be in flight when the client closes.
    if (this.closed) connection.close(new ClientError('CLIENT_CLOSED', 'client closed'))
    return connection
  }

  private failed(): void {
    this.failures++
    this.retryAt = this.now() + this.reconnectBackoff.delayMs(this.failures - 1)
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      function done() {
        clearTimeout(timer)
        resolve()
      }
      this.wakeSleep = done
    })
  }
}
