// A node's network side, in-process and real, for the client's quorum calls: the listener, the
// API table and sessions as broker.ts builds them, with a ControllerQuorum given after listening
// (voters need each other's URLs). Until the real quorum runs in a broker, tests pass the
// stand-in (test/broker/api/quorum-stand-in.ts).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadCodec } from '../../src/codec/index.js'
import { ActiveController } from '../../src/broker/controller/active/active-controller.js'
import { ClusterView } from '../../src/broker/controller/node/cluster-view.js'
import { MetadataNode } from '../../src/broker/controller/node/metadata-node.js'
import type { ControllerQuorum } from '../../src/broker/controller/node/quorum.js'
import { TopicAdmin } from '../../src/broker/controller/active/topic-admin.js'
import { DEFAULT_LIMITS } from '../../src/broker/limits.js'
import type { Logger } from '../../src/broker/log.js'
import { apiTable } from '../../src/broker/net/api-table.js'
import { listen } from '../../src/broker/net/listener.js'
import { ReadBufferPool } from '../../src/broker/partition/read-buffers.js'
import { ReplicaManager } from '../../src/broker/partition/replica-manager.js'
import { NodeFileLayer } from '../../src/storage/index.js'

export interface QuorumNode {
  readonly url: string
  /** Starts serving, with `quorum` behind the quorum APIs. */
  serve(quorum: ControllerQuorum): Promise<void>
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
  // The node's own metadata (topics, Metadata answers) is a real one-node quorum; the quorum
  // APIs are served by the `quorum` the test passes.
  const metadata = await MetadataNode.open({ dataDir, nodeId, voters: undefined, tickMs: 50, send: () => undefined, log: quiet, fs })
  const codec = await loadCodec()
  const controller = new ActiveController({
    node: metadata, codec, log: quiet, urlOf: () => undefined,
    config: { leaseMs: 9000, defaultPartitions: 1, defaultReplicationFactor: 1, partitionsPerTopicMax: 1024, topicsMax: 1000, producerIdBlockSize: 1000 },
  })
  metadata.subscribe((u) => void replicas.reconcile(u))
  const admin = new TopicAdmin(metadata, controller, replicas)
  return {
    url: listener.url,
    serve: async (quorum) => {
      const apis = apiTable({
        brokerId: nodeId, clusterId, url: listener.url, limits, admin, partitions: replicas, cluster: new ClusterView(metadata), codec, quorum,
      })
      listener.serve({ apis, limits, readBuffers: new ReadBufferPool() })
    },
    stop: async () => {
      await listener.close()
      await replicas.closeAll()
      await metadata.close()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
