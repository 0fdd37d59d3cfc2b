// Ticks of an idle replica (issues 17 and 18: 1,000 idle partitions must not spend the CPU on
// ticks): a replica with no input queued or running ticks its core at once and queues a task only
// when the tick produced work; a busy one still takes its ticks in order, as a queued input.
import t from 'tap'
import type { Message } from '../../../src/raft/types.js'
import { Cluster, turn } from './cluster.js'

t.test('an idle replica is ticked at once: no task queued while the tick produces nothing', async (t) => {
  const c = await Cluster.start({ voters: 1 })
  t.teardown(() => c.stopAll())
  const r = await c.electLeader()
  for (let i = 0; i < 5; i++) await turn() // its LeaderChange flushed, nothing left to do
  t.ok(r.idle, 'idle once its LeaderChange is flushed')
  for (let i = 0; i < 100; i++) {
    void r.tick()
    if (!r.idle) break
  }
  t.ok(r.idle, 'a hundred ticks queued nothing')
})

t.test('a tick that produces work is carried out as a task: a follower whose leader went silent campaigns', async (t) => {
  const c = await Cluster.start({ voters: 3 })
  t.teardown(() => c.stopAll())
  await c.electLeader()
  const leaderId = c.leaderId()!
  const followerId = c.ids.find((id) => id !== leaderId)!
  const follower = c.get(followerId)
  const sent: Message[] = []
  c.route = (m) => {
    if (m.from === followerId) sent.push(m)
    return m.from === leaderId || m.to === leaderId ? 'drop' : 'deliver' // the leader is cut off
  }
  let ticks = 0
  while (!sent.some((m) => m.type === 'vote') && ticks < 200) {
    for (let i = 0; i < 4; i++) await turn() // idle again before the next tick
    const queued = follower.tick()
    if (!follower.idle) await queued // the tick's Ready, as a task
    ticks++
  }
  t.ok(sent.some((m) => m.type === 'vote' && m.preVote), `it asked for pre-votes after ${ticks} ticks`)
  t.ok(follower.idle, 'and went idle again')
})

t.test('ticks while an input runs wait their turn: the core is never ticked in the middle of a Ready', async (t) => {
  const c = await Cluster.start({ voters: 3 })
  t.teardown(() => c.stopAll())
  const leader = await c.electLeader()
  let last = 0
  let busyTicks = 0
  for (let i = 0; i < 20; i++) {
    const appending = c.produce(leader)
    while (!leader.idle) {
      void leader.tick() // a core ticked mid-Ready would throw here ('input between ready() and advance()')
      busyTicks++
      await turn()
    }
    last = (await appending).nextOffset
  }
  await leader.committed(last, 10_000)
  t.ok(busyTicks > 20, `${busyTicks} ticks arrived while an input was under way`)
})

t.test('an idle leader answers a parked fetch on its tick at once, without a task: that Ready needs no I/O', async (t) => {
  const c = await Cluster.start({ voters: 3 })
  t.teardown(() => c.stopAll())
  const leader = await c.electLeader()
  const leaderId = c.leaderId()!
  for (let i = 0; i < 10; i++) await c.tick() // the followers caught up: their fetches park
  const idleWhenAnswered: boolean[] = []
  c.route = (m) => {
    if (m.from === leaderId && m.type === 'fetchResponse') idleWhenAnswered.push(leader.idle)
    return 'deliver'
  }
  for (let i = 0; i < 100 && idleWhenAnswered.length < 4; i++) await c.tick() // past the parked wait
  t.ok(idleWhenAnswered.length >= 4, `${idleWhenAnswered.length} parked fetches answered when their wait ran out`)
  t.ok(idleWhenAnswered.every((idle) => idle), `each answer left inside the tick, no task queued (${idleWhenAnswered.join(', ')})`)
  t.equal(leader.highWatermark, c.get(c.ids.find((id) => id !== leaderId)!).highWatermark, 'and the followers follow')
})
