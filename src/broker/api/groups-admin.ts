// ListGroups (the groups this broker coordinates: a client asks every broker), DescribeGroups and
// DeleteGroups (refused while the group has members).
import { bitacora, ErrorCode, wireError } from '../../protocol/index.js'
import { wireGroupError, type GroupCoordinator } from '../groups/coordinator.js'
import { groupError } from '../groups/core/errors.js'
import { deleteGroup } from '../groups/core/offsets.js'
import { replayAll } from '../groups/core/records.js'
import { groupPhase, type GroupState } from '../groups/core/state.js'
import { groupAssignor } from '../groups/core/target.js'
import { EMPTY } from '../groups/core/topic-partitions.js'
import { GROUPS_PER_REQUEST_MAX } from '../groups/limits.js'
import { wirePartitions } from './consumer-group-heartbeat.js'

const exists = (g: GroupState) => g.groupEpoch > 0 || g.members.size > 0 || g.offsets.size > 0
const notFound = (groupId: string) => groupError('GROUP_ID_NOT_FOUND', `no group ${groupId} (it never committed an offset or had a member, or was deleted)`)

function tooMany(n: number): { error: bitacora.IError } | null {
  return n > GROUPS_PER_REQUEST_MAX ? { error: wireError(ErrorCode.INVALID_REQUEST, `the request names ${n} groups, more than the ${GROUPS_PER_REQUEST_MAX} allowed`) } : null
}

export function listGroups(coordinator: Pick<GroupCoordinator, 'coordinated'>): bitacora.IListGroupsResponse {
  return { groups: [...coordinator.coordinated()].filter(exists).map((g) => ({ groupId: g.groupId, state: groupPhase(g), members: g.members.size, assignor: groupAssignor(g) })) }
}

function describe(g: GroupState): bitacora.DescribeGroupsResponse.IGroup {
  return {
    groupId: g.groupId,
    state: groupPhase(g),
    groupEpoch: g.groupEpoch,
    assignmentEpoch: g.assignmentEpoch,
    assignor: groupAssignor(g),
    members: [...g.members.values()].map((m) => {
      const a = g.current.get(m.memberId)
      return {
        memberId: m.memberId, instanceId: m.instanceId ?? undefined, rackId: m.rackId ?? undefined, clientId: m.clientId, clientHost: m.clientHost,
        memberEpoch: a?.memberEpoch ?? 0, state: a?.memberEpoch === -2 ? 'away' : (a?.state ?? 'stable'),
        subscribedTopicNames: [...m.subscribedTopicNames], subscribedTopicRegex: m.subscribedTopicRegex ?? undefined,
        assignment: wirePartitions(a?.assigned ?? EMPTY), pendingRevocation: wirePartitions(a?.pendingRevocation ?? EMPTY), target: wirePartitions(g.target.get(m.memberId) ?? EMPTY),
      }
    }),
  }
}

export async function describeGroups(coordinator: Pick<GroupCoordinator, 'read'>, req: bitacora.IDescribeGroupsRequest): Promise<bitacora.IDescribeGroupsResponse | { error: bitacora.IError }> {
  const ids = req.groupIds ?? []
  const refused = tooMany(ids.length)
  if (refused) return refused
  const groups = await Promise.all(
    ids.map(async (groupId) => {
      const outcome = await coordinator.read(groupId, (g) => (exists(g) ? describe(g) : { groupId, error: wireGroupError(notFound(groupId)) }))
      return 'error' in outcome ? { groupId, error: wireGroupError(outcome.error) } : outcome.ok
    }),
  )
  return { groups }
}

export async function deleteGroups(coordinator: Pick<GroupCoordinator, 'step'>, req: bitacora.IDeleteGroupsRequest): Promise<bitacora.IDeleteGroupsResponse | { error: bitacora.IError }> {
  const ids = req.groupIds ?? []
  const refused = tooMany(ids.length)
  if (refused) return refused
  const results = await Promise.all(
    ids.map(async (groupId) => {
      const outcome = await coordinator.step(groupId, (g) => {
        if (!exists(g)) return { group: g, records: [], response: notFound(groupId) }
        const d = deleteGroup(g)
        // Tombstones in as many batches as they need (a group may hold more offsets than one batch):
        // a failure half-way leaves a group that a second DeleteGroups finishes.
        return d.error ? { group: g, records: [], response: d.error } : { group: replayAll(g, d.records), records: d.records, response: null, atomic: false }
      })
      const error = 'error' in outcome ? outcome.error : outcome.ok
      return { groupId, error: error && wireGroupError(error) }
    }),
  )
  return { results }
}
