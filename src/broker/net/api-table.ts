// The one API dispatch table: for each API the broker serves, its handler, given only the
// parts of the broker it uses. The handshake announces exactly the table's APIs. Admin requests
// (create, delete, alter) from clients are forwarded to the active controller (forward-admin.ts);
// one from a peer was forwarded here already and runs here, answered NOT_CONTROLLER as a whole
// when this node is not the controller, for the forwarding node to try the next.
import type { Codec } from '../../codec/index.js'
import { ErrorCode, wireError, type Request, type RequestApiName, type ResponseProps } from '../../protocol/index.js'
import { addVoter } from '../api/add-voter.js'
import { allocateProducerIds, type ProducerIdAllocator } from '../api/allocate-producer-ids.js'
import { alterConfigs } from '../api/alter-configs.js'
import { alterPartitionReassignments, forwardPartitionReassignments, type Reassignments } from '../api/alter-partition-reassignments.js'
import { completeReassignment, type ReassignmentCompletions } from '../api/complete-reassignment.js'
import { brokerHeartbeat } from '../api/broker-heartbeat.js'
import { brokerRegistration, type Membership } from '../api/broker-registration.js'
import { createTopics } from '../api/create-topics.js'
import { deleteTopics } from '../api/delete-topics.js'
import { describeConfigs } from '../api/describe-configs.js'
import { describeQuorum } from '../api/describe-quorum.js'
import { describeReplicas } from '../api/describe-replicas.js'
import { electLeaders } from '../api/elect-leaders.js'
import { fetch } from '../api/fetch.js'
import type { FetchChains } from '../api/fetch-chains.js'
import { forwardAlterConfigs, forwardCreateTopics, forwardDeleteTopics, type ForwardingDeps, type ToController } from '../api/forward-admin.js'
import { handshake } from '../api/handshake.js'
import { initProducerId } from '../api/init-producer-id.js'
import { leaderReports, type LeaderReports } from '../api/leader-reports.js'
import { listOffsets } from '../api/list-offsets.js'
import { metadata } from '../api/metadata.js'
import { produce } from '../api/produce.js'
import type { WaitForImage } from '../api/producer-id-issued.js'
import { removeVoter } from '../api/remove-voter.js'
import { transferLeaders } from '../api/transfer-leaders.js'
import type { ClusterView } from '../controller/node/cluster-view.js'
import type { PreferredLeaders } from '../controller/node/preferred-leaders.js'
import type { ControllerQuorum } from '../controller/node/quorum.js'
import { ControllerRequestError, type TopicAdmin } from '../controller/active/topic-admin.js'
import type { BrokerLimits } from '../limits.js'
import type { ProducerIds } from '../producer-ids.js'
import type { AppendOrder } from '../partition/append-order.js'
import type { InSyncReplicas } from '../partition/isr.js'
import type { ReadLease } from '../partition/read-buffers.js'
import type { ReplicaLookup } from '../partition/replica-manager.js'
import type { RaftReceiver } from './peer-receiver.js'
import { consumerGroupHeartbeat } from '../api/consumer-group-heartbeat.js'
import { findCoordinator } from '../api/find-coordinator.js'
import { deleteGroups, describeGroups, listGroups } from '../api/groups-admin.js'
import { offsetCommit } from '../api/offset-commit.js'
import { offsetFetch } from '../api/offset-fetch.js'
import type { GroupCoordinator } from '../groups/coordinator.js'

/** What a request may use of the connection it came on. */
export interface RequestScope {
  /** Aborted when the connection closes (a parked fetch stops waiting). */
  readonly closed: AbortSignal
  /** The connection's produce order per partition. */
  readonly appendOrder: AppendOrder
  /** Where the connection's fetches of each partition ended, for chained fetches (absent: no chaining). */
  readonly fetchChains?: FetchChains
  /** Read buffers the request borrows; released once its response is on the socket. */
  readonly lease: ReadLease
  /** The broker node the connection's handshake proved it is (peer-admission.ts), or null: a client. */
  readonly peer: number | null
  /** The client's address as the listener saw it (what group describe shows as its host); absent: unknown. */
  readonly remote?: string
}

/** Runs one request; null means no response (produce with acks=0, raft frames). */
export type ApiHandler = (request: Request, scope: RequestScope) => Promise<ResponseProps | null> | ResponseProps | null
export type ApiTable = ReadonlyMap<RequestApiName, ApiHandler>

