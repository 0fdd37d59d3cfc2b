// Idempotent producers on real replicas replicating in one process: the leader's sequence checks
// over the producer state every replica folds from its log, across failover and truncation.
import t from 'tap'
import { readBatchHeader, splitBatches } from '../../../src/codec/index.js'
import { ErrorCode } from '../../../src/protocol/index.js'
import type { PartitionReplica } from '../../../src/broker/partition/replica.js'
import type { ProducerBatchHeader } from '../../../src/broker/partition/producer-state.js'
import { ReplicaError } from '../../../src/broker/partition/replica-error.js'
import { snapshotEnds, snapshotFileName } from '../../../src/broker/partition/producer-state-snapshot.js'
import { Cluster, codec } from './cluster.js'

function start(t: { teardown(fn: () => unknown): void }, ...args: Parameters<typeof Cluster.start>): Promise<Cluster> {
  return Cluster.start(...args).then((c) => {
    t.teardown(() => c.stopAll())
    return c
  })
}

/** One producer batch of `count` records (values tagged), as a client would encode it. */
function producerBatch(producerId: number, producerEpoch: number, baseSequence: number, count = 1, tag = 'v'): Uint8Array {
  const records = Array.from({ length: count }, (_, i) => ({ value: new TextEncoder().encode(`${tag}-${baseSequence + i}`), timestamp: 1_700_000_000_000 }))
  return codec.encodeBatch(records, { producerId, producerEpoch, baseSequence })
}

/** appendProduced as the produce handler calls it, on a copy (the leader stamps offsets in place; a retry resends the client's bytes). */
function append(leader: PartitionReplica, ...batches: Uint8Array[]) {
  const bytes = Buffer.concat(batches)
  const ranges = splitBatches(bytes)
  const headers: ProducerBatchHeader[] = ranges.map(([start]) => {
    const h = readBatchHeader(bytes, start)
    return { ...h, recordCount: h.lastOffsetDelta + 1 }
  })
  return leader.appendProduced(bytes, ranges, headers)
}

const refusal = (p: Promise<unknown>) => p.then(() => 'accepted', (err: unknown) => (err instanceof ReplicaError ? ErrorCode[err.code] : String(err)))

/** The values of every record in node `id`'s log from `from`. */
async function values(c: Cluster, id: number, from = 0): Promise<string[]> {
  const bytes = await c.bytes(id, from)
  const out: string[] = []
  for (const [s, e] of splitBatches(bytes)) {
    const b = codec.decodeBatch(bytes.subarray(s, e))
    if (b.header.control) continue
    for (const r of b.records) out.push(new TextDecoder().decode(r.value!))
  }
  return out
}

t.test('a retried batch gets its original offsets and is not written again; gaps and old epochs are refused', async (t) => {
  const c = await start(t, { voters: 1 })
  const leader = await c.electLeader()
  const first = await append(leader, producerBatch(5, 0, 0, 3))
  const second = await append(leader, producerBatch(5, 0, 3, 2))
  const retry = await append(leader, producerBatch(5, 0, 3, 2))
  t.same(retry.batchBaseOffsets, second.batchBaseOffsets, 'the retry answers with the original offsets')
  t.equal(retry.appendedNow, false)
  const both = await append(leader, producerBatch(5, 0, 0, 3), producerBatch(5, 0, 3, 2), producerBatch(5, 0, 5, 1))
  t.same(both.batchBaseOffsets, [first.batchBaseOffsets[0], second.batchBaseOffsets[0], second.nextOffset], 'duplicates then a new batch in one entry')
  t.same(await values(c, 1), ['v-0', 'v-1', 'v-2', 'v-3', 'v-4', 'v-5'], 'one copy of each record')
  const end = leader.log.logEndOffset
  t.equal(await refusal(append(leader, producerBatch(5, 0, 7))), 'OUT_OF_ORDER_SEQUENCE_NUMBER')
  t.equal(await refusal(append(leader, producerBatch(6, 0, 4))), 'UNKNOWN_PRODUCER_ID')
  t.equal(await refusal(append(leader, producerBatch(5, 0, 6), producerBatch(6, 0, 0))), 'INVALID_RECORD', 'batches of two producers in one entry')
  await append(leader, producerBatch(5, 1, 0))
  t.equal(await refusal(append(leader, producerBatch(5, 0, 6))), 'INVALID_PRODUCER_EPOCH')
  t.equal(leader.log.logEndOffset, end + 1, 'nothing refused was appended')
})

