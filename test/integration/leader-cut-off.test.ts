// Issue 18: "A leader cut off from both followers but still reachable by the client: it
// acknowledges no acks=all write after losing its quorum; the majority side elects a leader and
// serves." Three brokers, each reaching the others only through a proxy per ordered pair
// (--peer-route, test/chaos/tcp-proxy.ts); the partition's leader has its four proxies cut
// silently (a network partition: no resets, nothing arrives) while the test keeps talking to it
// directly. Every acks=all write sent to it after the cut gets an error or no answer, never an
// acknowledgement; the other two elect a leader that acknowledges writes; once healed, the old
// leader follows and every replica holds the same batches below the HW. One cluster for the file.
import t from 'tap'
import { loadCodec } from '../../src/codec/index.js'
import { createClient, type RecordMetadata } from '../../src/client/node.js'
import { errorName } from '../../src/protocol/index.js'
import { ChaosCluster } from '../chaos/cluster.js'
import { replicasAgree } from '../chaos/converge.js'
import { readBack } from '../chaos/workload.js'
import { connect, type RawClient } from './broker-process.js'
import { until } from './quorum-nodes.js'

const TOPIC = 'cut-off'
/** The broker's wait for acks=all; the test's own guard on an answer is a little longer. */
const PRODUCE_TIMEOUT_MS = 2_000
const ANSWER_GUARD_MS = PRODUCE_TIMEOUT_MS + 5_000
/** Between two writes to the cut-off leader (its NOT_LEADER answers come at once). */
const WRITE_PACE_MS = 20

const codec = await loadCodec()
const c = await ChaosCluster.start(t, [1, 2, 3], Math.random)

/** The leader every node of `among` names, once they agree on one (newer than `after` if given). */
function agreedLeader(among: readonly number[], after?: { leader: number; epoch: number }): Promise<{ leader: number; epoch: number }> {
  return until(`nodes ${among.join(', ')} to name one leader of ${TOPIC}/0${after ? ` other than ${after.leader}` : ''}`, async () => {
    const named = await Promise.all(among.map(async (id) => (await c.nodes.metadata(id, [TOPIC])).topics?.[0]?.partitions?.[0]))
    const [first] = named
    if (first === undefined || (first.leaderId ?? -1) < 0) return null
    if (!named.every((p) => p?.leaderId === first.leaderId && p?.leaderEpoch === first.leaderEpoch)) return null
    if (after && (first.leaderId === after.leader || first.leaderEpoch! <= after.epoch)) return null
    return { leader: first.leaderId!, epoch: first.leaderEpoch! }
  }, 60_000)
}

type Answer = { kind: 'acknowledged'; offset: number } | { kind: 'error'; code: string } | { kind: 'no answer' }

/** One acks=all produce straight to `raw`'s broker; what came back within the guard. */
async function produceTo(raw: RawClient, value: string): Promise<Answer> {
  const records = await codec.encodeBatchAsync([{ value: new TextEncoder().encode(value), timestamp: Date.now() }])
  const call = raw.call({ produce: { acks: -1, timeoutMs: PRODUCE_TIMEOUT_MS, topics: [{ name: TOPIC, partitions: [{ index: 0, records }] }] } })
  let timer: NodeJS.Timeout | undefined
  const guard = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ANSWER_GUARD_MS)))
  const r = await Promise.race([call.catch(() => null), guard]).finally(() => clearTimeout(timer))
  if (r === null) return { kind: 'no answer' }
  const p = r.produce!.topics![0].partitions![0]
  return p.error ? { kind: 'error', code: errorName(p.error.code ?? 0) } : { kind: 'acknowledged', offset: Number(p.baseOffset) }
}

