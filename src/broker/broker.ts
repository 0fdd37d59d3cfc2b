// A broker process: opens its topics' partition replicas from the data directory, serves the
// protocol over WebSocket, and stops cleanly (closing logs, so everything appended is flushed).
import { mkdir } from 'node:fs/promises'
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { loadCodec } from '../codec/index.js'
import { NodeFileLayer, readSmallFile, writeFileAtomic } from '../storage/index.js'
import type { BrokerConfig } from './config.js'
import type { BrokerContext } from './handlers/context.js'
import { ReadBufferPool } from './read-buffers.js'
import { jsonLogger, type Logger } from './log.js'
import { ReplicaManager } from './replica-manager.js'
import { Serial } from './serial.js'
import { listen, type Listener } from './server.js'
import { TopicRegistry } from './topic-registry.js'

/** Topic creations and deletions waiting their turn. */
const ADMIN_QUEUED_MAX = 1024

export class Broker {
  private constructor(
    readonly config: BrokerConfig,
    readonly url: string,
    private readonly listener: Listener,
    private readonly replicas: ReplicaManager,
    private readonly log: Logger,
  ) {}

  get port(): number {
    return this.listener.port
  }

  static async start(config: BrokerConfig, log: Logger = jsonLogger({ broker: config.brokerId })): Promise<Broker> {
    await mkdir(config.dataDir, { recursive: true })
    const fs = new NodeFileLayer()
    const clusterId = await loadClusterId(fs, config.dataDir)
    const registry = TopicRegistry.load(fs, config.dataDir)
    const replicas = new ReplicaManager(config.dataDir, config.brokerId, config.tickMs, config.logCleanupIntervalMs, log)
    for (const topic of registry.list()) await replicas.open(topic)
    replicas.start()
    const codec = await loadCodec()
    const ctx: Omit<BrokerContext, 'url'> = {
      config, clusterId, registry, replicas, codec, readBuffers: new ReadBufferPool(), adminSerial: new Serial(ADMIN_QUEUED_MAX),
    }
    let url = ''
    const listener = await listen(ctx, log, (u) => (url = u))
    log.info('broker started', { url, dataDir: config.dataDir, topics: registry.size })
    return new Broker(config, url, listener, replicas, log)
  }

  async stop(): Promise<void> {
    await this.listener.close()
    await this.replicas.closeAll()
    this.log.info('broker stopped')
  }
}

/** The cluster id, made once and kept in the data directory. */
async function loadClusterId(fs: NodeFileLayer, dataDir: string): Promise<string> {
  const path = join(dataDir, 'cluster-id')
  const saved = readSmallFile(fs, path)
  if (saved !== null) return new TextDecoder().decode(saved).trim()
  const id = randomUUID()
  await writeFileAtomic(fs, path, new TextEncoder().encode(id + '\n'))
  return id
}
