// The wipe guard (src/sim/wipes.ts) keeps the simulator within what a cluster can survive: at
// most one voter lost, in every voter set a node may campaign under, the uncommitted ones too.
import t from 'tap'
import { runSeed } from '../../src/sim/simulation.js'

t.test('no second disk is wiped while an uncommitted voter set still holds a wiped voter', async (t) => {
  // Seed 12855 (stand-in): n4 is wiped while its removal is uncommitted; the leader then adds
  // voter 4 back before n4 restarts, under the directory id of n4's last fetch (the only one it
  // knows), so the uncommitted set {1,2,3,4} already lacks voter 4. A guard that looked at the
  // committed set {1,2,3} alone then wiped n3 too: two lost voters of four, no majority for good,
  // and the liveness phase failed ("no proposal committed ... after healing").
  const r = runSeed({ seed: 12855, trace: true })
  const at = (pattern: RegExp): number => r.trace.findIndex((line) => pattern.test(line))
  const wiped = at(/ n4 DISK WIPED/)
  const readded = r.trace.findIndex((line, i) => i > wiped && / add voter 4: voters 1,2,3,4$/.test(line))
  const restarted = r.trace.findIndex((line, i) => i > wiped && / n4 RESTART /.test(line))
  t.ok(wiped >= 0 && readded > wiped && restarted > readded,
    'the seed still re-adds wiped n4 before it restarts (if not, the trajectory moved: find another seed)')
  t.ok(r.ok, `seed 12855 passes: ${r.failure ?? 'ok'}`)
})
