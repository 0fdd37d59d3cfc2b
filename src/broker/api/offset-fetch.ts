// OffsetFetch: a group's committed positions (-1 where nothing is committed), read on its
// coordinator once every committed record of its partition is applied.
import { bitacora } from '../../protocol/index.js'
import { wireGroupError, type GroupCoordinator } from '../groups/coordinator.js'
import { fetchOffsets } from '../groups/core/offsets.js'

export async function offsetFetch(coordinator: Pick<GroupCoordinator, 'read'>, req: bitacora.IOffsetFetchRequest): Promise<bitacora.IOffsetFetchResponse> {
  const wanted = (req.topics ?? []).length === 0 ? null : (req.topics ?? []).map((t) => ({ topic: t.name ?? '', partitions: t.partitions ?? [] }))
  const outcome = await coordinator.read(req.groupId ?? '', (group) => fetchOffsets(group, wanted))
  if ('error' in outcome) return { error: wireGroupError(outcome.error), topics: [] }
  const byTopic = new Map<string, bitacora.OffsetFetchResponse.IPartition[]>()
  for (const o of outcome.ok) {
    const list = byTopic.get(o.topic) ?? []
    list.push({ index: o.partition, offset: o.offset, leaderEpoch: o.leaderEpoch, metadata: o.metadata })
    byTopic.set(o.topic, list)
  }
  return { topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })) }
}