t.test('a leader cut off from both followers acknowledges nothing; the majority elects a leader that serves; healed, the logs converge', async (t) => {
  const admin = createClient({ brokers: c.ids.map((id) => c.url(id)), clientId: 'cut-off-admin' })
  t.teardown(() => admin.close())
  const [created] = await admin.admin().createTopics([{ topic: TOPIC, partitions: 1, replicationFactor: 3 }])
  t.equal(created.error, null, `created: ${created.error?.message ?? ''}`)
  const before = await agreedLeader(c.ids)
  const old = before.leader
  const majority = c.ids.filter((id) => id !== old)

  const raw = await connect(c.url(old))
  t.teardown(() => raw.close())
  const warm = await produceTo(raw, 'before the cut')
  t.equal(warm.kind, 'acknowledged', 'the leader acknowledges while it has its quorum')

  for (const other of majority) {
    c.proxy(old, other).cut('silent')
    c.proxy(other, old).cut('silent')
  }
  // Keep writing to the cut-off leader until the majority has a new leader and it has stepped down.
  const answers: Answer[] = []
  let stop = false
  const writing = (async () => {
    for (let i = 0; !stop; i++) {
      answers.push(await produceTo(raw, `to the cut-off leader ${i}`))
      await new Promise((resolve) => setTimeout(resolve, WRITE_PACE_MS)) // pace, not a wait for a condition
    }
  })()
  const after = await agreedLeader(majority, before)
  t.not(after.leader, old, `node ${after.leader} leads the majority side, in epoch ${after.epoch}`)

  const client = createClient({ brokers: majority.map((id) => c.url(id)), clientId: 'cut-off-majority' })
  t.teardown(() => client.close())
  const producer = await client.producer({ acks: 'all', lingerMs: 0 })
  const acked: Array<RecordMetadata & { value: string }> = []
  for (let i = 0; i < 20; i++) acked.push({ ...(await producer.send({ topic: TOPIC, partition: 0, value: `majority ${i}` })), value: `majority ${i}` })
  t.equal(acked.length, 20, 'the majority side acknowledges acks=all writes')

  await until('the cut-off leader to answer NOT_LEADER_OR_FOLLOWER (it resigned)', async () => answers.some((a) => a.kind === 'error' && a.code === 'NOT_LEADER_OR_FOLLOWER'), 60_000)
  stop = true
  await writing
  const acknowledged = answers.filter((a) => a.kind === 'acknowledged')
  t.same(acknowledged, [], `no acks=all write to the cut-off leader was acknowledged (answers: ${summarize(answers)})`)
  t.ok(answers.every((a) => a.kind === 'no answer' || (a.kind === 'error' && ['NOT_LEADER_OR_FOLLOWER', 'REQUEST_TIMED_OUT', 'NOT_ENOUGH_REPLICAS'].includes(a.code))),
    `only retriable errors or no answer: ${summarize(answers)}`)

  for (const p of [...c.ids].flatMap((a) => c.ids.filter((b) => b !== a).map((b) => c.proxy(a, b)))) p.heal()
  await until(`node ${old} to follow node ${after.leader}`, async () => (await c.nodes.metadata(old, [TOPIC])).topics?.[0]?.partitions?.[0]?.leaderId === after.leader || null, 60_000)
  const last = await producer.send({ topic: TOPIC, partition: 0, value: 'after healing' })
  await producer.close()
  const [hw] = await admin.admin().listOffsets(TOPIC, 'latest')
  t.same(await replicasAgree(c, TOPIC, 0, hw.offset, 60_000), [], `every replica holds the same batches below the HW ${hw.offset}`)
  const read = await readBack(c.ids.map((id) => c.url(id)), TOPIC, [last.offset + 1], 60_000)
  const at = new Map(read.map((r) => [r.offset, r.value]))
  t.same(acked.filter((a) => at.get(a.offset) !== a.value), [], 'every write the majority acknowledged is read back at its offset')
  t.notOk(read.some((r) => r.value.startsWith('to the cut-off leader')), 'nothing the cut-off leader appended after losing its quorum survives')
})

function summarize(answers: readonly Answer[]): string {
  const counts = new Map<string, number>()
  for (const a of answers) {
    const key = a.kind === 'error' ? a.code : a.kind
    counts.set(key, (counts.get(key) ?? 0) + 1)
  }
  return [...counts].map(([k, n]) => `${k} ×${n}`).join(', ')
}

