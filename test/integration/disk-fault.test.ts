// Disk faults on a minority (issue 18): a flipped byte in a closed segment of one replica of an
// RF=3 partition. The replica was stopped cleanly, so recovery loads that segment's index without
// checking its CRCs; the damage is found by the scrub, a read, or the check before a campaign.
// Then the replica truncates to the last good batch, neither votes nor leads until it has
// re-fetched the damaged range from the leader, and only then takes leadership when asked
// (`topics rebalance-leaders`). Afterwards its log is byte for byte the old leader's below the HW
// (`bitacora log dump`), and every acknowledged record reads back intact from each leader.
import t from 'tap'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createClient, type RecordMetadata } from '../../src/client/node.js'
import { readBack } from './acked-load.js'
import { runCli } from './cli-process.js'
import { ProcessCluster, until } from './quorum-nodes.js'

const TOPIC = 'disk-fault'
const RECORDS = 300
const SEGMENT_BYTES = 4096
/** Bytes into a batch that lie inside the CRC-covered records section (the header is 61 bytes). */
const FLIP_AT_IN_BATCH = 64

const c = await ProcessCluster.create(t, [1, 2, 3])
await c.startAll()
const client = createClient({ brokers: c.ids.map((id) => c.url(id)), clientId: 'disk-fault' })
t.teardown(() => client.close())

/** The leader every running node names, once they agree on one that is not `notThis`. */
async function agreedLeader(notThis = -1): Promise<number> {
  const among = [...c.processes.keys()]
  return until(`nodes ${among.join(', ')} to name one leader of ${TOPIC}${notThis < 0 ? '' : ` other than ${notThis}`}`, async () => {
    const named = await Promise.all(among.map(async (id) => (await c.metadata(id, [TOPIC])).topics![0].partitions?.[0]?.leaderId ?? -1))
    return named[0] >= 1 && named[0] !== notThis && named.every((l) => l === named[0]) ? named[0] : null
  })
}

/** Every record of the partition through `lastOffset`, by offset, read through whichever broker leads. */
async function readAll(lastOffset: number): Promise<Map<number, string>> {
  const read = await readBack([...c.processes.keys()].map((id) => c.url(id)), TOPIC, [lastOffset])
  return new Map(read.map((r) => [r.offset, r.value]))
}

/** The `batch` lines of a node's dump of the partition below `end` (they depend on the bytes only). */
async function dumpBatches(id: number, end: number): Promise<Array<Record<string, unknown>>> {
  const r = await runCli(['log', 'dump', c.dataDirs.get(id)!, '--topic', TOPIC, '--json', '--max-offset', String(end)])
  t.not(r.status, 1, `log dump of node ${id}: ${r.stderr}`)
  return r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>).filter((o) => o.type === 'batch')
}

function partitionDirOf(id: number): string {
  const dataDir = c.dataDirs.get(id)!
  const dirs = readdirSync(dataDir).filter((n) => /^[0-9a-f]{32}-0$/.test(n))
  // The metadata log has its own directory name; the topic is the only data partition here.
  if (dirs.length !== 1) throw new Error(`expected one data partition in ${dataDir}, found ${dirs.join(', ')}`)
  return join(dataDir, dirs[0])
}

/** Flips a byte inside the first batch of a closed segment (not the first, not the active one); returns that batch's base offset. */
function flipByteInClosedSegment(dir: string): { file: string; baseOffset: number } {
  const logs = readdirSync(dir).filter((n) => n.endsWith('.log')).sort()
  if (logs.length < 3) throw new Error(`only ${logs.length} segments in ${dir}`)
  const file = logs[1]
  const path = join(dir, file)
  const bytes = readFileSync(path)
  bytes[FLIP_AT_IN_BATCH] ^= 0x5a
  writeFileSync(path, bytes)
  return { file, baseOffset: Number(file.slice(0, 20)) }
}

