// The checker has teeth: each test-only bug switch re-introduces a known consensus bug,
// and the simulator must catch it within 10,000 seeds (it scans until the first failure).
import t from 'tap'
import type { BugSwitches } from '../../src/raft/types.js'
import { firstFailure, SEEDS_MAX } from './bug-scan.js'

const dataLoss = /commit quorum|leader completeness|state-machine safety|committed durability|truncating committed/
const cases: [keyof BugSwitches, RegExp][] = [
  ['forgetVotePersist', /vote uniqueness|election safety|two leaders/],
  ['countFetchPosition', dataLoss],
  ['preVoteSkipsLogCheck', /election restriction/],
  // Two uncommitted voter records let sets two voters apart decide (KIP-853's invariant; data
  // loss follows when that check is off, within a few dozen seeds).
  ['changeVotersBeforeCommit', new RegExp(`one voter change in flight|election safety|${dataLoss.source}`)],
  ['countRemovedVoter', dataLoss],
  // A core that notes the fence but goes on campaigning and leading.
  ['ignoreFence', /^SafetyViolation: fence:/],
  // A core that takes voters for node ids: a wiped voter (empty log, no memory of its votes)
  // helps elect a leader lacking committed data.
  ['ignoreDirectoryIds', new RegExp(`${dataLoss.source}|vote uniqueness|election safety`)],
  // A core that lets a replica whose log it truncated at damaged bytes vote before it re-fetched them.
  ['damagedReplicaVotes', new RegExp(`^SafetyViolation: damaged log:|${dataLoss.source}`)],
]

for (const [bug, expected] of cases) {
  t.test(`${bug} is caught within ${SEEDS_MAX} seeds`, async (t) => {
    const found = firstFailure({ [bug]: true })
    t.ok(found, 'a failing seed exists')
    if (found) {
      t.match(found.failure, expected)
      t.comment(`caught at seed ${found.seed}: ${found.failure}`)
    }
  })
}
