// A broker process. Start: lock the data directory, listen (so a taken port fails before
// anything opens), open the partition replicas, then serve. Any failure on the way undoes
// what was done and says why in one line (StartupError). Stop: replicas first (leaders resign
// and logs close, flushing everything appended), then the listener, then the lock.
import { loadCodec } from '../codec/index.js'
import { NodeFileLayer } from '../storage/index.js'
import type { BrokerConfig } from './config.js'
import { MetadataStore } from './controller/metadata-store.js'
import { TopicAdmin } from './controller/topic-admin.js'
import { openDataDir, type DataDir } from './data-dir.js'
import { jsonLogger, type Logger } from './log.js'
import { apiTable } from './net/api-table.js'
import { listen, type Listener } from './net/listener.js'
import { ReadBufferPool } from './partition/read-buffers.js'
import { ReplicaManager } from './partition/replica-manager.js'
import { startupError } from './startup-error.js'

export class Broker {
  private constructor(
    readonly config: BrokerConfig,
    private readonly dataDir: DataDir,
    private readonly listener: Listener,
    private readonly replicas: ReplicaManager,
    private readonly log: Logger,
  ) {}

  get port(): number {
    return this.listener.port
  }

  get url(): string {
    return this.listener.url
  }

  static async start(config: BrokerConfig, log: Logger = jsonLogger({ broker: config.brokerId })): Promise<Broker> {
    const fs = new NodeFileLayer()
    const dataDir = await openDataDir(fs, config.dataDir, { nodeId: config.brokerId, clusterId: config.clusterId })
    let listener: Listener | null = null
    let replicas: ReplicaManager | null = null
    try {
      listener = await listen({ ...config, health: () => ({ brokerId: config.brokerId, clusterId: dataDir.identity.clusterId }) }, log)
      const store = loadStore(fs, config.dataDir, config.brokerId)
      replicas = new ReplicaManager(config.dataDir, config.brokerId, config.tickMs, config.logCleanupIntervalMs, log, fs)
      await replicas.openAll(store.image.topics).catch((err) => {
        throw startupError(`cannot open the partitions in ${config.dataDir}`, err)
      })
      replicas.start()
      const admin = new TopicAdmin(store, replicas)
      const apis = apiTable({
        brokerId: config.brokerId, clusterId: dataDir.identity.clusterId, url: listener.url, defaultPartitions: config.defaultPartitions,
        limits: config.limits, admin, partitions: replicas, codec: await loadCodec(),
      })
      listener.serve({ apis, limits: config.limits, readBuffers: new ReadBufferPool() })
      log.info('broker started', { url: listener.url, dataDir: config.dataDir, topics: store.image.topicCount })
      return new Broker(config, dataDir, listener, replicas, log)
    } catch (err) {
      await replicas?.closeAll().catch(() => undefined)
      await listener?.close()
      await dataDir.release()
      throw err
    }
  }

  async stop(): Promise<void> {
    await this.replicas.closeAll()
    await this.listener.close()
    await this.dataDir.release()
    this.log.info('broker stopped')
  }
}

function loadStore(fs: NodeFileLayer, dataDir: string, nodeId: number): MetadataStore {
  try {
    return MetadataStore.load(fs, dataDir, nodeId)
  } catch (err) {
    throw startupError(`cannot read the topics of ${dataDir}`, err)
  }
}
