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
  const p = new ProgressTracker(1, [1, 2, 3], {}, true, 0)
  p.observe(2, undefined, 10, 4, 1)
  p.observe(3, undefined, 8, 8, 1)
  t.equal(p.quorumOffset(10, 12, {}), 8, 'leader 10, n2 4, n3 8')
  t.equal(p.quorumOffset(10, 12, { countFetchPosition: true }), 10, 'the bug switch counts fetch positions')
  p.observe(2, undefined, 3, 9, 2) // a flushed offset beyond the fetch position is clamped
  t.equal(p.quorumOffset(10, 12, {}), 8)
  t.ok(p.observe(7, undefined, 0, 0, 2), 'an observer is tracked')
  t.equal(p.quorumOffset(0, 0, {}), 3, 'observers do not count toward the HW')
})

t.test('check-quorum', async (t) => {
  const p = new ProgressTracker(1, [1, 2, 3], {}, true, 0)
  t.ok(p.heardFromMajority(5, 10), 'grace period from the election')
  t.notOk(p.heardFromMajority(10, 10))
  p.observe(3, undefined, 0, 0, 9)
  t.ok(p.heardFromMajority(10, 10))
  t.same(p.votersNotFetched(), [2])
})

t.test('voter changes: progress survives, a removed leader stops counting itself', async (t) => {
  const p = new ProgressTracker(1, [1, 2, 3], {}, true, 0)
  p.observe(2, undefined, 10, 10, 1)
  p.observe(3, undefined, 6, 6, 1)
  p.observe(4, undefined, 9, 9, 1) // an observer catching up
  t.equal(p.quorumOffset(10, 10, {}), 10, 'n1 10, n2 10, n3 6')
  p.setVoters([1, 2, 3, 4], {}, true, 2)
  t.equal(p.quorumOffset(10, 10, {}), 9, 'n4 keeps its progress as a voter: 3 of 4 at 9')
  p.setVoters([2, 3, 4], {}, false, 3)
  t.equal(p.quorumOffset(100, 100, {}), 9, 'the leader no longer counts: n2 10, n4 9, n3 6')
  t.same(p.successors(), [2, 4, 3])
  p.setVoters([2, 4], {}, false, 4)
  t.ok(p.observe(3, undefined, 12, 12, 4), 'a removed voter goes on fetching as an observer')
  t.equal(p.quorumOffset(100, 100, {}), 9, 'n2 10, n4 9')
  t.equal(p.quorumOffset(100, 100, { countRemovedVoter: true }), 10, 'the bug switch still counts n3')
  t.ok(p.heardFromMajority(5, 10))
  t.notOk(p.heardFromMajority(11, 10), 'check-quorum over n2 and n4 only')
  t.ok(p.recentlyHeard(4, 5, 10))
  t.notOk(p.recentlyHeard(5, 5, 10), 'never fetched')
})

t.test('a voter is (id, directory id): a fetch from its id with another directory id is an observer\'s', async (t) => {
  const p = new ProgressTracker(1, [1, 2, 3], { 1: 'd1', 2: 'd2', 3: 'd3' }, true, 0)
  p.observe(2, 'd2', 10, 10, 1)
  p.observe(3, 'd3', 4, 4, 1)
  t.equal(p.quorumOffset(10, 10, {}), 10, 'n1 10, n2 10, n3 4')
  t.ok(p.observe(3, 'wiped', 0, 0, 9), 'a wiped n3 is tracked, as an observer')
  t.equal(p.quorumOffset(10, 10, {}), 10, 'and moves nothing: n3 still at 4')
  t.notOk(p.heardFromMajority(11, 10), 'nor does it count for check-quorum (n2 heard at 1, n3 at 1)')
  t.same(p.replicaProgress(9).map((r) => [r.id, r.directoryId, r.voter, r.fetchOffset]), [
    [2, 'd2', true, 10], [3, 'd3', true, 4], [3, 'wiped', false, 0],
  ], 'the voter and the observer of id 3 side by side')
  t.equal(p.directoryOf(3), 'd3', 'a voter\'s id names the voter')
  p.setVoters([1, 2], { 1: 'd1', 2: 'd2' }, true, 10)
  t.equal(p.directoryOf(3), 'wiped', 'once removed, the id names the observer that fetches under it')
  p.setVoters([1, 2, 3], { 1: 'd1', 2: 'd2', 3: 'wiped' }, true, 11)
  p.observe(3, 'wiped', 10, 10, 12)
  t.equal(p.quorumOffset(3, 10, {}), 10, 'added back under its new directory id, it counts: n2 10, n3 10')
  t.same(p.learnedDirectories(), {}, 'nothing to learn: every voter is recorded')
})

t.test('unknown directory ids match any, and are learned from fetches', async (t) => {
  const p = new ProgressTracker(1, [1, 2, 3], {}, true, 0)
  p.observe(2, 'd2', 5, 5, 1)
  t.equal(p.learnedDirectories(), null, 'n3 has not fetched yet')
  p.observe(3, undefined, 5, 5, 1)
  t.equal(p.learnedDirectories(), null, 'n3 fetched without one')
  p.observe(3, 'd3', 5, 5, 2)
  t.same(p.learnedDirectories(), { 2: 'd2', 3: 'd3' })
  t.equal(p.quorumOffset(5, 5, {}), 5, 'both counted as the voters they are')
  const bug = new ProgressTracker(1, [1, 2, 3], { 2: 'd2', 3: 'd3' }, true, 0, true)
  bug.observe(2, 'wiped', 7, 7, 1)
  t.equal(bug.quorumOffset(7, 7, {}), 7, 'the ignoreDirectoryIds bug switch counts a wiped n2 as voter 2')
})
