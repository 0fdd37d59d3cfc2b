// A node's network side, in-process and real, for the client's quorum calls: the listener, the
// API table and sessions as broker.ts builds them, with a ControllerQuorum given after listening
// (voters need each other's URLs). Until the real quorum runs in a broker, tests pass the
// stand-in (test/broker/api/quorum-stand-in.ts).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadCodec } from '../../src/codec/index.js'
import { MetadataStore } from '../../src/broker/controller/metadata-store.js'
import type { ControllerQuorum } from '../../src/broker/controller/quorum.js'
import { TopicAdmin } from '../../src/broker/controller/topic-admin.js'
import { DEFAULT_LIMITS } from '../../src/broker/limits.js'
import type { Logger } from '../../src/broker/log.js'
import { apiTable } from '../../src/broker/net/api-table.js'
import { listen } from '../../src/broker/net/listener.js'
import { ReadBufferPool } from '../../src/broker/partition/read-buffers.js'
import { ReplicaManager } from '../../src/broker/partition/replica-manager.js'
import { NodeFileLayer } from '../../src/storage/index.js'

export interface QuorumNode {
  readonly url: string
  /** Starts serving, with `quorum` behind the quorum APIs (none: the node has no quorum). */
  serve(quorum: ControllerQuorum | undefined): Promise<void>
  stop(): Promise<void>
}

const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined }

export async function listenNode(nodeId: number, clusterId = 'quorum-test'): Promise<QuorumNode> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bitacora-quorum-'))
  const fs = new NodeFileLayer()
  const limits = DEFAULT_LIMITS
  const listener = await listen(
    { host: '127.0.0.1', port: 0, allowedOrigins: [], allowLocalhostOrigins: true, limitLoopbackConnections: false, limits, health: () => ({}) },
    quiet,
  )
  const replicas = new ReplicaManager(dataDir, nodeId, 50, 60_000, quiet, fs)
  return {
    url: listener.url,
    serve: async (quorum) => {
      const admin = new TopicAdmin(MetadataStore.load(fs, dataDir, nodeId), replicas)
      const apis = apiTable({
        brokerId: nodeId, clusterId, url: listener.url, defaultPartitions: 1, limits, admin, partitions: replicas, codec: await loadCodec(), quorum,
      })
      listener.serve({ apis, limits, readBuffers: new ReadBufferPool() })
    },
    stop: async () => {
      await listener.close()
      await replicas.closeAll()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
