// Replicated partitions through a stalled leader and a crash of every broker (issue 18). A
// partition leader SIGSTOPped for 10 s under acks=all load: while it is stopped the other two
// elect a leader that serves; after SIGCONT the old one steps down, drops whatever it appended
// without a quorum, and catches up — no acknowledged record is lost and every replica ends up
// holding the same batches. All three brokers SIGKILLed at once (default flush=always) and
// restarted: every record acknowledged with acks=all is there. One cluster for the whole file.
import t, { type Test } from 'tap'
import { createClient } from '../../src/client/node.js'
import { AckedLoad, lostOrReordered, readBack, type ReadRecord } from './acked-load.js'
import { ProcessCluster, until } from './quorum-nodes.js'
import { replicasAgree } from './replica-dumps.js'

/** How long the leader stays stopped (issue 18); longer if the others take longer to serve. */
const STOP_MS = 10_000

const c = await ProcessCluster.create(t, [1, 2, 3])
await c.startAll()
const urls = (ids = c.ids) => ids.map((id) => c.url(id))
const admin = createClient({ brokers: urls(), clientId: 'stalls-admin' })
t.teardown(() => admin.close())

async function createTopic(topic: string, partitions: number): Promise<void> {
  const [created] = await admin.admin().createTopics([{ topic, partitions, replicationFactor: 3 }])
  if (created.error !== null) throw created.error
}

async function checkEveryAcknowledged(t: Test, load: AckedLoad, topic: string, partitions: number): Promise<ReadRecord[]> {
  t.same(load.failed, [], 'the producer retried through the fault: no send failed')
  const read = await readBack(urls(), topic, load.lastOffsets())
  t.same(lostOrReordered(load.acked, read), [], `each of the ${load.acked.size} acknowledged records is at the offset its acknowledgement gave, in the order sent`)
  await until('every replica to hold the same batches', async () => {
    for (let p = 0; p < partitions; p++) await replicasAgree(c, topic, p)
    return true
  })
  t.pass('every replica holds the same batches (log dump)')
  return read
}

t.test('all three brokers SIGKILLed at once under acks=all load and restarted: nothing acknowledged is missing', async (t) => {
  const topic = 'crashed'
  const partitions = 3
  await createTopic(topic, partitions)
  const load = await AckedLoad.start(urls(), topic, partitions)
  await load.more(300)
  const before = load.acked.size
  await Promise.all(c.ids.map((id) => c.stop(id, 'SIGKILL')))
  t.comment(`${before} records acknowledged when all three were killed`)
  await c.startAll()
  for (let p = 0; p < partitions; p++) await c.partitionLeader(topic, p, c.ids)
  // The load's sends in flight at the crash are retried into the restarted cluster.
  await load.more(300)
  await load.stop()
  await checkEveryAcknowledged(t, load, topic, partitions)
})

t.test('the leader SIGSTOPped for 10 s under acks=all load: the others elect a leader that serves; after SIGCONT the old one steps down and catches up', async (t) => {
  const topic = 'stalled'
  await createTopic(topic, 1)
  const load = await AckedLoad.start(urls(), topic, 1)
  await load.more(200)
  const { leader, epoch } = await c.partitionLeader(topic, 0, c.ids)
  const others = c.ids.filter((id) => id !== leader)
  c.signal(leader, 'SIGSTOP')
  const stoppedAt = Date.now()
  let resumed = false
  t.teardown(() => {
    if (!resumed) c.signal(leader, 'SIGCONT')
  })

  const next = await c.partitionLeader(topic, 0, others)
  t.ok(next.epoch > epoch, `node ${next.leader} leads in epoch ${next.epoch} (was ${epoch}), ${Date.now() - stoppedAt} ms into the stop`)
  // A producer that knows only the two running brokers: its acks=all write is acknowledged while the old leader cannot answer anything.
  const fresh = createClient({ brokers: urls(others), clientId: 'stalls-fresh' })
  t.teardown(() => fresh.close())
  const producer = await fresh.producer({ acks: 'all', lingerMs: 0 })
  const served = await producer.send({ topic, partition: 0, value: 'during the stop' })
  t.ok(served.offset >= 0, `acknowledged at offset ${served.offset}, ${Date.now() - stoppedAt} ms into the stop`)
  await producer.close()

  await until(`${STOP_MS} ms of stop`, async () => Date.now() - stoppedAt >= STOP_MS, STOP_MS + 1_000)
  c.signal(leader, 'SIGCONT')
  resumed = true
  const after = await c.partitionLeader(topic, 0, c.ids)
  t.not(after.leader, leader, `after SIGCONT every node, node ${leader} too, names node ${after.leader} (epoch ${after.epoch})`)
  await load.more(200)
  await load.stop()
  // Last in the file: the resumed broker may be fenced again for a while (its lease ran out while
  // it was stopped, and the controller elected meanwhile counts its own lease) until it heartbeats.
  const read = await checkEveryAcknowledged(t, load, topic, 1)
  t.equal(read.find((r) => r.offset === served.offset)?.value, 'during the stop', 'and the record acknowledged during the stop is at its offset')
})
