// What ISR needs of the leader's progress tracker: each replica's flushed offset, and when its
// flush last reached the leader's log end (Kafka's replica.lag.time.max.ms rule), in ticks.
import t from 'tap'
import { CATCH_UP_SAMPLES_MAX } from '../../src/raft/limits.js'
import { ProgressTracker } from '../../src/raft/progress.js'

const progressOf = (p: ProgressTracker, id: number, now: number) => p.replicaProgress(now).find((r) => r.id === id && r.voter)!

t.test('a voter that has not fetched counts as caught up at the election (grace), then ages', async (t) => {
  const p = new ProgressTracker(1, [1, 2, 3], {}, true, 100)
  t.match(progressOf(p, 2, 100), { fetchOffset: -1, flushedOffset: -1, ticksSinceCaughtUp: 0 })
  t.equal(progressOf(p, 3, 160).ticksSinceCaughtUp, 60, 'no fetch: the grace only ages')
})

t.test('a flush that reaches the leader log end is caught up now', async (t) => {
  const p = new ProgressTracker(1, [1, 2, 3], {}, true, 0)
  p.observe(2, undefined, 50, 50, 10, 50)
  t.match(progressOf(p, 2, 10), { fetchOffset: 50, flushedOffset: 50, ticksSinceCaughtUp: 0 })
  p.observe(2, undefined, 50, 40, 20, 50)
  t.equal(progressOf(p, 2, 20).ticksSinceCaughtUp, 10, 'a flush behind the log end keeps the last catch-up')
  t.equal(progressOf(p, 2, 20).flushedOffset, 40)
})

t.test('under steady load a follower whose flush trails by a fetch keeps up', async (t) => {
  const p = new ProgressTracker(1, [1, 2, 3], {}, true, 0)
  // The leader's log end grows 10 per tick; the follower fetches every tick what it was sent
  // last time and has flushed what it fetched the time before: never at the log end itself.
  for (let tick = 1; tick <= 100; tick++) {
    const leaderLogEnd = 10 * tick
    p.observe(2, undefined, 10 * (tick - 1), Math.max(0, 10 * (tick - 2)), tick, leaderLogEnd)
  }
  t.ok(progressOf(p, 2, 100).ticksSinceCaughtUp <= 3, `caught up a few ticks ago (${progressOf(p, 2, 100).ticksSinceCaughtUp})`)
})

t.test('a follower that falls ever further behind stops being caught up', async (t) => {
  const p = new ProgressTracker(1, [1, 2, 3], {}, true, 0)
  p.observe(2, undefined, 0, 0, 0, 0)
  // It flushes 1 per tick while the leader appends 10 per tick.
  for (let tick = 1; tick <= 100; tick++) p.observe(2, undefined, tick, tick, tick, 10 * tick)
  t.ok(progressOf(p, 2, 100).ticksSinceCaughtUp >= 90, `last caught up long ago (${progressOf(p, 2, 100).ticksSinceCaughtUp} ticks)`)
})

t.test('one more than CATCH_UP_SAMPLES_MAX fetches behind is not keeping up', async (t) => {
  const p = new ProgressTracker(1, [1, 2], {}, true, 0)
  const lag = CATCH_UP_SAMPLES_MAX + 1
  for (let tick = 1; tick <= 200; tick++) p.observe(2, undefined, 10 * Math.max(0, tick - lag), 10 * Math.max(0, tick - lag), tick, 10 * tick)
  t.ok(progressOf(p, 2, 200).ticksSinceCaughtUp > 100, 'its grace and early catch-ups have aged')
})

t.test('a diverging fetch (no leader log end) says nothing of keeping up; an observer starts never caught up', async (t) => {
  const p = new ProgressTracker(1, [1, 2], {}, true, 0)
  p.observe(2, undefined, 0, 0, 30)
  t.equal(progressOf(p, 2, 30).ticksSinceCaughtUp, 30, 'still the grace of the election at tick 0')
  p.observe(4, undefined, 5, 5, 30, 100)
  t.equal(p.replicaProgress(30).find((r) => r.id === 4)!.ticksSinceCaughtUp, -1)
  p.observe(4, undefined, 100, 100, 31, 100)
  t.equal(p.replicaProgress(31).find((r) => r.id === 4)!.ticksSinceCaughtUp, 0)
})
