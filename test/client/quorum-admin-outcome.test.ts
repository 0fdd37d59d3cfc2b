// A voter change the controller appended but could not commit before it lost its quorum: the
// answer must say the outcome is unknown (REQUEST_TIMED_OUT, not retried: the record may commit
// under the next leader), never NOT_CONTROLLER, which the client takes for "not made" and
// retries until it gives up with "no active controller ...; retry shortly" — while the change
// takes effect later. Real brokers in this process (broker-quorum.ts), voters 1-3.
import t from 'tap'
import { createClient } from '../../src/client/node.js'
import { BitacoraError } from '../../src/client/errors.js'
import { BrokerQuorum, until } from './broker-quorum.js'

t.test('remove-voter accepted just after another voter stopped, its quorum then lost: REQUEST_TIMED_OUT, outcome unknown; it takes effect once that voter is back', async (t) => {
  const q = await BrokerQuorum.create(t, [1, 2, 3])
  await q.startAll()
  const L = (await q.ready()).leaderId
  const [F, G] = [1, 2, 3].filter((id) => id !== L)
  await q.stop(G) // it fetched within the fetch timeout: the controller still counts it for the new set {L, G}
  const c = createClient({ brokers: [q.url(L)], clientId: 'quorum-outcome', apiTimeoutMs: 20_000, retry: { initialMs: 20, maxMs: 100 } })
  t.teardown(() => c.close())
  const err = await c.admin().removeVoter(F).then(() => new Error('expected a failure'), (e: unknown) => e)
  t.type(err, BitacoraError)
  t.equal((err as BitacoraError).code, 'REQUEST_TIMED_OUT', (err as Error).message)
  t.match((err as Error).message, `remove node ${F}: the voter record was appended but not seen committed`)
  await q.start(G)
  const voters = await until('the removal to take effect', async () => {
    const d = await q.describe(L)
    return d.leaderId >= 0 && d.voters.length === 2 ? d.voters.map((v) => v.nodeId) : null
  })
  t.strictSame(voters, [L, G].sort((a, b) => a - b), `node ${F} was removed after all`)
})
