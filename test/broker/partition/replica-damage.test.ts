// Damage in the replica shell (log-damage.ts, src/raft/damage.ts) with three real replicas in one
// process on simulated disks: a flipped byte in a closed segment is found by the check before a
// campaign (the scrub held at zero); the replica truncates, refuses to lead until it has
// re-fetched the range, and ends byte for byte the leader's.
import t from 'tap'
import { PartitionReplica } from '../../../src/broker/partition/replica.js'
import { DAMAGE_FILE, ScrubBudget } from '../../../src/broker/partition/log-damage.js'
import type { NodeId } from '../../../src/raft/types.js'
import { Cluster } from './cluster.js'

async function start(t: { teardown(fn: () => unknown): void }): Promise<Cluster> {
  const c = await Cluster.start({ voters: 3 })
  t.teardown(() => c.stopAll())
  return c
}

/** Flips a byte inside the first batch of node `id`'s second segment (closed); returns that segment's base offset. */
function flipInClosedSegment(c: Cluster, id: NodeId): number {
  const fs = c.disks.get(id)!.session()
  const logs = fs.list(c.dir(id)).filter((n) => n.endsWith('.log')).sort()
  if (logs.length < 3) throw new Error(`only ${logs.length} segments`)
  const h = fs.open(`${c.dir(id)}/${logs[1]}`, { create: false })
  const b = new Uint8Array(1)
  h.read(b, 64) // inside the records section (the batch header is 61 bytes)
  b[0] ^= 0x5a
  h.write(b, 64)
  h.close()
  return Number(logs[1].slice(0, 20))
}

/** Produces until every replica holds several segments, committed everywhere. */
async function fill(c: Cluster): Promise<PartitionReplica> {
  const leader = await c.electLeader()
  let end = 0
  for (let i = 0; i < 40; i++) end = (await c.produce(leader, 3, null, 'x'.repeat(40))).nextOffset
  await leader.committed(end, 10_000)
  await c.until('every replica caught up', () => c.ids.every((id) => c.get(id).log.logEndOffset === leader.log.logEndOffset))
  return leader
}

t.test('found by the check before a campaign: a transfer to the damaged replica is refused until it has re-fetched the range', async (t) => {
  const c = await start(t)
  const leader = await fill(c)
  const leaderId = c.leaderId()!
  const damagedId = c.ids.find((id) => id !== leaderId)!
  await c.stop(damagedId)
  const flippedAt = flipInClosedSegment(c, damagedId)
  // Reopened with the scrub held at zero: only the check before a campaign can find the damage.
  const reopened = await PartitionReplica.open({ ...c.replicaOptions(damagedId), scrubBudget: new ScrubBudget(0) })
  c.replicas.set(damagedId, reopened)
  t.match(reopened.damage(), { rangesFound: 0, damagedUntil: null, unverified: true }, 'opened unverified, nothing found yet')
  const ledWhileDamaged: number[] = []
  reopened.onLeadershipChange((l) => {
    if (l.role === 'leader' && reopened.damage().damagedUntil !== null) ledWhileDamaged.push(l.epoch)
  })
  await c.until('the damaged replica to have caught up', () => reopened.log.logEndOffset === leader.log.logEndOffset)

  t.match(await leader.transferLeadership(damagedId), { ok: true })
  await c.until('the damage to be found', () => reopened.damage().rangesFound === 1)
  const warn = c.logs.get(damagedId)!.lines.find((l) => l.msg.startsWith('damaged log: truncating'))
  t.match(warn?.fields, { startOffset: flippedAt, reason: /CRC/ }, 'one warning naming the range')
  t.ok(c.disks.get(damagedId)!.session().exists(`${c.dir(damagedId)}/${DAMAGE_FILE}`) || reopened.damage().damagedUntil === null, 'the repair bar is on disk while damaged')
  await c.until('a leader that is not the damaged replica', () => c.leader() !== undefined && c.leaderId() !== damagedId && c.leader()!.leaderReady)
  await c.until('the damaged replica to be repaired', () => reopened.damage().damagedUntil === null)
  t.notOk(c.disks.get(damagedId)!.session().exists(`${c.dir(damagedId)}/${DAMAGE_FILE}`), 'the repair bar is gone once repaired')
  const now = c.leader()!
  await c.until('caught up again', () => reopened.log.logEndOffset === now.log.logEndOffset)
  t.same(await c.bytes(damagedId, 0), await c.bytes(c.leaderId()!, 0), 'byte for byte the leader\'s log')
  t.same(reopened.log.unreadableRanges(), [], 'no damaged range left')

  t.match(await now.transferLeadership(damagedId), { ok: true })
  await c.until('the repaired replica to lead', () => c.leaderId() === damagedId && reopened.leaderReady)
  t.same(ledWhileDamaged, [], 'it never led while damaged')
  t.equal(c.logs.get(damagedId)!.lines.filter((l) => l.msg.startsWith('damaged log: truncating')).length, 1, 'the damage was logged once')
})

t.test('a replica restarted before its repair still refuses to vote: the bar is on disk (damaged.json)', async (t) => {
  const c = await start(t)
  const leader = await fill(c)
  const leaderId = c.leaderId()!
  const damagedId = c.ids.find((id) => id !== leaderId)!
  await c.stop(damagedId)
  const flippedAt = flipInClosedSegment(c, damagedId)
  const end = leader.log.logEndOffset
  // Nothing reaches the damaged replica from the leader: it cannot re-fetch, so it stays damaged.
  c.route = (m) => (m.from === leaderId && m.to === damagedId ? 'drop' : 'deliver')
  const first = await PartitionReplica.open(c.replicaOptions(damagedId))
  c.replicas.set(damagedId, first)
  await c.until('the scrub to find the damage and truncate', () => first.damage().damagedUntil !== null && first.idle)
  t.equal(first.damage().damagedUntil, end, 'damaged until the old log end')
  t.equal(first.log.logEndOffset, flippedAt, 'truncated to the last good batch')
  await c.stop(damagedId)

  const again = await PartitionReplica.open(c.replicaOptions(damagedId))
  c.replicas.set(damagedId, again)
  t.equal(again.damage().damagedUntil, end, 'still damaged after a restart')
  t.equal(again.status().damagedUntil, end, 'and the core knows it')
  c.route = () => 'deliver'
  await c.until('repaired once the leader is heard', () => again.damage().damagedUntil === null && again.log.logEndOffset === c.leader()?.log.logEndOffset)
  t.notOk(c.disks.get(damagedId)!.session().exists(`${c.dir(damagedId)}/${DAMAGE_FILE}`), 'the bar is removed once repaired')
  t.same(await c.bytes(damagedId, 0), await c.bytes(c.leaderId()!, 0), 'byte for byte the leader\'s log')
})
