// In-process metadata nodes on real files, whose Raft messages go to each other a turn later
// (as the peer transport delivers them) unless the test cut a node off. Each node may carry the
// controller's shell (ActiveController, TopicAdmin) and a replica manager reconciling its
// partitions with the image, as a broker wires them. Short timeouts: an in-process cluster.
import type { Test } from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadCodec } from '../../../src/codec/index.js'
import { ActiveController } from '../../../src/broker/controller/active/active-controller.js'
import { heartbeat, register } from '../../../src/broker/controller/decisions/membership.js'
import { MetadataNode, type ImageUpdate, type MetadataNodeOptions } from '../../../src/broker/controller/node/metadata-node.js'
import { MetadataQuorum } from '../../../src/broker/controller/node/metadata-quorum.js'
import { NodeDirectory } from '../../../src/broker/controller/node/node-directory.js'
import type { ControllerConfig } from '../../../src/broker/controller/decisions/state.js'
import { TopicAdmin } from '../../../src/broker/controller/active/topic-admin.js'
import { RAFT_FETCH_TIMEOUT_MS_MIN } from '../../../src/broker/limits.js'
import type { Logger } from '../../../src/broker/log.js'
import { ReplicaManager } from '../../../src/broker/partition/replica-manager.js'
import type { Message } from '../../../src/raft/types.js'
import { NodeFileLayer, type FileLayer } from '../../../src/storage/index.js'
import { quietLog } from './wait.js'

export const codec = await loadCodec()
/** Short timeouts for an in-process cluster (a real one uses seconds), but never a fetch timeout below the floor every Raft timing keeps. */
export const FAST = { electionTimeoutMs: 100, fetchTimeoutMs: RAFT_FETCH_TIMEOUT_MS_MIN, fetchMaxWaitMs: 50, fetchRetryMs: 100, beginQuorumRetryMs: 100 }
export const CONTROLLER_CONFIG: ControllerConfig = {
  leaseMs: 9000, defaultPartitions: 1, defaultReplicationFactor: 1, partitionsPerTopicMax: 1024, topicsMax: 1000, producerIdBlockSize: 1000,
}

export interface Member {
  readonly node: MetadataNode
  readonly controller: ActiveController
  readonly admin: TopicAdmin
  readonly replicas: ReplicaManager
  readonly quorum: MetadataQuorum
  readonly updates: ImageUpdate[]
}

export class MetadataCluster {
  readonly members = new Map<number, Member>()
  readonly dirs = new Map<number, string>()
  /** Nodes cut off: messages from and to them are dropped. */
  readonly cut = new Set<number>()
  /** The controller's settings for nodes started from now on. */
  controllerConfig: ControllerConfig = CONTROLLER_CONFIG

  constructor(
    t: Test,
    private readonly voters: number[] | undefined,
    private readonly fs: FileLayer = new NodeFileLayer(),
    private readonly log: Logger = quietLog,
  ) {
    t.teardown(async () => {
      for (const id of [...this.members.keys()]) await this.stop(id)
      for (const d of this.dirs.values()) rmSync(d, { recursive: true, force: true })
    })
  }

  options(id: number, extra: Partial<MetadataNodeOptions> = {}): MetadataNodeOptions {
    if (!this.dirs.has(id)) this.dirs.set(id, mkdtempSync(join(tmpdir(), `bitacora-meta-${id}-`)))
    return {
      dataDir: this.dirs.get(id)!, nodeId: id, tickMs: 10, fs: this.fs, log: this.log, timing: FAST,
      voters: this.voters?.map((v) => ({ id: v, url: `ws://127.0.0.1:${9000 + v}/` })),
      send: (m: Message) => {
        if (this.cut.has(m.from) || this.cut.has(m.to)) return
        setImmediate(() => {
          if (!this.cut.has(m.from) && !this.cut.has(m.to)) this.members.get(m.to)?.node.receive(m)
        })
      },
      ...extra,
    }
  }

  async start(id: number, extra: Partial<MetadataNodeOptions> = {}): Promise<Member> {
    const options = this.options(id, extra)
    const node = await MetadataNode.open(options)
    const directory = new NodeDirectory(id, `ws://127.0.0.1:${9000 + id}/`, options.voters)
    const controller = new ActiveController({ node, codec, log: this.log, urlOf: (n) => `ws://127.0.0.1:${9000 + n}/`, config: this.controllerConfig })
    const replicas = new ReplicaManager(this.dirs.get(id)!, id, 10, 60_000, this.log, this.fs)
    await replicas.prepare()
    const updates: ImageUpdate[] = []
    node.subscribe((u) => {
      updates.push(u)
      directory.setImage(u.image) // registered brokers' URLs, as broker.ts wires it
      void replicas.reconcile(u)
    })
    replicas.start()
    node.start()
    const member = { node, controller, admin: new TopicAdmin(node, controller, replicas), replicas, quorum: new MetadataQuorum(node, directory), updates }
    this.members.set(id, member)
    return member
  }

  async stop(id: number): Promise<void> {
    const m = this.members.get(id)
    if (m === undefined) return
    this.members.delete(id)
    await m.replicas.closeAll()
    await m.node.close()
  }

  get(id: number): Member {
    return this.members.get(id)!
  }

  /**
   * Registers members as brokers and unfences them (the controller places replicas only on
   * those), through the active controller's own decisions (membership.ts): what each broker's
   * lifecycle does over the network, without its lease timer (these tests are not about leases).
   */
  async registerBrokers(ids: readonly number[] = [...this.members.keys()]): Promise<void> {
    for (const id of ids) {
      const leader = this.leader()
      if (leader === undefined) throw new Error('registering brokers needs an active controller')
      const incarnationId = id.toString(16).padStart(32, '0')
      const registration = { brokerId: id, incarnationId, url: `ws://127.0.0.1:${9000 + id}/`, rack: '', directoryId: (0xd00 + id).toString(16).padStart(32, '0') }
      await leader.controller.submit((s, ctx) => register(s, registration, ctx), 5_000)
      const member = this.get(id)
      if (!(await member.node.waitForImage(leader.node.imageOffset, 5_000))) throw new Error(`node ${id} did not replay its registration`)
      await leader.controller.submit((s, ctx) => heartbeat(s, { brokerId: id, incarnationId, metadataOffset: member.node.imageOffset }, ctx), 5_000)
    }
  }

  /** The node that leads with its epoch committed, if one does. */
  leader(): Member | undefined {
    return [...this.members.values()].find((m) => m.node.replica.leaderReady && !this.cut.has(m.node.nodeId))
  }
}
