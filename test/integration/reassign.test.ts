// Partition reassignment (issue 18): `bitacora topics reassign` moves an RF=3 partition from
// brokers {1,2,3} to {2,3,4} under an acks=all producer, one voter change at a time: the move
// completes, no acknowledged record is lost (each read back at its offset from the new replicas,
// which hold the same batches, byte for byte, by `bitacora log dump`), and node 1's partition
// directory is gone. A move waiting on a broker that is down shows in `topics describe`, and
// survives a SIGKILL of the active controller midway: it completes once the broker is back. One
// 4-node cluster (voters 1-3, node 4 a broker) for the file.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { createClient, type RecordMetadata } from '../../src/client/node.js'
import { readBack } from './acked-load.js'
import { runCli } from './cli-process.js'
import { ProcessCluster, until } from './quorum-nodes.js'

const TOPIC = 'moved'
const c = await ProcessCluster.create(t, [1, 2, 3, 4], [1, 2, 3])
for (const id of [1, 2, 3]) await c.start(id)
await c.ready([1, 2, 3])

type Line = Record<string, unknown> & { type: string }

/** The partition as node `from` describes it. */
async function partitionOf(from: number, topic = TOPIC, partition = 0) {
  return (await c.metadata(from, [topic])).topics![0].partitions![partition]
}

/** The partition's batches in node `id`'s data directory, as `bitacora log dump --json` prints them. */
async function batchesOn(id: number, topicId: string): Promise<Line[]> {
  const r = await runCli(['log', 'dump', c.dataDirs.get(id)!, '--topic-id', topicId, '-p', '0', '--json'])
  if (r.status !== 0) throw new Error(`log dump of node ${id}: exit ${r.status}: ${r.stderr}`)
  return r.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Line).filter((o) => o.type === 'batch')
}

/** Every record of the partition from offset 0 through `lastOffset`, by offset, read through the brokers named. */
async function readAll(brokers: number[], lastOffset: number): Promise<Map<number, string>> {
  const read = await readBack(brokers.map((id) => c.url(id)), TOPIC, [lastOffset])
  return new Map(read.map((r) => [r.offset, r.value]))
}

