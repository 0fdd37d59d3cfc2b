// OffsetCommit: a member's (or, while the group has none, anyone's) committed positions,
// validated against the member epoch by the core and written to the group's partition.
import { bitacora, ErrorCode } from '../../protocol/index.js'
import { wireGroupError, type GroupCoordinator } from '../groups/coordinator.js'
import { commitOffsets, type CommitRequest } from '../groups/core/offsets.js'

export async function offsetCommit(coordinator: Pick<GroupCoordinator, 'step'>, req: bitacora.IOffsetCommitRequest): Promise<bitacora.IOffsetCommitResponse> {
  const request: CommitRequest = {
    groupId: req.groupId ?? '',
    memberId: req.memberId ?? '',
    memberEpoch: req.memberEpoch ?? -1,
    offsets: (req.topics ?? []).flatMap((t) =>
      (t.partitions ?? []).map((p) => ({ topic: t.name ?? '', partition: p.index ?? 0, offset: Number(p.offset ?? 0), leaderEpoch: p.leaderEpoch ?? -1, metadata: p.metadata ?? '' })),
    ),
  }
  const outcome = await coordinator.step(request.groupId, (group, ctx) => commitOffsets(group, request, ctx.nowMs))
  const byTopic = new Map<string, bitacora.OffsetCommitResponse.IPartition[]>()
  const add = (topic: string, index: number, error: bitacora.IError | null) => {
    const list = byTopic.get(topic) ?? []
    list.push({ index, error })
    byTopic.set(topic, list)
  }
  if ('error' in outcome) {
    // Kafka's answer to a commit too large for one batch of the offsets topic. A commit is atomic
    // (all its offsets or none), so it is never split: the committer splits it, or the operator
    // raises the limit the message names.
    const tooLarge = outcome.error.code === 'RECORD_LIST_TOO_LARGE'
    const error = tooLarge
      ? { code: ErrorCode.INVALID_COMMIT_OFFSET_SIZE, message: `${outcome.error.message}. A commit is written whole: commit fewer partitions at once, or with shorter metadata` }
      : wireGroupError(outcome.error)
    for (const o of request.offsets) add(o.topic, o.partition, error)
    return { error, topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })) }
  }
  for (const p of outcome.ok.partitions) add(p.topic, p.partition, p.error && wireGroupError(p.error))
  return { error: outcome.ok.error && wireGroupError(outcome.ok.error), topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })) }
}
