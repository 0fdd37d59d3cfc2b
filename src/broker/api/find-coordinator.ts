// FindCoordinator: for each group, the broker leading its __consumer_offsets partition (the
// first request for a group creates the topic; until it is there, or while the partition has no
// leader, COORDINATOR_NOT_AVAILABLE, retriable).
import { bitacora, ErrorCode, wireError } from '../../protocol/index.js'
import { wireGroupError, type GroupCoordinator } from '../groups/coordinator.js'
import { GROUPS_PER_REQUEST_MAX } from '../groups/limits.js'

export function findCoordinator(coordinator: Pick<GroupCoordinator, 'coordinatorOf'>, req: bitacora.IFindCoordinatorRequest): bitacora.IFindCoordinatorResponse | { error: bitacora.IError } {
  const ids = req.groupIds ?? []
  if (ids.length > GROUPS_PER_REQUEST_MAX) return { error: wireError(ErrorCode.INVALID_REQUEST, `FindCoordinator names ${ids.length} groups, more than the ${GROUPS_PER_REQUEST_MAX} allowed`) }
  return {
    coordinators: ids.map((groupId) => {
      const c = coordinator.coordinatorOf(groupId)
      return 'ok' in c ? { groupId, nodeId: c.ok.nodeId, url: c.ok.url } : { groupId, nodeId: -1, error: wireGroupError(c.error) }
    }),
  }
}
