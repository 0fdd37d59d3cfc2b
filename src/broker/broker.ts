// A broker process. Start: lock the data directory, listen (so a taken port fails before
// anything opens), open this node's replica of the metadata log (a controller voter or an
// observer; alone, it leads at once and upgrades a one-node release's topics.json), reconcile
// the partition replicas with the committed metadata image — fenced: a broker leads no data
// partition until the active controller has unfenced it —, then serve clients and peers on the
// one listener and register with the active controller (BrokerLifecycle, through the controller
// channel), heartbeating from then on, and report the data partitions it leads (to each new
// controller again). Every node also runs the membership service, which
// answers registrations and heartbeats while it is the active controller. Alone, a node serves
// only once it has registered with itself and unfenced, so its first client finds it ready. Any failure on the way undoes what was
// done and says why in one line (StartupError). Stop: a controlled shutdown first (the metadata
// leadership handed to a caught-up voter, the controller told so it fences this broker at once;
// bounded), membership (no more heartbeats), then partition replicas (leaders resign and logs close, flushing everything appended), the
// metadata replica, the peer links, the listener, the lock.
import { join } from 'node:path'
import { loadCodec } from '../codec/index.js'
import type { Message } from '../raft/types.js'
import { NodeFileLayer } from '../storage/index.js'
import type { BrokerConfig } from './config.js'
import { ActiveController } from './controller/active/active-controller.js'
import { ClusterView } from './controller/node/cluster-view.js'
import { controlledShutdown } from './controller/node/controlled-shutdown.js'
import { BrokerLifecycle } from './controller/node/lifecycle.js'
import { METADATA_PARTITION, METADATA_STARTUP_TIMEOUT_MS, METADATA_TOPIC_ID, PRODUCER_ID_BLOCK_SIZE } from './controller/decisions/limits.js'
import { registrationProblem } from './controller/decisions/membership.js'
import { allocateProducerIds, reportLeaders } from './controller/decisions/reports.js'
import { ProducerIds } from './producer-ids.js'
import { uuidBytes } from '../metadata/uuid.js'
import { LeaderReporter } from './controller/node/leader-reporter.js'
import { PartitionMover } from './controller/node/partition-mover.js'
import { alterPartitionReassignments, completeReassignment } from './controller/decisions/reassignment.js'
import { PreferredLeaders } from './controller/node/preferred-leaders.js'
import { LeaderBalancer } from './controller/active/leader-balancer.js'
import { transferLeaderships } from './partition/leadership-transfer.js'
import { MembershipService } from './controller/active/membership-service.js'
import { MetadataNode } from './controller/node/metadata-node.js'
import { MetadataQuorum } from './controller/node/metadata-quorum.js'
import { NodeDirectory } from './controller/node/node-directory.js'
import { TopicAdmin } from './controller/active/topic-admin.js'
import { readLegacyTopics, upgradeLegacyTopics } from './controller/active/topics-upgrade.js'
import { openDataDir, type DataDir } from './data-dir.js'
import { CONTROLLED_SHUTDOWN_TIMEOUT_MS } from './limits.js'
import { jsonLogger, type Logger } from './log.js'
import type { Membership } from './api/broker-registration.js'
import { apiTable, type ApiTable } from './net/api-table.js'
import { ControllerChannel, localController, type LocalController } from './net/controller-channel.js'
import { listen, type Listener } from './net/listener.js'
import { PeerTransport } from './net/peer-transport.js'
import { InSyncReplicas } from './partition/isr.js'
import { ReadBufferPool } from './partition/read-buffers.js'
import { ReplicaManager, type ReconcileFailure } from './partition/replica-manager.js'
import { StartupError, startupError } from './startup-error.js'
import { GroupCoordinator } from './groups/coordinator.js'
import { OFFSETS_TOPIC } from './groups/offsets-topic.js'
import { forwardCreateTopics } from './api/forward-admin.js'
import { batchLimit } from './api/topic-limits.js'
import { errorName } from '../protocol/index.js'

/** This broker's part in membership: its lifecycle, its way to the controller, and the service it runs should it be the controller. */
interface MembershipParts {
  readonly service: MembershipService
  readonly channel: ControllerChannel
  readonly lifecycle: BrokerLifecycle
  /** Reports the data partitions this broker leads to the controller. */
  readonly reporter: LeaderReporter
}

