// PartitionReplica.setFenced, the broker's switch for a lease that expired (issue 17): a fenced
// replica leads nothing and campaigns for nothing, yet votes, fetches and follows; the fence
// outlives a reopen from disk; unfencing a lone voter makes it lead again at once.
import t from 'tap'
import { PartitionReplica } from '../../../src/broker/partition/replica.js'
import { Cluster } from './cluster.js'

t.test('a fenced leader resigns; it follows and votes, but never leads, even across a reopen', async (t) => {
  const c = await Cluster.start({ voters: 3 })
  t.teardown(() => c.stopAll())
  const first = await c.electLeader()
  const fencedId = c.leaderId()!
  let ledWhileFenced = false
  first.onHighWatermark(() => {
    if (first.isLeader && first.status().fenced) ledWhileFenced = true
  })
  await first.setFenced(true)
  t.notOk(first.isLeader, 'it resigned at once')
  const second = await c.electLeader()
  t.not(c.leaderId(), fencedId)

  // It follows: its next append fails, it reopens from disk, and it is still fenced.
  c.files.get(fencedId)!.failNext = { op: 'write', path: /\.log$/ }
  let last = 0
  for (let i = 0; i < 3; i++) last = (await c.produce(second)).nextOffset
  await second.committed(last, 10_000)
  await c.until('the fenced replica caught up', () => first.log.logEndOffset === second.log.logEndOffset)
  t.match(c.logs.get(fencedId)!.lines, [{ msg: /reopen/ }], 'it reopened from disk meanwhile')
  t.ok(first.status().fenced, 'the fence outlived the reopen')

  // The leader goes: of the two left, only the unfenced one may lead, with the fenced one's vote.
  await c.stop(c.leaderId()!)
  const third = await c.electLeader()
  const thirdId = c.leaderId()!
  t.not(thirdId, fencedId)
  await third.committed((await c.produce(third)).nextOffset, 10_000)
  t.pass('the group commits with the fenced replica as the second of two')
  for (let i = 0; i < 200; i++) {
    await c.tick()
    if (first.isLeader) break
  }
  t.notOk(first.isLeader || ledWhileFenced, 'the fenced replica never led')
})

t.test('a lone voter: fenced, it gives up leading; opened fenced, it waits; unfenced, it leads at once', async (t) => {
  const c = await Cluster.start({ voters: 1 })
  t.teardown(() => c.stopAll())
  const r = await c.electLeader()
  await r.setFenced(true)
  t.notOk(r.isLeader, 'it resigned at once')
  for (let i = 0; i < 100; i++) await c.tick()
  t.notOk(r.isLeader, 'no campaign while fenced')
  await r.setFenced(false)
  t.ok(r.isLeader, 'unfenced, it campaigned at once')

  c.crash(1, false)
  const reopened = await PartitionReplica.open({ ...c.replicaOptions(1), fenced: true })
  c.replicas.set(1, reopened)
  for (let i = 0; i < 100; i++) await c.tick()
  t.notOk(reopened.isLeader, 'opened fenced, it did not campaign')
  await reopened.setFenced(false)
  t.ok(reopened.isLeader, 'unfenced, it campaigned at once')
})
