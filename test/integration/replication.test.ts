// Replicated partitions (issue 18, first slice): a topic with replication factor 3 on three
// broker processes is one Raft group per partition over the three. Records produced with
// acks=all while the partition's leader is SIGKILLed are all there afterwards — each at the
// offset its acknowledgement gave, in order — read from the new leader, and again once the killed
// broker is back and has caught up. A broker back from a restart leads its preferred partitions
// again: at once with `bitacora topics rebalance-leaders`, and on its own after
// --leader-rebalance-after-ms. One cluster for the whole file.
import t from 'tap'
import { createClient, type RecordMetadata } from '../../src/client/node.js'
import { runCli } from './cli-process.js'
import { ProcessCluster, until } from './quorum-nodes.js'

const TOPIC = 'replicated'
const RECORDS = 400
const REBALANCE_AFTER_MS = 3_000
const c = await ProcessCluster.create(t, [1, 2, 3], [1, 2, 3], ['--leader-rebalance-after-ms', String(REBALANCE_AFTER_MS)])
await c.startAll()

/** The leader every node names for the partition, once they agree on one. */
async function agreedLeader(partition = 0, among = c.ids): Promise<{ leader: number; epoch: number }> {
  return until(`nodes ${among.join(', ')} to name one leader of ${TOPIC}/${partition}`, async () => {
    const named = await Promise.all(among.map(async (id) => (await c.metadata(id, [TOPIC])).topics![0].partitions?.[partition]))
    const [first] = named
    const agree = first !== undefined && (first.leaderId ?? -1) >= 0 && named.every((p) => p?.leaderId === first.leaderId && p?.leaderEpoch === first.leaderEpoch)
    return agree ? { leader: first.leaderId!, epoch: first.leaderEpoch! } : null
  })
}

/** The partition's records from the beginning through `lastOffset`, read through whichever broker leads it. */
async function readAll(lastOffset: number): Promise<Array<{ offset: number; value: string }>> {
  const client = createClient({ brokers: c.ids.filter((id) => c.processes.has(id)).map((id) => c.url(id)), clientId: 'replication-reader' })
  const consumer = await client.consumer({ autoOffsetReset: 'earliest', maxWaitMs: 200 })
  consumer.assign([{ topic: TOPIC, partition: 0 }])
  const out: Array<{ offset: number; value: string }> = []
  const deadline = Date.now() + 60_000
  try {
    for await (const r of consumer.records()) {
      out.push({ offset: r.offset, value: new TextDecoder().decode(r.value!) })
      if (r.offset >= lastOffset || Date.now() > deadline) break
    }
  } finally {
    consumer.close()
    await client.close()
  }
  return out
}

t.test('replication factor 3: every node shows three replicas and one leader', async (t) => {
  const client = createClient({ brokers: c.ids.map((id) => c.url(id)), clientId: 'replication-admin' })
  t.teardown(() => client.close())
  const [created] = await client.admin().createTopics([{ topic: TOPIC, partitions: 1, replicationFactor: 3 }])
  t.equal(created.error, null, `created: ${created.error?.message ?? ''}`)
  const { leader } = await agreedLeader()
  const replicas = (await c.metadata(leader, [TOPIC])).topics![0].partitions![0].replicas!
  t.same([...replicas].sort(), [1, 2, 3], 'a replica on each broker')
  t.equal(leader, replicas[0], 'led by its preferred replica')
})

