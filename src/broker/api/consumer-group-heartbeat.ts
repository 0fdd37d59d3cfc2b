// ConsumerGroupHeartbeat (KIP-848): the wire request into the core's, run on the group's
// coordinator (groups/coordinator.ts), the core's answer back onto the wire.
import { bitacora } from '../../protocol/index.js'
import { wireGroupError, type GroupCoordinator } from '../groups/coordinator.js'
import { heartbeat, type HeartbeatRequest } from '../groups/core/heartbeat.js'
import { topicPartitions, type TopicPartitions } from '../groups/core/topic-partitions.js'

type Response = bitacora.IConsumerGroupHeartbeatResponse

export const wirePartitions = (tps: TopicPartitions): bitacora.ITopicPartitionList[] => [...tps].map(([topic, partitions]) => ({ topic, partitions: [...partitions] }))
export const corePartitions = (list: readonly bitacora.ITopicPartitionList[]): TopicPartitions => topicPartitions(list.map((e) => [e.topic ?? '', e.partitions ?? []] as const))

export function heartbeatRequest(req: bitacora.IConsumerGroupHeartbeatRequest, clientHost: string): HeartbeatRequest {
  const sub = req.subscription
  return {
    groupId: req.groupId ?? '',
    memberId: req.memberId ?? '',
    memberEpoch: req.memberEpoch ?? 0,
    instanceId: req.instanceId ?? null,
    rackId: req.rackId ?? null,
    subscription: sub ? { topicNames: sub.topicNames ?? [], topicRegex: sub.topicRegex ?? null } : null,
    serverAssignor: req.serverAssignor ?? null,
    sessionTimeoutMs: req.sessionTimeoutMs || null,
    rebalanceTimeoutMs: req.rebalanceTimeoutMs || null,
    owned: req.owned ? corePartitions(req.owned.topics ?? []) : null,
    clientId: req.clientId ?? '',
    clientHost,
  }
}

export async function consumerGroupHeartbeat(coordinator: Pick<GroupCoordinator, 'step'>, req: bitacora.IConsumerGroupHeartbeatRequest, clientHost: string): Promise<Response> {
  const request = heartbeatRequest(req, clientHost)
  const outcome = await coordinator.step(request.groupId, (group, ctx) => heartbeat(group, request, ctx))
  if ('error' in outcome) return { error: wireGroupError(outcome.error), memberId: request.memberId, memberEpoch: -1 }
  const r = outcome.ok
  if (r.error) return { error: wireGroupError(r.error), memberId: r.memberId, memberEpoch: r.memberEpoch }
  return { memberId: r.memberId, memberEpoch: r.memberEpoch, heartbeatIntervalMs: r.heartbeatIntervalMs, assignment: wirePartitions(r.assignment!) }
}