t.test('a new leader knows the batches its predecessor wrote: a retry there is a duplicate', async (t) => {
  const c = await start(t, { voters: 3 })
  const leader = await c.electLeader()
  const oldId = c.leaderId()!
  const written = await append(leader, producerBatch(9, 0, 0, 4))
  await append(leader, producerBatch(9, 0, 4, 1))
  await leader.committed(leader.log.logEndOffset, 10_000)
  await c.until('every replica has the batches', () => c.ids.every((id) => c.get(id).log.logEndOffset === leader.log.logEndOffset))
  await c.stop(oldId)
  await c.until('a new leader', () => c.leader() !== undefined && c.leader()!.leaderReady)
  const next = c.leader()!
  const retry = await append(next, producerBatch(9, 0, 0, 4))
  t.same(retry.batchBaseOffsets, written.batchBaseOffsets, 'the original offsets')
  await next.duplicateCommitted(retry, 10_000)
  const more = await append(next, producerBatch(9, 0, 5, 1))
  t.equal(more.appendedNow, true, 'the sequence goes on where the old leader left it')
  t.equal(await refusal(append(next, producerBatch(9, 0, 7))), 'OUT_OF_ORDER_SEQUENCE_NUMBER')
})

t.test('a truncated tail leaves the producer state: the old leader, back in charge, answers a retry with the offsets its log holds now', async (t) => {
  const c = await start(t, { voters: 3 })
  const leader = await c.electLeader()
  const oldId = c.leaderId()!
  await append(leader, producerBatch(4, 0, 0, 2, 'a'))
  await leader.committed(leader.log.logEndOffset, 10_000)
  await c.until('every replica has it', () => c.ids.every((id) => c.get(id).log.logEndOffset === leader.log.logEndOffset))
  // Cut off, the old leader takes sequence 2 (never committed); the others elect a leader that gets it again, after another producer's batch.
  c.isolate(oldId)
  const lost = await append(leader, producerBatch(4, 0, 2, 1, 'a'))
  await c.until('a new leader among the others', () => c.ids.some((id) => id !== oldId && c.get(id).leaderReady))
  const nextId = c.ids.find((id) => id !== oldId && c.get(id).leaderReady)!
  const next = c.get(nextId)
  await append(next, producerBatch(8, 0, 0, 3, 'b'))
  const kept = await append(next, producerBatch(4, 0, 2, 1, 'a'))
  t.not(kept.batchBaseOffsets[0], lost.batchBaseOffsets[0], 'the new leader wrote it elsewhere')
  await next.committed(kept.nextOffset, 10_000)
  c.isolate(oldId, false)
  await c.until('the old leader truncated and caught up', () => c.get(oldId).log.logEndOffset === next.log.logEndOffset && !c.get(oldId).isLeader)
  const transfer = await next.transferLeadership(oldId)
  t.ok(transfer, 'leadership handed back')
  await c.until('the old leader leads again', () => c.get(oldId).leaderReady)
  const back = c.get(oldId)
  const retry = await append(back, producerBatch(4, 0, 2, 1, 'a'))
  t.same(retry.batchBaseOffsets, kept.batchBaseOffsets, 'the offsets of the copy that survived, not of the truncated one')
  t.same((await append(back, producerBatch(8, 0, 0, 3, 'b'))).batchBaseOffsets.length, 1)
  t.equal((await append(back, producerBatch(4, 0, 3, 1, 'a'))).appendedNow, true)
  t.same((await values(c, oldId)).filter((v) => v.startsWith('a-')), ['a-0', 'a-1', 'a-2', 'a-3'], 'each record once')
})

t.test('a producer idle past producer.id.expiration.ms is forgotten (UNKNOWN_PRODUCER_ID), then starts again at 0', async (t) => {
  const c = await start(t, { voters: 1, producerIdExpirationMs: 50 })
  const leader = await c.electLeader()
  await append(leader, producerBatch(3, 0, 0, 2))
  t.equal((await append(leader, producerBatch(3, 0, 2))).appendedNow, true)
  await new Promise((resolve) => setTimeout(resolve, 120))
  t.equal(await refusal(append(leader, producerBatch(3, 0, 3))), 'UNKNOWN_PRODUCER_ID')
  t.equal((await append(leader, producerBatch(3, 1, 0))).appendedNow, true, 'a bumped epoch starting at 0 is taken')
})

t.test('a reopened replica rebuilds the state from its log', async (t) => {
  const c = await start(t, { voters: 1 })
  const leader = await c.electLeader()
  const first = await append(leader, producerBatch(2, 0, 0, 3))
  await leader.committed(first.nextOffset, 10_000)
  await c.stop(1)
  await c.open(1)
  const again = await c.electLeader()
  const retry = await append(again, producerBatch(2, 0, 0, 3))
  t.same(retry.batchBaseOffsets, first.batchBaseOffsets)
  t.equal(retry.appendedNow, false)
})

