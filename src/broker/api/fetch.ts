// Fetch: stored batches returned exactly as stored, below the high watermark, with long-poll
// (max_wait_ms / min_bytes). A fetch between the high watermark and the log end is empty,
// never OFFSET_OUT_OF_RANGE (KIP-207): after a failover the new leader's HW may trail.
// A fetch that names the leader epoch its client knows is fenced by it (leader-epoch.ts).
// Each partition's batches are read with free room before them in a buffer of their own
// (borrowed from the broker's pool through `lease`), so the response frame can be written in
// front of the last partition's instead of copying them; the caller releases the lease once
// the response is sent.
import { bitacora, ErrorCode, FETCH_FRAME_HEADROOM_BYTES, wireError } from '../../protocol/index.js'
import type { BrokerLimits } from '../limits.js'
import type { ReadLease } from '../partition/read-buffers.js'
import type { PartitionLookup } from '../partition/replica-manager.js'
import type { PartitionReplica } from '../partition/replica.js'
import { failureOf, fenceByEpoch, notLeader, type RequestedEpoch } from './leader-epoch.js'

type PartitionData = bitacora.FetchResponse.IPartitionData

export interface FetchDeps {
  readonly partitions: PartitionLookup
  readonly limits: Pick<BrokerLimits, 'fetchResponseBytesMax' | 'fetchMaxWaitMsMax'>
}

interface Slot {
  topic: string
  index: number
  replica: PartitionReplica | undefined
  fetchOffset: number
  maxBytes: number
  currentLeaderEpoch: RequestedEpoch
}

export async function fetch(
  deps: FetchDeps, req: bitacora.IFetchRequest, signal: AbortSignal, lease: ReadLease,
): Promise<bitacora.IFetchResponse> {
  const limits = deps.limits
  const maxBytes = Math.min(req.maxBytes || limits.fetchResponseBytesMax, limits.fetchResponseBytesMax)
  const maxWaitMs = Math.min(req.maxWaitMs ?? 0, limits.fetchMaxWaitMsMax)
  const minBytes = req.minBytes ?? 0
  const slots: Slot[] = (req.topics ?? []).flatMap((t) =>
    (t.partitions ?? []).map((p) => ({
      topic: t.name ?? '',
      index: p.index ?? 0,
      replica: deps.partitions.partition(t.name ?? '', p.index ?? 0),
      fetchOffset: p.fetchOffset ?? 0,
      maxBytes: Math.min(p.partitionMaxBytes || maxBytes, maxBytes),
      currentLeaderEpoch: p.currentLeaderEpoch,
    })),
  )
  let result = await readAll(slots, maxBytes, lease)
  if (result.bytes < Math.max(minBytes, 1) && maxWaitMs > 0 && !result.failed) {
    lease.release() // the first round's reads are discarded: their buffers go back while this fetch waits
    await waitForData(slots, maxWaitMs, signal)
    result = await readAll(slots, maxBytes, lease)
  }
  const byTopic = new Map<string, PartitionData[]>()
  slots.forEach((s, i) => {
    const list = byTopic.get(s.topic) ?? []
    list.push(result.partitions[i])
    byTopic.set(s.topic, list)
  })
  return { topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })) }
}

async function readAll(slots: Slot[], maxBytes: number, lease: ReadLease): Promise<{ partitions: PartitionData[]; bytes: number; failed: boolean }> {
  let budget = maxBytes
  let bytes = 0
  let failed = false
  const partitions: PartitionData[] = []
  for (const s of slots) {
    const data = await readPartition(s, Math.max(1, Math.min(s.maxBytes, budget)), bytes === 0, lease)
    if (data.error) failed = true
    const n = data.records?.length ?? 0
    bytes += n
    budget -= n
    partitions.push(data)
  }
  return { partitions, bytes, failed }
}

async function readPartition(s: Slot, maxBytes: number, first: boolean, lease: ReadLease): Promise<PartitionData> {
  const r = s.replica
  if (!r) return { index: s.index, error: wireError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `no partition ${s.topic}-${s.index} on this broker`) }
  const base = { index: s.index, highWatermark: r.highWatermark, logStartOffset: r.log.logStartOffset }
  const fenced = fenceByEpoch(r, s.currentLeaderEpoch)
  if (fenced) return { ...base, ...fenced }
  if (!r.isLeader) return { ...base, ...notLeader(r) }
  if (s.fetchOffset < r.log.logStartOffset || s.fetchOffset > r.log.logEndOffset) {
    return {
      ...base,
      error: wireError(ErrorCode.OFFSET_OUT_OF_RANGE, `offset ${s.fetchOffset} is outside [${r.log.logStartOffset}, ${r.log.logEndOffset}]`),
    }
  }
  // Past the budget, later partitions answer empty (the client fetches them next time), except
  // the first with data, whose first batch is always sent whole so a reader makes progress.
  if (s.fetchOffset >= r.highWatermark || (!first && maxBytes <= 1)) return { ...base, error: null, records: new Uint8Array(0) }
  const buffer = lease.take()
  try {
    const read = await r.log.read(s.fetchOffset, maxBytes, { maxOffset: r.highWatermark, headroomBytes: FETCH_FRAME_HEADROOM_BYTES, buffer })
    if (buffer !== undefined && read.bytes.buffer !== buffer.buffer) lease.giveBack(buffer)
    return { ...base, error: null, records: read.bytes }
  } catch (err) {
    if (buffer !== undefined) lease.giveBack(buffer)
    return { ...base, ...failureOf(r, err) }
  }
}

/** Waits until any fetched partition's high watermark moves, the wait ends, or the connection closes. */
function waitForData(slots: Slot[], maxWaitMs: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const unsubscribes: Array<() => void> = []
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      for (const u of unsubscribes) u()
      resolve()
    }
    const timer = setTimeout(done, maxWaitMs)
    signal.addEventListener('abort', done)
    for (const s of slots) if (s.replica) unsubscribes.push(s.replica.onHighWatermark(done))
  })
}
