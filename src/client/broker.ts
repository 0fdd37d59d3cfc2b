// One broker, as the rest of the client sees it: a URL with a connection that is opened on
// first use and re-opened after it drops, with jittered exponential back-off between failed
// attempts so a cluster restart is not met by every client at once. Typed calls per API sit
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
  private failures = 0
  private closed = false
  private wakeSleep: (() => void) | undefined

  constructor(
    readonly url: string,
    private readonly options: BrokerConnectionOptions,
    private readonly reconnectBackoff: Backoff,
    private readonly contact: Contact = { reached: false },
  ) {}

  /** What the broker said in the last handshake (undefined before the first one). */
  get handshake(): HandshakeInfo | undefined {
    return this.connection?.handshake
  }

  get isConnected(): boolean {
    return this.connection?.isReady === true
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
    if (this.failures > 0) await this.sleep(this.reconnectBackoff.delayMs(this.failures - 1))
    if (this.closed) throw new ClientError('CLIENT_CLOSED', `client closed; not connecting to ${this.url}`)
    const connection = new Connection({ ...this.options, url: this.url, firstContact: !this.contact.reached })
    try {
      await connection.connect()
    } catch (err) {
      this.failures++
      throw err instanceof ClientError ? err : new ClientError('CONNECTION_FAILED', `cannot connect to ${this.url}`, { cause: err })
    }
    this.failures = 0
    this.contact.reached = true
    this.connection = connection
    // Requests already handed out may still be in flight when the client closes.
    if (this.closed) connection.close(new ClientError('CLIENT_CLOSED', 'client closed'))
    return connection
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
