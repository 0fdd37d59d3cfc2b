// The consumer's chained-fetch bookkeeping (src/client/fetch-chain.ts), pure: which fetch may
// go to a broker (plain, chained after the one in flight, or not now), the bounds per broker,
// and where a chained answer's records are read from (or that it leaves a gap).
import t from 'tap'
import { answerStart, FetchChain, type Asked } from '../../src/client/fetch-chain.js'
import type { PartitionState } from '../../src/client/fetcher.js'
import { ANSWERS_WAITING_PER_BROKER_MAX, FETCHES_IN_FLIGHT_PER_BROKER_MAX } from '../../src/client/limits.js'

function state(position: number, fetchPosition: number | null = null): PartitionState {
  return { topic: 't', partition: 0, position, fetchPosition, reset: null, generation: 0, retryAt: 0, failures: 0, maxBytes: 1 << 20 }
}
const ask = (s: PartitionState, chained = false): Asked => ({ state: s, offset: s.fetchPosition ?? s.position!, generation: s.generation, chained })

t.test('a broker not known to chain gets one fetch at a time; one that chains, a second chained after the first', async (t) => {
  const chain = new FetchChain()
  const s = state(0)
  t.equal(chain.kind(s, 1), 'plain')
  chain.sent(1, [ask(s)])
  t.equal(chain.kind(s, 1), null, 'in flight to a broker not known to chain: not now')
  t.notOk(chain.canStart(1, 0), 'one fetch in flight to it already')
  chain.learned(1, true)
  t.equal(chain.kind(s, 1), 'chained', 'the broker chains: a second fetch may follow the first')
  t.ok(chain.canStart(1, 0))
  chain.sent(1, [ask(s, true)])
  t.equal(chain.kind(s, 1), null, 'two in flight: not a third')
  t.notOk(chain.canStart(1, 0), `at most ${FETCHES_IN_FLIGHT_PER_BROKER_MAX} in flight`)
  chain.landed(1, [ask(s)])
  t.equal(chain.kind(s, 1), 'chained')
  t.ok(chain.canStart(1, 0), 'a chained fetch goes while no answer waits')
  t.notOk(chain.canStart(1, 1), 'not while one waits (this side is not waiting for the network)')
  chain.landed(1, [ask(s, true)])
  t.ok(chain.canStart(1, ANSWERS_WAITING_PER_BROKER_MAX - 1), 'none in flight: a fetch goes while fewer than the most answers wait')
  t.notOk(chain.canStart(1, ANSWERS_WAITING_PER_BROKER_MAX), 'none past it')
  chain.sent(1, [ask(s, true)])
  chain.landed(1, [ask(s, true)])
  t.equal(chain.kind(s, 1), 'plain')
  t.notOk(chain.busy)
  chain.learned(1, false) // an answer without fetched_from: the broker stopped chaining (e.g. downgraded)
  chain.sent(1, [ask(s)])
  t.equal(chain.kind(s, 1), null, 'back to one at a time')
})

t.test('a partition is chained only after a fetch of its current generation, to the same broker', async (t) => {
  const chain = new FetchChain()
  chain.learned(1, true)
  chain.learned(2, true)
  const s = state(0)
  chain.sent(1, [ask(s)])
  t.equal(chain.kind(s, 2), null, 'its leader moved: it waits for the fetch to the old one')
  s.generation++ // a seek: what is in flight is stale
  t.equal(chain.kind(s, 1), null, 'not after a stale fetch: that one would start past the new position')
  chain.landed(1, [{ ...ask(s), generation: 0 }])
  t.equal(chain.kind(s, 1), 'plain')
})

t.test('answerStart: where fetching stands when the answer starts at or before it; a gap is null', async (t) => {
  const s = state(0, 100)
  const chained = ask(s, true) // asked with the fallback 100
  t.equal(answerStart(chained, 100), 100, 'continues exactly')
  t.equal(answerStart(chained, 40), 100, 'starts before (the broker read the fallback): the repeat is skipped')
  t.equal(answerStart(chained, 150), null, 'starts past where fetching stands: the answer before it was lost')
  s.fetchPosition = 150 // the answer before it arrived meanwhile
  t.equal(answerStart(chained, 150), 150)
  t.equal(answerStart(ask(state(7)), undefined), 7, 'a plain answer starts where it asked')
  const sought = ask(s, true)
  s.generation++
  t.equal(answerStart(sought, 999), 999, 'sought since: its own start (the consumer drops it)')
})
