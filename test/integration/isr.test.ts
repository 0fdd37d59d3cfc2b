// In-sync replicas on three broker processes (issue 18): a topic with replication factor 3,
// min.insync.replicas=3 and a short replica.lag.time.max.ms. SIGKILL one follower: within the
// lag time (plus the leaders' ISR check) every node's Metadata shows the ISR without it, and
// `topics describe --under-replicated` lists its partitions; an acks=all produce is refused with
// NOT_ENOUGH_REPLICAS and appends nothing (the leader's log end stays). Restart it: the ISR is
// back to three, describe shows each replica's log end equal to the leader's, and acks=all
// writes are accepted again. One cluster for the whole file.
import t from 'tap'
import { loadCodec } from '../../src/codec/index.js'
import { ErrorCode } from '../../src/protocol/index.js'
import { ISR_CHECK_INTERVAL_MS } from '../../src/broker/controller/decisions/limits.js'
import { runCli } from './cli-process.js'
import { ProcessCluster, until } from './quorum-nodes.js'

const TOPIC = 'isr.strict'
const PARTITIONS = 2
const LAG_MS = 2_000
/** How long past the lag time the ISR may take to show in Metadata: a check, the report, its commit, every node replaying it. */
const SHOW_SLACK_MS = ISR_CHECK_INTERVAL_MS + 3_000
const codec = await loadCodec()
const c = await ProcessCluster.create(t, [1, 2, 3])
await c.startAll()

interface PartitionView { leader: number; isr: number[] }

/** What node `id`'s Metadata says of each partition: leader and ISR (ascending). */
async function metadataOf(id: number): Promise<PartitionView[]> {
  const topic = (await c.metadata(id, [TOPIC])).topics![0]
  return (topic.partitions ?? []).sort((a, b) => (a.index ?? 0) - (b.index ?? 0)).map((p) => ({ leader: p.leaderId ?? -1, isr: [...(p.inSyncReplicas ?? [])].sort() }))
}

/** Waits until every running node's Metadata shows `isr` and a leader for every partition; returns the views. */
function isrShown(isr: number[], among: number[]): Promise<PartitionView[]> {
  return until(`nodes ${among.join(', ')} to show ISR ${isr.join(',')} for every partition`, async () => {
    const views = await Promise.all(among.map(metadataOf))
    const ok = views.every((v) => v.length === PARTITIONS && v.every((p) => p.leader >= 0 && p.isr.join(',') === isr.join(',')))
    return ok ? views[0] : null
  }, 60_000)
}

async function cli(...args: string[]) {
  const r = await runCli(['topics', ...args, '-b', c.ids.filter((id) => c.processes.has(id)).map((id) => c.url(id)).join(',')])
  if (r.status !== 0) throw new Error(`bitacora topics ${args.join(' ')} exited ${r.status}: ${r.stderr}`)
  return r.stdout.trimEnd().split('\n').filter((l) => l.length > 0)
}

interface ReplicaState { id: number; logEndOffset: number; lag: number; lastFetchMsAgo: number }
interface DescribedPartition { partition: number; leader: number; isr: number[]; highWatermark: number | null; replicaStates: ReplicaState[] | null }

async function describeJson(): Promise<DescribedPartition[]> {
  const [line] = await cli('describe', TOPIC, '--json')
  return (JSON.parse(line) as { partitions: DescribedPartition[] }).partitions
}

async function produce(leader: number, partition: number) {
  const records = codec.encodeBatch([{ value: new TextEncoder().encode(`v-${Date.now()}`) }])
  const r = await c.call(leader, { produce: { acks: -1, timeoutMs: 10_000, topics: [{ name: TOPIC, partitions: [{ index: partition, records }] }] } })
  return r.produce!.topics![0].partitions![0]
}

let follower = -1
let views: PartitionView[] = []