t.test('a clean close leaves the producer state beside the log, named by its offset; the next open takes it instead of reading the log', async (t) => {
  const c = await start(t, { voters: 1 })
  const leader = await c.electLeader()
  const first = await append(leader, producerBatch(2, 0, 0, 3))
  await leader.committed(first.nextOffset, 10_000)
  await c.stop(1)
  const disk = c.disks.get(1)!.session()
  t.same(snapshotEnds(disk, c.dir(1)), [first.nextOffset], 'written at the clean close, at the log end')
  const reads: number[] = []
  await c.open(1)
  const again = await c.electLeader()
  const log = again.log
  const read = log.read.bind(log)
  log.read = (from, max, o) => {
    reads.push(from)
    return read(from, max, o)
  }
  const retry = await append(again, producerBatch(2, 0, 0, 3))
  t.same(retry.batchBaseOffsets, first.batchBaseOffsets, 'still a duplicate')
  t.same(reads.filter((from) => from < first.nextOffset), [], 'the log below the snapshot was not read')
  t.equal((await append(again, producerBatch(2, 0, 3, 1))).appendedNow, true)
})

t.test('a damaged producer state snapshot is ignored: the state is folded from the log', async (t) => {
  const c = await start(t, { voters: 1 })
  const leader = await c.electLeader()
  const first = await append(leader, producerBatch(2, 0, 0, 3))
  await leader.committed(first.nextOffset, 10_000)
  await c.stop(1)
  const disk = c.disks.get(1)!.session()
  const path = `${c.dir(1)}/${snapshotFileName(first.nextOffset)}`
  const h = disk.open(path, { create: false })
  h.write(new TextEncoder().encode('9'), 30)
  h.close()
  await c.open(1)
  const again = await c.electLeader()
  t.same((await append(again, producerBatch(2, 0, 0, 3))).batchBaseOffsets, first.batchBaseOffsets)
  t.match(c.logs.get(1)!.lines, [{ msg: /ignoring a damaged producer state snapshot/ }])
})

t.test('snapshots at segment rolls, on the leader and the followers, at most 2 kept; after a crash only the log past the newest is read', async (t) => {
  const c = await start(t, { voters: 3 })
  const leader = await c.electLeader()
  const leaderId = c.leaderId()!
  const written: Array<{ batchBaseOffsets: number[]; nextOffset: number }> = []
  // 1 KiB segments (the harness's): 40 batches of 3 records roll every node's log several times.
  let n = 0
  for (; n < 40; n++) written.push(await append(leader, producerBatch(5, 0, 3 * n, 3)))
  // A tail past the newest snapshot (taken after the first batch of a segment), for the crash to leave.
  while (leader.log.logEndOffset - leader.log.activeSegmentBaseOffset < 6) written.push(await append(leader, producerBatch(5, 0, 3 * n++, 3)))
  const last = written[written.length - 1]
  await leader.committed(last.nextOffset, 10_000)
  await c.until('every node has appended the last batch', () => c.ids.every((id) => c.get(id).log.logEndOffset >= last.nextOffset))
  // Snapshots are written in the background: wait for each node's one of its last roll.
  const deadline = Date.now() + 10_000
  const newestOf = (id: number) => snapshotEnds(c.disks.get(id)!.session(), c.dir(id))[0]
  while (Date.now() < deadline && !c.ids.every((id) => newestOf(id) === c.get(id).log.activeSegmentBaseOffset + 3)) await new Promise((resolve) => setTimeout(resolve, 10))
  for (const id of c.ids) {
    const ends = snapshotEnds(c.disks.get(id)!.session(), c.dir(id))
    t.equal(ends.length, 2, `node ${id} (${id === leaderId ? 'leader' : 'follower'}) keeps 2 snapshots`)
    t.ok(ends.every((e) => e > 0 && e <= last.nextOffset), `node ${id}'s snapshots lie inside its log`)
  }
  const newest = snapshotEnds(c.disks.get(leaderId)!.session(), c.dir(leaderId))[0]
  c.crash(leaderId, false)
  const reopened = await c.open(leaderId)
  const reads: number[] = []
  const log = reopened.log
  const read = log.read.bind(log)
  log.read = (from, max, o) => {
    reads.push(from)
    return read(from, max, o)
  }
  const opened = c.logs.get(leaderId)!.lines.filter((l) => /producer state from a snapshot/.test(String(l.msg)))
  t.same(opened.map((l) => l.fields.snapshotEnd), [newest], 'the newest snapshot was taken at open, the log past it to be folded')
  await c.until('a leader again', () => c.leader() !== undefined)
  const again = c.leader()!
  const retry = await append(again, producerBatch(5, 0, 3 * (n - 1), 3))
  t.same(retry.batchBaseOffsets, last.batchBaseOffsets, 'the last batch is still a duplicate after the crash')
  if (again === reopened) t.same(reads.filter((from) => from < newest), [], 'the log below the newest snapshot was not read')
})