t.test('reassign {1,2,3} -> {2,3,4} under acks=all load: completes, no acknowledged record lost, replicas identical, node 1 cleaned up', async (t) => {
  const client = createClient({ brokers: [1, 2, 3].map((id) => c.url(id)), clientId: 'reassign-admin' })
  t.teardown(() => client.close())
  const [created] = await client.admin().createTopics([{ topic: TOPIC, partitions: 1, replicationFactor: 3 }])
  t.equal(created.error, null, `created: ${created.error?.message ?? ''}`)
  await until('the partition to have a leader', async () => ((await partitionOf(1)).leaderId ?? -1) >= 0)
  t.same([...(await partitionOf(1)).replicas!].sort(), [1, 2, 3], 'on brokers 1, 2, 3')
  await c.start(4)
  await c.ready()
  const topicId = Buffer.from((await c.metadata(1, [TOPIC])).topics![0].topicId!).toString('hex')
  const node1Dir = join(c.dataDirs.get(1)!, `${topicId}-0`)
  t.ok(existsSync(node1Dir), 'node 1 holds a replica')

  // A throttled acks=all producer (at most 10 in flight) runs through the whole move.
  const producer = await client.producer({ acks: 'all', lingerMs: 0 })
  const acked = new Map<string, RecordMetadata>()
  const failed: string[] = []
  let stop = false
  const producing = (async () => {
    for (let i = 0; !stop; i++) {
      const value = `record-${i}`
      const sent = producer.send({ topic: TOPIC, partition: 0, value }).then((m) => void acked.set(value, m), (err: Error) => void failed.push(`${value}: ${err.message}`))
      if (i % 10 === 9) await sent
    }
  })()
  await until('some records acknowledged', async () => acked.size >= 200)

  const moved = await runCli(['topics', 'reassign', TOPIC, '--partition', '0', '--replicas', '2,3,4', '--timeout-ms', '60000', '-b', c.url(2)], { timeoutMs: 90_000 })
  t.equal(moved.status, 0, `topics reassign: ${moved.stdout}${moved.stderr}`)
  t.comment(`the move under load took ${moved.ms} ms (the command, from its request to replicas 2,3,4 seen), ${acked.size} records acknowledged so far`)
  t.match(moved.stdout, /moved\/0: moving to 2,3,4\n/)
  t.match(moved.stdout, /moved\/0: replicas 2,3,4, leader [234]\n$/)
  const atMove = acked.size
  await until('records acknowledged after the move too', async () => acked.size >= atMove + 100)
  stop = true
  await producing
  await producer.flush()
  await producer.close()
  t.same(failed, [], 'no send failed: the producer followed the leader through the move')

  for (const id of [1, 2, 3, 4]) {
    const p = await until(`node ${id} to show the move over`, async () => {
      const p = await partitionOf(id)
      return (p.addingReplicas ?? []).length === 0 && (p.removingReplicas ?? []).length === 0 && p.replicas!.join() === '2,3,4' ? p : null
    })
    t.ok([2, 3, 4].includes(p.leaderId!), `node ${id}: replicas 2,3,4, led by ${p.leaderId}`)
  }

  const lastOffset = Math.max(...[...acked.values()].map((m) => m.offset))
  const read = await readAll([2, 3, 4], lastOffset)
  const lost = [...acked].filter(([value, m]) => read.get(m.offset) !== value).map(([v, m]) => `${v}@${m.offset}: ${read.get(m.offset) ?? 'nothing'}`)
  t.same(lost, [], `every one of ${acked.size} acknowledged records is at the offset its acknowledgement gave`)

  const dumps = await until('the new replicas to hold the same batches', async () => {
    const [a, b, d] = await Promise.all([2, 3, 4].map((id) => batchesOn(id, topicId)))
    const end = (x: Line[]) => x.at(-1)?.lastOffset
    return end(a) === end(b) && end(b) === end(d) && (end(a) as number) >= lastOffset ? [a, b, d] : null
  })
  t.strictSame(dumps[1], dumps[0], 'node 3 holds node 2\'s batches')
  t.strictSame(dumps[2], dumps[0], 'node 4 holds them too, from offset 0')
  t.equal(dumps[0][0].baseOffset, 0)
  t.ok(dumps[0].every((b) => b.crcOk === true), 'every CRC checks')
  await until('node 1 to delete its partition directory', async () => !existsSync(node1Dir))
  t.pass('node 1\'s partition directory is gone')
})