t.test('RF=3 with min.insync.replicas=3: all three in sync, acks=all accepted, nothing under-replicated', async (t) => {
  const created = await c.call(1, { createTopics: { topics: [{ name: TOPIC, partitions: PARTITIONS, replicationFactor: 3, configs: {
    'min.insync.replicas': '3', 'replica.lag.time.max.ms': String(LAG_MS),
  } }] } })
  t.equal(created.createTopics!.topics![0].error?.code ?? ErrorCode.NONE, ErrorCode.NONE, created.createTopics!.topics![0].error?.message ?? '')
  views = await isrShown([1, 2, 3], c.ids)
  follower = c.ids.find((id) => views.every((p) => p.leader !== id))!
  t.ok(follower > 0, `node ${follower} leads no partition: it is the follower to kill`)
  for (let p = 0; p < PARTITIONS; p++) t.equal((await produce(views[p].leader, p)).error?.code ?? ErrorCode.NONE, ErrorCode.NONE, `acks=all into partition ${p}`)
  t.same(await cli('describe', '--under-replicated'), [], '--under-replicated lists nothing')
})

t.test('SIGKILL a follower: the ISR shrinks within the lag time, --under-replicated lists it, acks=all is refused and appends nothing', async (t) => {
  const killedAt = Date.now()
  await c.stop(follower, 'SIGKILL')
  const survivors = c.ids.filter((id) => id !== follower)
  const expected = survivors.slice().sort()
  await isrShown(expected, survivors)
  const tookMs = Date.now() - killedAt
  t.ok(tookMs <= LAG_MS + SHOW_SLACK_MS, `the shrink showed in ${tookMs} ms (bound: lag ${LAG_MS} + ${SHOW_SLACK_MS} ms)`)

  const listed = await cli('describe', '--under-replicated')
  t.equal(listed.length, PARTITIONS, listed.join('\n'))
  for (const [p, line] of listed.entries()) {
    t.match(line, new RegExp(`^\\tTopic: ${TOPIC.replace('.', '\\.')}\\tPartition: ${p}\\tLeader: \\d\\tLeaderEpoch: \\d+\\tReplicas: [123],[123],[123]\\tIsr: ${expected.join(',')}\\t`))
    t.match(line, /\tHighWatermark: \d+\tLogEnd: /, 'with its offsets')
  }
  for (const p of await describeJson()) {
    const dead = p.replicaStates!.find((r) => r.id === follower)!
    t.ok(dead.lastFetchMsAgo >= LAG_MS, `partition ${p.partition}: the leader last heard from node ${follower} ${dead.lastFetchMsAgo} ms ago`)
  }

  for (let p = 0; p < PARTITIONS; p++) {
    const before = (await describeJson())[p]
    const leaderEnd = before.replicaStates!.find((r) => r.id === before.leader)!.logEndOffset
    const refused = await produce(before.leader, p)
    t.equal(refused.error?.code, ErrorCode.NOT_ENOUGH_REPLICAS, `partition ${p}: ${refused.error?.message ?? 'accepted'}`)
    const after = (await describeJson())[p]
    t.equal(after.replicaStates!.find((r) => r.id === after.leader)!.logEndOffset, leaderEnd, `partition ${p}: nothing appended (log end ${leaderEnd})`)
  }
})

t.test('restart it: the ISR is back to three, each replica at the leader\'s log end, acks=all accepted', async (t) => {
  await c.start(follower)
  views = await isrShown([1, 2, 3], c.ids)
  const caughtUp = await until('describe to show every replica at its leader\'s log end', async () => {
    const parts = await describeJson()
    const ok = parts.every((p) => {
      const leaderEnd = p.replicaStates?.find((r) => r.id === p.leader)?.logEndOffset ?? -1
      return leaderEnd > 0 && p.replicaStates!.length === 3 && p.replicaStates!.every((r) => r.logEndOffset === leaderEnd && r.lag === 0)
    })
    return ok ? parts : null
  })
  t.equal(caughtUp.length, PARTITIONS)
  t.same(await cli('describe', '--under-replicated'), [], 'nothing under-replicated')
  const text = await cli('describe', TOPIC)
  t.match(text[1], /\tIsr: 1,2,3\t.*\tLogEnd: (\d)=(\d+),(\d)=\2,(\d)=\2\tLag: \d=0,\d=0,\d=0$/, 'text: each replica\'s log end, all equal, no lag')
  for (let p = 0; p < PARTITIONS; p++) t.equal((await produce(views[p].leader, p)).error?.code ?? ErrorCode.NONE, ErrorCode.NONE, `acks=all into partition ${p} again`)
})
