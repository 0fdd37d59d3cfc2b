// A consumer-group member SIGKILLed (issue 20): three members, each its own process
// (fixtures/group-member.mjs), share a 6-partition topic that a producer here writes to
// steadily. One is killed (no leave, no commit): its two partitions move to the other two
// within its session timeout (plus the coordinator's expiry check and their next heartbeat),
// and the two never stop consuming the partitions they keep — from their own callbacks, they
// give up nothing, and their reads of those partitions never pause longer than READ_GAP_MS_MAX
// while the load goes on. Every record is read, by someone.
import t from 'tap'
import { createClient } from '../../src/client/node.js'
import { startBroker } from './broker-process.js'
import { startMember } from './group-children.js'
import { OwnershipLog, waitFor, wallClockMs } from './group-ownership.js'

t.setTimeout(120_000)

const PARTITIONS = 6
const SESSION_MS = 6_000
const HEARTBEAT_MS = SESSION_MS / 3
/** Session, the coordinator's 500 ms expiry check, the survivors' next heartbeat, and slack for a loaded 2-core machine. */
const HANDOVER_MS_MAX = SESSION_MS + 500 + HEARTBEAT_MS + 3_000
/** The producer writes a record to every partition this often. */
const PRODUCE_EVERY_MS = 50
/** The longest a survivor's kept partition may go unread while records keep coming (a rebalance that paused it would take seconds). */
const READ_GAP_MS_MAX = 2_000

t.test('a SIGKILLed member\'s partitions move within its session; the others keep reading theirs', async (t) => {
  const broker = await startBroker(t)
  const client = createClient({ brokers: [broker.url], clientId: 'killed-test' })
  t.teardown(() => client.close())
  const [created] = await client.admin().createTopics([{ topic: 'steady', partitions: PARTITIONS, replicationFactor: 1 }])
  t.equal(created.error, null)

  const log = new OwnershipLog()
  const spec = { url: broker.url, topic: 'steady', groupId: 'killed', sessionTimeoutMs: SESSION_MS, mode: 'auto' as const }
  const members = ['a', 'b', 'c'].map((name) => startMember(t, { ...spec, name }, log))
  await waitFor('two partitions each', () => members.every((m) => log.owned(m.name).length === 2), 60_000)

  const producer = await client.producer({ acks: 1, lingerMs: 0 })
  let produced = 0
  let producing = true
  const load = (async () => {
    while (producing) {
      await Promise.all(Array.from({ length: PARTITIONS }, (_, p) => producer.send({ topic: 'steady', partition: p, value: `r${produced}` })))
      produced += PARTITIONS
      await new Promise((r) => setTimeout(r, PRODUCE_EVERY_MS))
    }
  })()
  const readCount = () => new Set(members.flatMap((m) => m.of('processed').map((e) => `${e.partition}:${e.offset}`))).size
  await waitFor('the load to be read', () => readCount() >= 300)

  const [a, b, c] = members
  const kept = { a: log.owned('a'), b: log.owned('b') }
  const lost = log.owned('c')
  await c.kill()
  const killedAt = wallClockMs()
  log.add({ member: 'c', kind: 'revoked', partitions: lost, at: killedAt }) // a dead process owns nothing
  await waitFor('a and b to own all six', () => log.owned('a').length + log.owned('b').length === PARTITIONS, 30_000)
  const handoverMs = wallClockMs() - killedAt
  t.ok(handoverMs <= HANDOVER_MS_MAX, `c's partitions ${lost} moved in ${handoverMs.toFixed(0)} ms (session ${SESSION_MS} ms, at most ${HANDOVER_MS_MAX})`)
  const movedAt = wallClockMs()
  await waitFor('two more seconds of reading', () => wallClockMs() > movedAt + 2_000)
  producing = false
  await load
  await waitFor('every record read', () => readCount() === produced, 30_000)

  for (const m of [a, b]) {
    t.same(m.of('revoked').filter((e) => e.at > killedAt - 1_000), [], `${m.name} gave up nothing around the kill`)
    t.ok(kept[m.name as 'a' | 'b'].every((p) => log.owned(m.name).includes(p)), `${m.name} still owns ${kept[m.name as 'a' | 'b']}`)
    // Gaps between reads of each kept partition, from a second before the kill until the load stopped.
    let gapMs = 0
    for (const p of kept[m.name as 'a' | 'b']) {
      const times = m.of('processed').filter((e) => e.partition === p && e.at > killedAt - 1_000).map((e) => e.at)
      for (let i = 1; i < times.length; i++) gapMs = Math.max(gapMs, times[i] - times[i - 1])
      t.ok(times.length > 0, `${m.name} read partition ${p} after the kill`)
    }
    t.ok(gapMs <= READ_GAP_MS_MAX, `${m.name}'s kept partitions never paused: longest gap between reads ${gapMs.toFixed(0)} ms`)
  }
  t.same(log.replay().violations, [], 'no partition owned by two members at once')
  await producer.close()
})
