import type { Codec } from '../../codec/index.js'
import type { BrokerConfig } from '../config.js'
import type { ReadBufferPool } from '../read-buffers.js'
import type { ReplicaManager } from '../replica-manager.js'
import type { TopicRegistry } from '../topic-registry.js'

/** What request handlers see of the broker. */
export interface BrokerContext {
  readonly config: BrokerConfig
  readonly clusterId: string
  readonly url: string
  readonly registry: TopicRegistry
  readonly replicas: ReplicaManager
  readonly codec: Codec
  /** Buffers fetches read into (handlers/fetch.ts). */
  readonly readBuffers: ReadBufferPool
  /** Serializes topic creation and deletion (registry + replica directories). */
  readonly adminSerial: { run<T>(task: () => Promise<T>): Promise<T> }
}