t.test('SIGKILL the leader under acks=all load: every acknowledged record is read back at its offset, in order', async (t) => {
  const { leader, epoch } = await agreedLeader()
  const client = createClient({ brokers: c.ids.map((id) => c.url(id)), clientId: 'replication-producer' })
  t.teardown(() => client.close())
  const producer = await client.producer({ acks: 'all', lingerMs: 0 })
  const acked = new Map<string, RecordMetadata>()
  const failed: string[] = []
  let killed = false
  for (let i = 0; i < RECORDS; i++) {
    const value = `record-${i}`
    const sent = producer.send({ topic: TOPIC, partition: 0, value }).then((m) => void acked.set(value, m), (err: Error) => void failed.push(`${value}: ${err.message}`))
    if (i % 10 === 9) await sent // throttled: at most 10 in flight
    if (!killed && acked.size >= RECORDS / 4) {
      killed = true
      await c.stop(leader, 'SIGKILL')
    }
  }
  await producer.flush()
  await producer.close()
  t.ok(killed, `node ${leader} was SIGKILLed after ${RECORDS / 4} acknowledgements`)
  t.same(failed, [], 'the producer retried through the failover: no send failed')
  const survivors = c.ids.filter((id) => id !== leader)
  const next = await agreedLeader(0, survivors)
  t.not(next.leader, leader, `node ${next.leader} leads now`)
  t.ok(next.epoch > epoch, 'in a newer epoch')

  const check = (read: Array<{ offset: number; value: string }>, where: string) => {
    // A retried send may have left an unacknowledged copy too (allowed until the idempotent producer): look each up by its offset.
    const valueAt = new Map(read.map((r) => [r.offset, r.value]))
    const lost = [...acked].filter(([value, m]) => valueAt.get(m.offset) !== value).map(([v, m]) => `${v}@${m.offset}: ${valueAt.get(m.offset) ?? 'nothing'}`)
    t.same(lost, [], `${where}: every acknowledged record is at the offset its acknowledgement gave`)
    const offsets = [...acked].sort(([a], [b]) => Number(a.slice(7)) - Number(b.slice(7))).map(([, m]) => m.offset)
    t.ok(offsets.every((o, i) => i === 0 || o > offsets[i - 1]), `${where}: in the order sent`)
  }
  const lastOffset = Math.max(...[...acked.values()].map((m) => m.offset))
  check(await readAll(lastOffset), `from node ${next.leader}`)

  await c.start(leader)
  await c.ready()
  check(await readAll(lastOffset), 'with every broker back')
})

t.test('a broker back from a restart leads its preferred partitions again: at once when asked, and on its own after a while', async (t) => {
  const topic = 'balanced'
  const client = createClient({ brokers: c.ids.map((id) => c.url(id)), clientId: 'replication-balance' })
  t.teardown(() => client.close())
  const [created] = await client.admin().createTopics([{ topic, partitions: 3, replicationFactor: 3 }])
  t.equal(created.error, null)
  const leaders = async (from: number) => ((await c.metadata(from, [topic])).topics![0].partitions ?? []).map((p) => [p.leaderId ?? -1, p.replicas![0]] as const)
  const balanced = async (from: number) => (await leaders(from)).every(([leader, preferred]) => leader === preferred)
  await until('every partition to be led by its preferred replica', async () => (await Promise.all(c.ids.map(balanced))).every(Boolean))
  const away = c.ids[0]
  const others = c.ids.filter((id) => id !== away)

  const restart = async () => {
    await c.stop(away, 'SIGTERM')
    await until(`node ${away}'s partitions to be led by others`, async () => (await leaders(others[0])).every(([leader]) => leader >= 0 && leader !== away))
    await c.start(away)
    await c.ready()
  }

  await restart()
  const asked = await runCli(['topics', 'rebalance-leaders', topic, '-b', c.url(others[0])])
  t.equal(asked.status, 0, `rebalance-leaders: ${asked.stdout}${asked.stderr}`)
  t.match(asked.stdout, new RegExp(`${topic}/\\d: (moved to its preferred replica|its preferred replica leads already)`))
  t.ok(await balanced(others[0]), 'when it answers, every partition is led by its preferred replica')

  await restart()
  await until(`node ${away} to lead its preferred partitions again on its own`, async () => balanced(others[1]))
  t.pass('the active controller handed them back without being asked')
})