export class Broker {
  private constructor(
    readonly config: BrokerConfig,
    private readonly dataDir: DataDir,
    private readonly listener: Listener,
    private readonly transport: PeerTransport,
    private readonly metadata: MetadataNode,
    private readonly replicas: ReplicaManager,
    private readonly membership: MembershipParts,
    private readonly balancer: LeaderBalancer,
    private readonly mover: PartitionMover,
    private readonly groups: GroupCoordinator,
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
    checkClusterIdGiven(fs, config)
    const dataDir = await openDataDir(fs, config.dataDir, { nodeId: config.brokerId, clusterId: config.clusterId })
    const clusterId = dataDir.identity.clusterId
    let listener: Listener | null = null
    let transport: PeerTransport | null = null
    let metadata: MetadataNode | null = null
    let replicas: ReplicaManager | null = null
    let membership: MembershipParts | null = null
    let balancer: LeaderBalancer | null = null
    let mover: PartitionMover | null = null
    let groups: GroupCoordinator | null = null
    try {
      listener = await listen({ ...config, health: () => ({ brokerId: config.brokerId, clusterId }) }, log)
      const legacyTopics = readLegacyTopics(fs, config.dataDir)
      if (legacyTopics !== null && config.controllerVoters !== undefined) {
        throw new StartupError(`${config.dataDir} holds topics.json of a one-node release: start this node once without --controller-voters so it upgrades them into its metadata log`)
      }
      const directory = new NodeDirectory(config.brokerId, listener.url, config.controllerVoters, config.peerRoutes)
      const peers = new PeerTransport({
        nodeId: config.brokerId, clusterId, peers: directory.dialed, log,
        router: {
          deliver: (topicId, partition, m) => {
            if (topicId === METADATA_TOPIC_ID && partition === METADATA_PARTITION) return metadata !== null && (metadata.receive(m), true)
            const r = replicas?.replica(topicId, partition)
            return r !== undefined && (void r.receive(m), true)
          },
        },
        // A closed link to a group's leader (a killed process closes its sockets at once) starts its election early.
        onPeerClosed: (node) => {
          void metadata?.replica.leaderUnreachable(node)
          replicas?.leaderUnreachable(node)
        },
      })
      transport = peers
      directory.onChange((urls) => peers.setPeers(urls))
      const send = (topicId: string, partition: number, m: Message) => peers.send(m.to, topicId, partition, m)

      const node = await MetadataNode.open({
        dataDir: config.dataDir, nodeId: config.brokerId, directoryId: dataDir.identity.directoryId, voters: config.controllerVoters, tickMs: config.tickMs, log, fs,
        snapshotEveryRecords: config.metadataSnapshotRecords,
        send: (m) => send(METADATA_TOPIC_ID, METADATA_PARTITION, m),
      }).catch((err) => {
        throw startupError(`cannot open the metadata log in ${config.dataDir}`, err)
      })
      metadata = node
      node.subscribe((u) => directory.setImage(u.image))
      const codec = await loadCodec()
      const controller = new ActiveController({
        node, codec, log, urlOf: (id) => directory.urlOf(id),
        config: {
          leaseMs: config.brokerSessionTimeoutMs, defaultPartitions: config.defaultPartitions, defaultReplicationFactor: config.defaultReplicationFactor,
          partitionsPerTopicMax: config.limits.partitionsPerTopicMax, topicsMax: config.limits.topicsMax, producerIdBlockSize: PRODUCER_ID_BLOCK_SIZE,
        },
      })
      node.start()
      if (node.standalone) {
        // Alone, it leads its metadata log at once: wait for that, so the first Metadata answer is complete.
        await waitCaughtUp(node, config.dataDir)
        if (legacyTopics !== null) await upgradeLegacyTopics(fs, config.dataDir, legacyTopics, node, controller, log)
      }

      const readBuffers = new ReadBufferPool()
      let apis: ApiTable | null = null
      membership = membershipParts(config, dataDir.identity.directoryId, node, controller, directory, peers, () => localController(apis!, config.brokerId, readBuffers), log)
      const { service, channel, lifecycle, reporter } = membership

      const manager = new ReplicaManager(config.dataDir, config.brokerId, config.tickMs, config.logCleanupIntervalMs, log, fs, send, dataDir.identity.directoryId, config.producerIdExpirationMs)
      replicas = manager
      // Fenced until the controller says otherwise: its data partitions open fenced.
      manager.setFenced(lifecycle.fenced)
      lifecycle.onFencedChange((fenced) => manager.setFenced(fenced))
      manager.onLeader((led) => reporter.led(led))
      reportToEachNewController(node, reporter, manager)
      const isr = new InSyncReplicas(manager, () => node.image, config.tickMs)
      reporter.watchIsr(() => isr.led()) // ISR changes reach the controller (leader-reporter.ts)
      // The consumer groups' coordinator: __consumer_offsets partitions are state-machine logs of its groups.
      const coordinator = new GroupCoordinator({
        brokerId: config.brokerId, image: () => node.image, replicas: manager, codec, log,
        clusterNodes: () => Math.max(node.image.brokers.length, config.controllerVoters?.length ?? 1),
        offsetsTopicPartitions: config.offsetsTopicPartitions,
        offsetsTopicReplicationFactor: config.offsetsTopicReplicationFactor,
        // The produce path's limit for the topic: its max.message.bytes (AlterConfigs may set it), else --max-batch-bytes.
        writeLimit: () => batchLimit(OFFSETS_TOPIC, node.image.topic(OFFSETS_TOPIC)?.configs ?? {}, config.limits),
        createOffsetsTopic: async (partitions, replicationFactor) => {
          const forwarding = { controller: channel, admin: new TopicAdmin(node, controller, manager), partitions: manager }
          const r = await forwardCreateTopics(forwarding, { topics: [{ name: OFFSETS_TOPIC, partitions, replicationFactor, configs: { 'cleanup.policy': 'compact' } }] })
          const e = r.topics?.[0]?.error
          return e && e.code ? { code: errorName(e.code), message: e.message ?? '' } : null
        },
      })
      groups = coordinator
      manager.setStateMachines((topic, partition) => coordinator.stateMachineFor(topic, partition))
      await manager.prepare()
      let first: Promise<ReconcileFailure[]> | null = null
      node.subscribe((u) => {
        const reconciled = manager.reconcile(u)
        if (first === null) first = reconciled // its failures fail the start
        else reconciled.catch((err: unknown) => log.error('reconciling partitions with the metadata image failed', { error: (err as Error).message }))
      })
      const failed = await first!
      if (failed.length > 0) throw startupError(`cannot open the partitions in ${config.dataDir}`, failed[0].error)
      void node.caughtUp().then(() => manager.removeStrays()).catch((err: unknown) => log.error('removing stray partition directories failed', { error: (err as Error).message }))
      manager.start()
      const preferredLeaders = new PreferredLeaders({
        self: config.brokerId, image: () => node.image, waitUntil: (shows, ms) => node.waitUntil(shows, ms), peers,
        local: (transfers, ms) => transferLeaderships(manager, transfers, ms),
      })
      const leaderBalancer = new LeaderBalancer({ controller, image: () => node.image, leaders: preferredLeaders, afterMs: config.leaderRebalanceAfterMs, log })
      balancer = leaderBalancer

      apis = apiTable({
        brokerId: config.brokerId, clusterId, url: listener.url, limits: config.limits, admin: new TopicAdmin(node, controller, manager), cluster: new ClusterView(node, lifecycle),
        quorum: new MetadataQuorum(node, directory), partitions: manager, isr, codec, raft: peers, membership: learningUrls(service, directory), toController: channel,
        leaders: { report: (reports) => controller.decide((state, ctx) => reportLeaders(state, reports, ctx)) }, preferredLeaders,
        producerIdAllocator: { allocate: (req) => controller.decide((state, ctx) => allocateProducerIds(state, req, ctx)) },
        producerIds: new ProducerIds(config.brokerId, () => uuidBytes(lifecycle.incarnationId), (body, ms) => channel.send('allocateProducerIds', body, ms)),
        reassignments: {
          alter: (partitions, ms) => controller.submit((state, ctx) => alterPartitionReassignments(state, partitions, ctx), ms),
          complete: (req) => controller.decide((state, ctx) => completeReassignment(state, req, ctx)),
        },
        groups: coordinator,
      })
      coordinator.start()
      mover = new PartitionMover({ brokerId: config.brokerId, image: () => node.image, replica: (t, p) => manager.replica(t, p), controller: channel, log })
      node.subscribe(() => mover?.round())
      mover.start()
      const sessions = { apis, limits: config.limits, readBuffers, peers: { clusterId, nodeId: config.brokerId } }
      if (node.standalone) {
        // Alone, it is its own controller: it registers with itself (through its own handlers, no
        // listener needed) and serves once unfenced, so its first client finds it ready.
        lifecycle.start()
        await within(unfenced(lifecycle), `${config.dataDir}: this node did not register with itself and unfence`)
        listener.serve(sessions)
      } else {
        listener.serve(sessions) // peers register here, and answer its own registration
        lifecycle.start()
      }
      log.info('broker started', {
        url: listener.url, dataDir: config.dataDir, topics: node.image.topicCount, voters: node.replica.status().voters, controller: node.controllerId,
        logs: manager.openedLogs(), fsyncs: manager.fsyncCount, // how the logs opened (perf/restart.ts reads them)
      })
      return new Broker(config, dataDir, listener, peers, node, manager, membership, leaderBalancer, mover, coordinator, log)
    } catch (err) {
      groups?.close()
      balancer?.close()
      mover?.close()
      if (membership !== null) stopMembership(membership)
      await replicas?.closeAll().catch(() => undefined)
      await metadata?.close().catch(() => undefined)
      await transport?.close().catch(() => undefined)
      await listener?.close()
      await dataDir.release()
      throw err
    }
  }

