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