t.test('a flipped byte in a replica\'s closed segment: it refuses to lead until repaired, is re-replicated, and never served', async (t) => {
  const [created] = await client.admin().createTopics([{ topic: TOPIC, partitions: 1, replicationFactor: 3, configs: { 'segment.bytes': String(SEGMENT_BYTES) } }])
  t.equal(created.error, null, `created: ${created.error?.message ?? ''}`)
  const preferred = (await c.metadata(c.ids[0], [TOPIC])).topics![0].partitions![0].replicas![0]
  t.equal(await agreedLeader(), preferred, 'led by its preferred replica')

  const producer = await client.producer({ acks: 'all', lingerMs: 0 })
  const acked = new Map<string, RecordMetadata>()
  for (let i = 0; i < RECORDS; i++) {
    const sent = producer.send({ topic: TOPIC, partition: 0, value: `record-${i}-${'x'.repeat(80)}` }).then((m) => void acked.set(`record-${i}-${'x'.repeat(80)}`, m))
    if (i % 10 === 9) await sent
  }
  await producer.flush()
  await producer.close()
  t.equal(acked.size, RECORDS, 'every record acknowledged with acks=all')
  const lastOffset = Math.max(...[...acked.values()].map((m) => m.offset))
  const intact = (read: Map<number, string>, where: string) => {
    const wrong = [...acked].filter(([value, m]) => read.get(m.offset) !== value).map(([, m]) => `${m.offset}: ${read.get(m.offset) ?? 'nothing'}`)
    t.same(wrong, [], `${where}: every acknowledged record reads back intact at its offset`)
  }

  // The preferred replica stops cleanly (its leadership moves), and a byte of a closed segment flips.
  await c.stop(preferred, 'SIGTERM')
  const interim = await agreedLeader(preferred)
  const flipped = flipByteInClosedSegment(partitionDirOf(preferred))
  const damagedDump = await dumpBatches(preferred, lastOffset + 1)
  const bad = damagedDump.filter((b) => b.crcOk !== true)
  t.same(bad.map((b) => b.baseOffset), [flipped.baseOffset], `the dump sees exactly the flipped batch at ${flipped.baseOffset} in ${flipped.file}`)

  const p = await c.start(preferred)
  await c.ready()
  intact(await readAll(lastOffset), `from node ${interim} (leading while node ${preferred} is damaged)`)

  // Asked to take leadership back, it leads only once repaired (it may first refuse a transfer
  // that reaches it before the damage is re-fetched: then ask again).
  let leadingSeenMs = 0
  await until(`node ${preferred} to lead again after rebalance-leaders`, async () => {
    await runCli(['topics', 'rebalance-leaders', TOPIC, '-b', c.url(interim)])
    leadingSeenMs = Date.now()
    return (await agreedLeader()) === preferred
  }, 60_000)
  const logLine = (text: string) => until(`node ${preferred} to log "${text}"`, async () => {
    const lines = p.stderr().split('\n').filter((l) => l.includes(text))
    return lines.length > 0 ? lines : null
  })
  const found = await logLine('damaged log: truncating')
  t.equal(found.length, 1, `one log line for the damage: ${found.join('\n')}`)
  t.match(JSON.parse(found[0]), { startOffset: flipped.baseOffset, segment: flipped.baseOffset, reason: /CRC/ }, 'it truncated at the flipped batch')
  const [repaired] = await logLine('damaged log repaired')
  // Same host, same clock: the repair was logged before the rebalance that made it leader was asked.
  t.ok(Date.parse(JSON.parse(repaired).time as string) <= leadingSeenMs, 'repaired before it took leadership')

  // Repaired: byte for byte the other replicas below the HW, and every record intact from it.
  const mine = await dumpBatches(preferred, lastOffset + 1)
  t.same(mine.filter((b) => b.crcOk !== true), [], 'no damaged batch left')
  t.same(mine, await dumpBatches(interim, lastOffset + 1), `identical to node ${interim}'s log below the HW`)
  intact(await readAll(lastOffset), `from node ${preferred}, repaired and leading`)
})
