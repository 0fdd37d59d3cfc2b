// The wipe guard (src/sim/wipes.ts) keeps the simulator within what a cluster can survive: at
// most one voter lost, in every voter set a node may campaign under, the uncommitted ones too.
import t from 'tap'
import type { CheckedNode } from '../../src/sim/checker.js'
import { SimLog, votersPayload } from '../../src/sim/sim-log.js'
import { mayWipeVoter } from '../../src/sim/wipes.js'
import type { NodeId, Status, VoterDirectories } from '../../src/raft/types.js'

const ALL: VoterDirectories = { 1: 'd1', 2: 'd2', 3: 'd3', 4: 'd4.0' }
const THREE: VoterDirectories = { 1: 'd1', 2: 'd2', 3: 'd3' }

/** A log holding voter records for each set in turn (offsets 0, 1, ...), all durable. */
function logOf(sets: ReadonlyArray<readonly [readonly NodeId[], VoterDirectories]>): SimLog {
  const log = new SimLog()
  for (const [voters, dirs] of sets) log.appendLocal(1, votersPayload(voters), voters, dirs)
  log.durableEnd = log.end
  return log
}

/** A node whose core holds its log's latest voter set (read only while it runs). */
function nodeOf(id: number, log: SimLog, directoryId: string, up = true): CheckedNode {
  const status = () => {
    const latest = log.voterSetAt(log.end - 1)!
    return { voters: latest.voters, voterDirectoryIds: latest.directoryIds } as unknown as Status
  }
  return { id, up, incarnation: 0, log, directoryId, settled: true, status }
}

t.test('no second disk is wiped while an uncommitted voter set still holds a wiped voter', async (t) => {
  // What seed 12855 once found: n4 was wiped while its removal ({1,2,3}, offset 1) was still
  // uncommitted; the leader then added voter 4 back (offset 2) under the directory id of n4's last
  // fetch, d4.0 (it cannot know of the wipe), so n1 and n2 hold {1,2,3,4@d4.0}, which has already
  // lost voter 4. A guard that read only the committed set {1,2,3} then wiped n3 too: two lost
  // voters of four, no majority for good.
  const leaders = () => logOf([[[1, 2, 3, 4], ALL], [[1, 2, 3], THREE], [[1, 2, 3, 4], ALL]])
  const behind = logOf([[[1, 2, 3, 4], ALL], [[1, 2, 3], THREE]])
  const committed = behind.voterSetAt(1)!
  const wiped = nodeOf(4, logOf([]), 'd4.1', false)
  t.notOk(mayWipeVoter(committed, [nodeOf(1, leaders(), 'd1'), nodeOf(2, leaders(), 'd2'), nodeOf(3, behind, 'd3'), wiped], [1, 2, 3, 4]),
    'n4 was wiped (now d4.1): no second wipe while {1,2,3,4@d4.0} may still win')
  t.ok(mayWipeVoter(committed, [nodeOf(1, leaders(), 'd1'), nodeOf(2, leaders(), 'd2'), nodeOf(3, behind, 'd3'), nodeOf(4, leaders(), 'd4.0')], [1, 2, 3, 4]),
    'n4 intact: one voter may be wiped')
  const caughtUp = nodeOf(4, logOf([[[1, 2, 3, 4], ALL], [[1, 2, 3], THREE]]), 'd4.1')
  t.ok(mayWipeVoter(committed, [nodeOf(1, behind, 'd1'), nodeOf(2, behind, 'd2'), nodeOf(3, behind, 'd3'), caughtUp], [1, 2, 3, 4]),
    'once no node may campaign under a set holding the wiped voter, the committed {1,2,3} may lose one')
})