export interface BrokerParts {
  readonly brokerId: number
  readonly clusterId: string
  readonly url: string
  readonly limits: BrokerLimits
  readonly admin: TopicAdmin
  /** The cluster as Metadata answers it (the committed metadata image, brokers, the controller). */
  readonly cluster: ClusterView
  /** The metadata quorum (for DescribeQuorum, AddVoter, RemoveVoter). */
  readonly quorum: ControllerQuorum
  readonly partitions: ReplicaLookup
  /** The ISR of the partitions this broker leads (produce: min.insync.replicas). */
  readonly isr: Pick<InSyncReplicas, 'of' | 'tickMs'>
  readonly codec: Codec
  /** Where raft frames from peer brokers go (net/peer-transport.ts); unset, the broker serves no `raft` API. */
  readonly raft?: RaftReceiver
  /** Broker registrations and heartbeats (controller/active/membership-service.ts); unset, the broker serves neither API. */
  readonly membership?: Membership
  /** Preferred leader elections (ElectLeaders); unset, the broker does not serve the API. */
  readonly preferredLeaders?: Pick<PreferredLeaders, 'elect'>
  /** Partition leaders reported by brokers (controller/decisions/reports.ts); unset, the broker does not serve the API. */
  readonly leaders?: LeaderReports
  /** Partition moves, decided and completed by the active controller (controller/decisions/reassignment.ts); unset, the broker serves neither API. */
  readonly reassignments?: Reassignments & ReassignmentCompletions
  /** Blocks of producer ids the active controller hands brokers (AllocateProducerIds); unset, the broker does not serve the API. */
  readonly producerIdAllocator?: ProducerIdAllocator
  /** This broker's producer ids for InitProducerId; unset, the broker does not serve the API. */
  readonly producerIds?: Pick<ProducerIds, 'take'>
  /** Where clients' admin requests go (the controller channel); unset, they run on this node, as a peer's do. */
  readonly toController?: ToController
  /** The consumer group coordinator (groups/coordinator.ts); unset, the broker serves no group API. */
  readonly groups?: GroupCoordinator
}