  async stop(): Promise<void> {
    this.log.info('broker stopping', { fsyncs: this.replicas.fsyncCount, quorumStateWrites: this.replicas.quorumStateWrites }) // perf/cluster-timings.ts --only scale reads them
    const linkOpen = (node: number) => this.transport.stats().links.some((l) => l.node === node && l.state === 'open')
    await controlledShutdown({ metadata: this.metadata, lifecycle: this.membership.lifecycle, log: this.log, linkOpen }, CONTROLLED_SHUTDOWN_TIMEOUT_MS)
    this.balancer.close()
    this.mover.close()
    this.groups.close()
    stopMembership(this.membership)
    await this.replicas.closeAll()
    await this.metadata.close()
    await this.transport.close()
    await this.listener.close()
    await this.dataDir.release()
    this.log.info('broker stopped')
  }
}

/**
 * A node of a cluster needs the cluster's id before its first start: a new data directory would
 * otherwise make up its own, and peers refuse a node of another cluster (silently, to the user).
 */
function checkClusterIdGiven(fs: NodeFileLayer, config: BrokerConfig): void {
  const others = (config.controllerVoters ?? []).filter((v) => v.id !== config.brokerId)
  if (others.length === 0 || config.clusterId !== undefined || fs.exists(join(config.dataDir, 'meta.properties'))) return // meta.properties: data-dir.ts
  throw new StartupError(
    `--controller-voters names other nodes (${others.map((v) => v.id).join(', ')}) and ${config.dataDir} belongs to no cluster yet: give every node the same --cluster-id (any new UUID) on its first start`,
  )
}

