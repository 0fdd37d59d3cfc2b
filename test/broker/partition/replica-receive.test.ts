// Messages to an idle replica (issue 18: 1,000 idle RF=3 partitions, each leader taking two
// follower fetches a second): one that produces no work — a caught-up follower's fetch, parked
// at the leader — is handled here and now, with no task queued; one that does is carried out as
// a task, in order, as before.
import t from 'tap'
import type { Message } from '../../../src/raft/types.js'
import { Cluster, turn } from './cluster.js'

t.test('an idle leader parks a caught-up follower\'s fetch without queueing a task, and still answers it', async (t) => {
  const c = await Cluster.start({ voters: 3 })
  t.teardown(() => c.stopAll())
  const leader = await c.electLeader()
  const leaderId = c.leaderId()!
  await c.until('every follower caught up with the leader', () => c.ids.every((id) => c.get(id).status().logEnd === leader.status().logEnd && c.get(id).highWatermark === leader.highWatermark))
  c.route = (m) => (m.to === leaderId && m.type === 'fetch' ? 'hold' : 'deliver')
  await c.until('a follower\'s next fetch', () => c.held.length > 0)
  for (let i = 0; i < 5; i++) await turn()
  t.ok(leader.idle, 'the leader is idle')
  const fetch: Message = c.held.shift()!
  c.route = () => 'deliver'
  c.held.length = 0
  const sent: Message[] = []
  const send = c.send.bind(c)
  c.send = (m) => {
    if (m.from === leaderId && m.to === fetch.from && m.type === 'fetchResponse') sent.push(m)
    send(m)
  }
  void leader.receive(fetch)
  t.ok(leader.idle, 'parked at once: no task queued')
  await c.until('the parked fetch answered when its wait runs out', () => sent.length > 0)
  t.equal(sent[0].type, 'fetchResponse')
})