export function apiTable(b: BrokerParts): ApiTable {
  const image = () => b.admin.image
  /** Producer ids are checked against the image's blocks, which may lag their commit (producer-id-issued.ts). */
  const waitForImage: WaitForImage = (shows, ms) => b.admin.seen(shows, ms)
  const forwarding: ForwardingDeps | null = b.toController === undefined ? null : { controller: b.toController, admin: b.admin, partitions: b.partitions }
  /** A client's admin request goes to the controller; a peer's (forwarded already) runs here. */
  const admin = (scope: RequestScope, forward: (f: ForwardingDeps) => Promise<ResponseProps>, here: () => Promise<ResponseProps>) =>
    forwarding !== null && scope.peer === null ? forward(forwarding) : onController(here)
  let apis: readonly string[] = []
  const table = new Map<RequestApiName, ApiHandler>([
    ['handshake', (r) => ({ handshake: handshake({ brokerId: b.brokerId, clusterId: b.clusterId, limits: b.limits, apis }, r.handshake!) })],
    ['metadata', (r) => ({ metadata: metadata(b, r.metadata!) })],
    ['createTopics', (r, scope) => admin(scope,
      async (f) => ({ createTopics: await forwardCreateTopics(f, r.createTopics!) }),
      async () => ({ createTopics: await createTopics(b, r.createTopics!) }))],
    ['deleteTopics', (r, scope) => admin(scope,
      async (f) => ({ deleteTopics: await forwardDeleteTopics(f, r.deleteTopics!) }),
      async () => ({ deleteTopics: await deleteTopics(b.admin, r.deleteTopics!) }))],
    ['describeConfigs', (r) => ({ describeConfigs: describeConfigs(b.admin.image, b.limits, r.describeConfigs!) })],
    ['alterConfigs', (r, scope) => admin(scope,
      async (f) => ({ alterConfigs: await forwardAlterConfigs(f, r.alterConfigs!) }),
      async () => ({ alterConfigs: await alterConfigs(b.admin, b.limits, r.alterConfigs!) }))],
    ['produce', async (r, scope) => {
      const response = await produce({ ...b, image, waitForImage }, r.produce!, scope.appendOrder)
      return r.produce!.acks === 0 ? null : { produce: response }
    }],
    ['fetch', async (r, scope) => ({ fetch: await fetch(b, r.fetch!, scope.closed, scope.lease, scope.fetchChains) })],
    ['listOffsets', async (r) => ({ listOffsets: await listOffsets(b.partitions, r.listOffsets!) })],
    ['describeQuorum', (r) => (r.describeQuorum?.topics ?? []).length > 0
      ? describeReplicas({ image, partitions: b.partitions, isr: b.isr }, r.describeQuorum!)
      : describeQuorum({ clusterId: b.clusterId, quorum: b.quorum, registeredBrokers: () => image().brokers })],
    ['addVoter', (r) => addVoter(b.quorum, r.addVoter!)],
    ['removeVoter', (r) => removeVoter(b.quorum, r.removeVoter!)],
    // Peer connections only: the handler refuses clients.
    ['transferLeaders', (r, scope) => transferLeaders(b.partitions, r.transferLeaders!, scope.peer)],
  ])
  const preferred = b.preferredLeaders
  if (preferred !== undefined) table.set('electLeaders', async (r) => ({ electLeaders: await electLeaders(preferred, r.electLeaders!) }))
  const raft = b.raft
  if (raft !== undefined) {
    // One way: the session lets only a proven peer's frames through (session.ts).
    table.set('raft', (r, scope) => {
      if (scope.peer === null) throw new Error('raft frames reached the handler on a connection that proved no peer')
      raft.receive(scope.peer, r.raft!)
      return null
    })
  }
  const membership = b.membership
  if (membership !== undefined) {
    // Peer connections only: the handlers refuse clients (scope.peer null) and other nodes' ids.
    table.set('brokerRegistration', (r, scope) => brokerRegistration(membership, r.brokerRegistration!, scope.peer))
    table.set('brokerHeartbeat', (r, scope) => brokerHeartbeat(membership, r.brokerHeartbeat!, scope.peer))
  }
  const leaders = b.leaders
  if (leaders !== undefined) table.set('leaderReports', (r, scope) => leaderReports(leaders, r.leaderReports!, scope.peer))
  const reassignments = b.reassignments
  if (reassignments !== undefined) {
    table.set('alterPartitionReassignments', (r, scope) => admin(scope,
      async (f) => ({ alterPartitionReassignments: await forwardPartitionReassignments(f, r.alterPartitionReassignments!) }),
      async () => ({ alterPartitionReassignments: await alterPartitionReassignments(reassignments, r.alterPartitionReassignments!) })))
    // Peer connections only: the handler refuses clients and other nodes' ids.
    table.set('completeReassignment', (r, scope) => completeReassignment(reassignments, r.completeReassignment!, scope.peer))
  }
  const allocator = b.producerIdAllocator
  // Peer connections only: the handler refuses clients and other nodes' ids.
  if (allocator !== undefined) table.set('allocateProducerIds', (r, scope) => allocateProducerIds(allocator, r.allocateProducerIds!, scope.peer))
  const producerIds = b.producerIds
  if (producerIds !== undefined) table.set('initProducerId', (r) => initProducerId(producerIds, r.initProducerId!, { image, waitForImage }))
  const groups = b.groups
  if (groups !== undefined) {
    table.set('findCoordinator', (r) => {
      const response = findCoordinator(groups, r.findCoordinator!)
      return 'error' in response ? { error: response.error! } : { findCoordinator: response }
    })
    table.set('consumerGroupHeartbeat', async (r, scope) => ({ consumerGroupHeartbeat: await consumerGroupHeartbeat(groups, r.consumerGroupHeartbeat!, scope.remote ?? '') }))
    table.set('offsetCommit', async (r) => ({ offsetCommit: await offsetCommit(groups, r.offsetCommit!) }))
    table.set('offsetFetch', async (r) => ({ offsetFetch: await offsetFetch(groups, r.offsetFetch!) }))
    table.set('listGroups', () => ({ listGroups: listGroups(groups) }))
    table.set('describeGroups', async (r) => {
      const response = await describeGroups(groups, r.describeGroups!)
      return 'error' in response ? { error: response.error! } : { describeGroups: response }
    })
    table.set('deleteGroups', async (r) => {
      const response = await deleteGroups(groups, r.deleteGroups!)
      return 'error' in response ? { error: response.error! } : { deleteGroups: response }
    })
  }
  apis = [...table.keys()]
  return table
}

/** Runs an admin request as the controller: a node that is not answers NOT_CONTROLLER for the whole request. */
async function onController(run: () => Promise<ResponseProps>): Promise<ResponseProps> {
  try {
    return await run()
  } catch (err) {
    if (err instanceof ControllerRequestError && err.code === ErrorCode.NOT_CONTROLLER) return { error: wireError(err.code, err.message) }
    throw err
  }
}