function waitCaughtUp(node: MetadataNode, dataDir: string): Promise<void> {
  return within(node.caughtUp(), `the metadata log in ${dataDir} did not open`)
}

/** `promise`, or a StartupError saying `what` once METADATA_STARTUP_TIMEOUT_MS passed. */
async function within(promise: Promise<void>, what: string): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new StartupError(`${what} within ${METADATA_STARTUP_TIMEOUT_MS} ms (its disk is too slow, or it failed: see the log above)`)),
      METADATA_STARTUP_TIMEOUT_MS,
    )
  })
  try {
    await Promise.race([promise, timedOut])
  } finally {
    clearTimeout(timer)
  }
}

function unfenced(lifecycle: BrokerLifecycle): Promise<void> {
  if (!lifecycle.fenced) return Promise.resolve()
  return new Promise((resolve) => {
    const off = lifecycle.onFencedChange((fenced) => {
      if (fenced) return
      off()
      resolve()
    })
  })
}

/**
 * The membership service as the API handlers serve it, remembering where a registering node
 * listens even before its registration commits: a voter that does not lead can then answer that
 * node's fetches, and so tell it the controller (net/controller-channel.ts: contacts).
 */
function learningUrls(service: MembershipService, directory: NodeDirectory): Membership {
  return {
    register: (req) => {
      if (registrationProblem(req) === null) directory.learn(req.brokerId, req.url)
      return service.register(req)
    },
    heartbeat: (req) => service.heartbeat(req),
  }
}

/**
 * This broker's membership, not started: the service it runs should it be the controller, and
 * its lifecycle, which registers and heartbeats through the channel to whichever node is the
 * controller (`local()`: its own API table, for when that is this node).
 */
function membershipParts(
  config: BrokerConfig, directoryId: string, node: MetadataNode, controller: ActiveController, directory: NodeDirectory, peers: PeerTransport,
  local: () => LocalController, log: Logger,
): MembershipParts {
  const channel = new ControllerChannel({
    self: config.brokerId, controllerId: () => node.controllerId, contacts: () => node.voters, peers, log, local: (request) => local()(request),
  })
  const lifecycle = new BrokerLifecycle({
    identity: { brokerId: config.brokerId, url: directory.urlOf(config.brokerId)!, rack: config.rack, directoryId },
    controller: channel, metadataOffset: () => node.imageOffset, log,
    heartbeatIntervalMs: config.brokerHeartbeatIntervalMs, leaseMs: config.brokerSessionTimeoutMs,
  })
  const reporter = new LeaderReporter({ brokerId: config.brokerId, controller: channel, image: () => node.image, log })
  return { service: new MembershipService({ controller, log }), channel, lifecycle, reporter }
}

/** Every leadership of this broker is reported again to each new controller (controller/node/leader-reporter.ts says why). */
function reportToEachNewController(node: MetadataNode, reporter: LeaderReporter, replicas: ReplicaManager): void {
  let reportedToEpoch = -1
  node.replica.onLeadershipChange((l) => {
    if (l.leaderId === null || l.epoch <= reportedToEpoch) return
    reportedToEpoch = l.epoch
    reporter.resendAll(replicas.led())
  })
}

function stopMembership(m: MembershipParts): void {
  m.reporter.close()
  m.lifecycle.stop()
  m.channel.close()
  m.service.close()
}
