// Fetch: stored batches returned exactly as stored, below the high watermark, with long-poll
// (max_wait_ms / min_bytes). A fetch between the high watermark and the log end is empty,
// never OFFSET_OUT_OF_RANGE (KIP-207): after a failover the new leader's HW may trail.
// A fetch that names the leader epoch its client knows is fenced by it (leader-epoch.ts).
// Each partition's batches are read with free room before them in a buffer of their own
// (borrowed from the broker's pool through `lease`), so the response frame can be written in
// front of the last partition's instead of copying them; the caller releases the lease once
// the response is sent.
// Chained fetches (fetch-chains.ts): a partition fetched with after_previous reads from where
// the connection's previous fetch of it ended, once that one has read; its answer says where
// it started (fetched_from).
import { bitacora, ErrorCode, FETCH_FRAME_HEADROOM_BYTES, wireError } from '../../protocol/index.js'
import type { BrokerLimits } from '../limits.js'
import type { ReadLease } from '../partition/read-buffers.js'
import type { PartitionLookup } from '../partition/replica-manager.js'
import type { PartitionReplica } from '../partition/replica.js'
import type { FetchChains } from './fetch-chains.js'
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
  /** Read from where the connection's previous fetch of the partition ended (fetch-chains.ts). */
  afterPrevious: boolean
}

/** One partition's answer, and the offset after it (where a fetch chained after it starts). */
interface PartitionRead {
  data: PartitionData
  /** null when the answer is an error. */
  end: number | null
}

export async function fetch(
  deps: FetchDeps, req: bitacora.IFetchRequest, signal: AbortSignal, lease: ReadLease, chains?: FetchChains,
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
      afterPrevious: p.afterPrevious === true,
    })),
  )
  // Joined now, before the first await: a connection's fetches chain in arrival order.
  const links = chains !== undefined && (req.chainable || slots.some((s) => s.afterPrevious))
    ? slots.map((s) => chains.join(s.topic, s.index, s.afterPrevious, s.fetchOffset))
    : []
  let result: Awaited<ReturnType<typeof readAll>> | undefined
  try {
    for (let i = 0; i < links.length; i++) slots[i].fetchOffset = await links[i].start
    result = await readAll(slots, maxBytes, lease)
    if (result.bytes < Math.max(minBytes, 1) && maxWaitMs > 0 && !result.failed) {
      lease.release() // the first round's reads are discarded: their buffers go back while this fetch waits
      await waitForData(slots, maxWaitMs, signal)
      result = await readAll(slots, maxBytes, lease)
    }
  } finally {
    links.forEach((link, i) => link.settle(result?.partitions[i].end ?? null))
  }
  const byTopic = new Map<string, PartitionData[]>()
  slots.forEach((s, i) => {
    const list = byTopic.get(s.topic) ?? []
    const data = result!.partitions[i].data
    list.push(links.length > 0 ? { ...data, fetchedFrom: s.fetchOffset } : data)
    byTopic.set(s.topic, list)
  })
  return { topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })) }
}

async function readAll(slots: Slot[], maxBytes: number, lease: ReadLease): Promise<{ partitions: PartitionRead[]; bytes: number; failed: boolean }> {
  let budget = maxBytes
  let bytes = 0
  let failed = false
  const partitions: PartitionRead[] = []
  for (const s of slots) {
    const read = await readPartition(s, Math.max(1, Math.min(s.maxBytes, budget)), bytes === 0, lease)
    if (read.data.error) failed = true
    const n = read.data.records?.length ?? 0
    bytes += n
    budget -= n
    partitions.push(read)
  }
  return { partitions, bytes, failed }
}

async function readPartition(s: Slot, maxBytes: number, first: boolean, lease: ReadLease): Promise<PartitionRead> {
  const r = s.replica
  if (!r) return { data: { index: s.index, error: wireError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `no partition ${s.topic}-${s.index} on this broker`) }, end: null }
  const base = { index: s.index, highWatermark: r.highWatermark, logStartOffset: r.log.logStartOffset }
  const fenced = fenceByEpoch(r, s.currentLeaderEpoch)
  if (fenced) return { data: { ...base, ...fenced }, end: null }
  if (!r.isLeader) return { data: { ...base, ...notLeader(r) }, end: null }
  if (s.fetchOffset < r.log.logStartOffset || s.fetchOffset > r.log.logEndOffset) {
    const error = wireError(ErrorCode.OFFSET_OUT_OF_RANGE, `offset ${s.fetchOffset} is outside [${r.log.logStartOffset}, ${r.log.logEndOffset}]`)
    return { data: { ...base, error }, end: null }
  }
  // Past the budget, later partitions answer empty (the client fetches them next time), except
  // the first with data, whose first batch is always sent whole so a reader makes progress.
  const empty = { data: { ...base, error: null, records: new Uint8Array(0) }, end: s.fetchOffset }
  if (s.fetchOffset >= r.highWatermark || (!first && maxBytes <= 1)) return empty
  const buffer = lease.take()
  try {
    const read = await r.log.read(s.fetchOffset, maxBytes, { maxOffset: r.highWatermark, headroomBytes: FETCH_FRAME_HEADROOM_BYTES, buffer })
    if (buffer !== undefined && read.bytes.buffer !== buffer.buffer) lease.giveBack(buffer)
    if (read.bytes.length === 0) return empty
    return { data: { ...base, error: null, records: read.bytes }, end: read.nextOffset }
  } catch (err) {
    if (buffer !== undefined) lease.giveBack(buffer)
    return { data: { ...base, ...failureOf(r, err) }, end: null }
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
