// ListOffsets: earliest (-2), latest (-1: the high watermark), or the first offset whose
// timestamp is at or after a time. Retriable OFFSET_NOT_AVAILABLE while a new leader's high
// watermark is still behind the start of its epoch. Fenced by the client's leader epoch and
// answering NOT_LEADER_OR_FOLLOWER with a hint, as Fetch (leader-epoch.ts).
import { bitacora, ErrorCode, wireError } from '../../protocol/index.js'
import type { PartitionLookup } from '../partition/replica-manager.js'
import { failureOf, fenceByEpoch, notLeader } from './leader-epoch.js'

const EARLIEST = -2
const LATEST = -1

export async function listOffsets(partitions: PartitionLookup, req: bitacora.IListOffsetsRequest): Promise<bitacora.IListOffsetsResponse> {
  return {
    topics: await Promise.all(
      (req.topics ?? []).map(async (t) => ({
        name: t.name,
        partitions: await Promise.all((t.partitions ?? []).map((p) => listPartition(partitions, t.name ?? '', p))),
      })),
    ),
  }
}

async function listPartition(
  partitions: PartitionLookup, topic: string, p: bitacora.ListOffsetsRequest.IPartitionQuery,
): Promise<bitacora.ListOffsetsResponse.IPartitionResult> {
  const index = p.index ?? 0
  const r = partitions.partition(topic, index)
  if (!r) return { index, error: wireError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `no partition ${topic}-${index} on this broker`), offset: -1 }
  const fenced = fenceByEpoch(r, p.currentLeaderEpoch)
  if (fenced) return { index, offset: -1, ...fenced }
  if (!r.isLeader) return { index, offset: -1, ...notLeader(r) }
  if (!r.leaderReady) {
    return { index, error: wireError(ErrorCode.OFFSET_NOT_AVAILABLE), offset: -1 }
  }
  const timestamp = p.timestamp ?? LATEST
  const ok = { index, error: null, leaderEpoch: r.leaderEpoch, timestamp: -1 }
  if (timestamp === EARLIEST) return { ...ok, offset: r.log.logStartOffset }
  if (timestamp === LATEST) return { ...ok, offset: r.highWatermark }
  if (timestamp < 0) return { index, error: wireError(ErrorCode.INVALID_REQUEST, `timestamp ${timestamp} is neither -2, -1 nor a time`), offset: -1 }
  try {
    const found = await r.log.offsetForTimestamp(timestamp)
    if (found === null || found.offset >= r.highWatermark) return { ...ok, offset: -1 }
    return { ...ok, offset: found.offset, timestamp: found.timestamp }
  } catch (err) {
    return { index, offset: -1, ...failureOf(r, err) }
  }
}