t.test('a move waiting on a broker that is down shows in describe, survives a SIGKILL of the active controller, and completes once the broker is back', async (t) => {
  const topic = 'moved-again'
  const client = createClient({ brokers: [1, 2, 3].map((id) => c.url(id)), clientId: 'reassign-failover' })
  t.teardown(() => client.close())
  const [created] = await client.admin().createTopics([{ topic, partitions: 1, replicationFactor: 3 }])
  t.equal(created.error, null)
  await until('the partition to have a leader', async () => ((await partitionOf(1, topic)).leaderId ?? -1) >= 0)
  const producer = await client.producer({ acks: 'all', lingerMs: 0 })
  for (let i = 0; i < 500; i += 50) await Promise.all(Array.from({ length: 50 }, (_, j) => producer.send({ topic, partition: 0, value: `v${i + j}` })))
  await producer.close()
  const before = (await partitionOf(1, topic)).replicas!
  // The target takes in the broker the partition lacks, and stops it first: the move must wait for it.
  const absent = [1, 2, 3, 4].find((id) => !before.includes(id))!
  const target = [absent, ...before.slice(1)]
  await c.stop(absent, 'SIGTERM')

  const asked = await runCli(['topics', 'reassign', topic, '--partition', '0', '--replicas', target.join(','), '--no-wait', '-b', c.url(before[1])])
  t.equal(asked.status, 0, `${asked.stdout}${asked.stderr}`)
  const up = [1, 2, 3, 4].filter((id) => id !== absent)
  const described = await runCli(['topics', 'describe', topic, '-b', c.url(up[0])])
  t.match(described.stdout, new RegExp(`Adding Replicas: ${absent}\\tRemoving Replicas: ${before[0]}`), `describe shows the move: ${described.stdout}`)
  const again = await runCli(['topics', 'reassign', topic, '--partition', '0', '--replicas', before.join(','), '-b', c.url(up[0])])
  t.equal(again.status, 1)
  t.match(again.stderr, /REASSIGNMENT_IN_PROGRESS|being moved to/, 'a second move is refused while one is under way')

  const controller = await c.controller(up)
  await c.stop(controller, 'SIGKILL')
  const survivors = up.filter((id) => id !== controller)
  t.ok((await partitionOf(survivors[0], topic)).addingReplicas?.includes(absent), `still moving when node ${controller}, the active controller, was killed`)
  await c.controller(survivors)
  await c.start(controller)
  await c.start(absent)
  await c.ready()
  for (const id of [1, 2, 3, 4]) {
    await until(`node ${id} to show the move over`, async () => {
      const p = await partitionOf(id, topic)
      return (p.addingReplicas ?? []).length === 0 && [...p.replicas!].sort().join() === [...target].sort().join() && (p.leaderId ?? -1) >= 0
    }, 60_000)
  }
  t.pass(`replicas ${target.join(',')} everywhere`)
  const read = await runCli(['consume', topic, '-o', 'beginning', '-e', '-b', c.url(absent)], { timeoutMs: 30_000 })
  t.equal(read.status, 0, read.stderr)
  t.equal(read.stdout.split('\n').filter((l) => l.startsWith('v')).length, 500, 'every record is there')
})

t.test('a move that waits on a broker that is down is cancelled: the partition goes back to the brokers it started on', async (t) => {
  const topic = 'moved-back'
  const client = createClient({ brokers: [1, 2, 3, 4].map((id) => c.url(id)), clientId: 'reassign-cancel' })
  t.teardown(() => client.close())
  const [created] = await client.admin().createTopics([{ topic, partitions: 1, replicationFactor: 3 }])
  t.equal(created.error, null)
  await until('the partition to have a leader', async () => ((await partitionOf(1, topic)).leaderId ?? -1) >= 0)
  const before = (await partitionOf(1, topic)).replicas!
  const absent = [1, 2, 3, 4].find((id) => !before.includes(id))!
  await c.stop(absent, 'SIGTERM')
  const up = [1, 2, 3, 4].filter((id) => id !== absent)
  const asked = await runCli(['topics', 'reassign', topic, '-p', '0', '--replicas', [absent, ...before.slice(1)].join(','), '--timeout-ms', '1000', '-b', c.url(up[0])])
  t.equal(asked.status, 1, 'the wait times out: the new broker is down')
  t.match(asked.stderr, new RegExp(`${topic}/0 is still moving after 1000 ms \\(adding ${absent}, removing ${before[0]}\\).*--cancel\` reverses it`))
  const cancelled = await runCli(['topics', 'reassign', topic, '-p', '0', '--cancel', '-b', c.url(up[1])])
  t.equal(cancelled.status, 0, `${cancelled.stdout}${cancelled.stderr}`)
  t.match(cancelled.stdout, new RegExp(`${topic}/0: cancelling the move \\(going back\\)\\n(.*\\n)*${topic}/0: replicas [0-9,]+, leader \\d\\n$`))
  for (const id of up) {
    const p = await until(`node ${id} to show no move`, async () => {
      const p = await partitionOf(id, topic)
      return (p.addingReplicas ?? []).length === 0 && (p.removingReplicas ?? []).length === 0 ? p : null
    })
    t.same([...p.replicas!].sort(), [...before].sort(), `node ${id}: back on ${before.join(',')}`)
  }
  const nothing = await runCli(['topics', 'reassign', topic, '-p', '0', '--cancel', '-b', c.url(up[0])])
  t.equal(nothing.status, 1)
  t.match(nothing.stderr, /not being reassigned: nothing to cancel/)
  await c.start(absent)
  await c.ready()
})
