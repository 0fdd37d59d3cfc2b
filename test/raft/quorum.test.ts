import t from 'tap'
import { ProgressTracker } from '../../src/raft/progress.js'
import { majority, quorumValue, VoteTally } from '../../src/raft/quorum.js'

t.test('majority arithmetic', async (t) => {
  t.same([1, 2, 3, 4, 5].map(majority), [1, 2, 2, 3, 3])
  t.equal(quorumValue([10, 3, 7]), 7)
  t.equal(quorumValue([10, 3, 7, 1, 2]), 3)
  t.equal(quorumValue([4]), 4)
})

t.test('vote tally counts each voter once', async (t) => {
  const tally = new VoteTally(new Set([1, 2, 3, 4, 5]))
  tally.record(1, true)
  tally.record(2, true)
  tally.record(2, true) // a duplicated response
  tally.record(9, true) // not a voter
  t.notOk(tally.won())
  tally.record(3, true)
  t.ok(tally.won())
  tally.record(4, false)
  t.notOk(tally.lost())
})

t.test('the HW counts flushed offsets, capped by the fetch position', async (t) => {
  const p = new ProgressTracker(1, [1, 2, 3], 0)
  p.observe(2, 10, 4, 1)
  p.observe(3, 8, 8, 1)
  t.equal(p.quorumOffset(10, 12, {}), 8, 'leader 10, n2 4, n3 8')
  t.equal(p.quorumOffset(10, 12, { countFetchPosition: true }), 10, 'the bug switch counts fetch positions')
  p.observe(2, 3, 9, 2) // a flushed offset beyond the fetch position is clamped
  t.equal(p.quorumOffset(10, 12, {}), 8)
  t.ok(p.observe(7, 0, 0, 2), 'an observer is tracked')
  t.equal(p.quorumOffset(0, 0, {}), 3, 'observers do not count toward the HW')
})

t.test('check-quorum', async (t) => {
  const p = new ProgressTracker(1, [1, 2, 3], 0)
  t.ok(p.heardFromMajority(5, 10), 'grace period from the election')
  t.notOk(p.heardFromMajority(10, 10))
  p.observe(3, 0, 0, 9)
  t.ok(p.heardFromMajority(10, 10))
  t.same(p.votersNotFetched(), [2])
})

t.test('voter changes: progress survives, a removed leader stops counting itself', async (t) => {
  const p = new ProgressTracker(1, [1, 2, 3], 0)
  p.observe(2, 10, 10, 1)
  p.observe(3, 6, 6, 1)
  p.observe(4, 9, 9, 1) // an observer catching up
  t.equal(p.quorumOffset(10, 10, {}), 10, 'n1 10, n2 10, n3 6')
  p.setVoters([1, 2, 3, 4], 2)
  t.equal(p.quorumOffset(10, 10, {}), 9, 'n4 keeps its progress as a voter: 3 of 4 at 9')
  p.setVoters([2, 3, 4], 3)
  t.equal(p.quorumOffset(100, 100, {}), 9, 'the leader no longer counts: n2 10, n4 9, n3 6')
  t.same(p.successors(), [2, 4, 3])
  p.setVoters([2, 4], 4)
  t.ok(p.observe(3, 12, 12, 4), 'a removed voter goes on fetching as an observer')
  t.equal(p.quorumOffset(100, 100, {}), 9, 'n2 10, n4 9')
  t.equal(p.quorumOffset(100, 100, { countRemovedVoter: true }), 10, 'the bug switch still counts n3')
  t.ok(p.heardFromMajority(5, 10))
  t.notOk(p.heardFromMajority(11, 10), 'check-quorum over n2 and n4 only')
  t.ok(p.recentlyHeard(4, 5, 10))
  t.notOk(p.recentlyHeard(5, 5, 10), 'never fetched')
})
