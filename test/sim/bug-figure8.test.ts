// Figure 8 needs a rare interleaving (an old-epoch entry on a majority, the new leader's
// LeaderChange on a minority, then a crash and a rival with a newer last epoch), so it
// gets its own file and a longer timeout. Full scan: npm run sim -- --seeds 10000 --bug commitByCountingReplicas
import t from 'tap'
import { firstFailure, SEEDS_MAX } from './bug-scan.js'

t.setTimeout(400_000)

t.test(`commitByCountingReplicas (Figure 8) is caught within ${SEEDS_MAX} seeds`, async (t) => {
  const found = firstFailure({ commitByCountingReplicas: true })
  t.ok(found, 'a failing seed exists')
  if (found) {
    t.match(found.failure, /leader completeness|state-machine safety|committed durability|truncating committed/)
    t.comment(`caught at seed ${found.seed}: ${found.failure}`)
  }
})
