// `bitacora log dump` on a real broker's data directory: records produced through the broker
// (lz4, keyed, one not UTF-8) are found by topic name at the offsets a consumer reads them at,
// while the broker runs and after it stops, with the same batch lines both times; a cut tail is
// reported (exit 3) and not repaired; an unknown topic is one line, exit 1. A large partition
// streams through a pipe whole.
import t from 'tap'
import { readdirSync, statSync, truncateSync } from 'node:fs'
import { join } from 'node:path'
import { loadCodec } from '../../src/codec/index.js'
import { PartitionLog } from '../../src/storage/index.js'
import { startBroker, tempDataDir } from './broker-process.js'
import { failsWith, runCli } from './cli-process.js'

type Line = Record<string, unknown> & { type: string }

const objectsOf = (stdout: string): Line[] => stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Line)
const ofType = (objects: Line[], type: string) => objects.filter((o) => o.type === type)

/** partition/offset key=value (value base64 when not UTF-8) of the data records in dump lines: records follow their batch, batches their partition. */
function recordsOfDump(objects: Line[]): string[] {
  const out: string[] = []
  let partition = -1
  let control = false
  for (const o of objects) {
    if (o.type === 'partition') partition = o.partition as number
    if (o.type === 'batch') control = o.control as boolean
    if (o.type === 'record' && !control) out.push(`${partition}/${o.offset} ${o.key}=${o.value}${o.valueEncoding ? ` (${o.valueEncoding})` : ''}`)
  }
  return out.sort()
}

t.test('a broker\'s data directory, dumped by topic name while it runs and after it stops', async (t) => {
  const broker = await startBroker(t)
  const bs = ['--bootstrap-server', broker.url]
  const created = await runCli(['topics', 'create', 'orders', '--partitions', '2', ...bs])
  t.equal(created.status, 0, created.stderr)
  const input = Array.from({ length: 200 }, (_, i) => `k${i % 7}:value ${i}`).join('\n') + '\n'
  const produced = await runCli(['produce', 'orders', '-K', ':', '-z', 'lz4', ...bs], { input })
  t.equal(produced.status, 0, produced.stderr)
  // One value that is not UTF-8 (0xff 0x00), given base64.
  const binary = await runCli(['produce', 'orders', '-k', 'bin', '--value-encoding', 'base64', ...bs], { input: '/wA=\n' })
  t.equal(binary.status, 0, binary.stderr)
  const consumed = await runCli(['consume', 'orders', '-o', 'beginning', '-e', '--json', ...bs])
  t.equal(consumed.status, 0, consumed.stderr)
  const expected = objectsOf(consumed.stdout).map((r) => `${r.partition}/${r.offset} ${r.key}=${r.value}${r.valueEncoding ? ` (${r.valueEncoding})` : ''}`).sort()
  t.equal(expected.length, 201)

  const dumpArgs = ['log', 'dump', broker.dataDir, '--topic', 'orders', '--records', '--json']
  const running = await runCli(dumpArgs)
  t.equal(running.status, 0, `a running broker's directory dumps cleanly: ${running.stderr}`)
  const live = objectsOf(running.stdout)
  t.strictSame(recordsOfDump(live), expected, 'every record at the offset the consumer read it at, while the broker runs')

  await broker.stop('SIGTERM')
  const stopped = await runCli(dumpArgs)
  t.equal(stopped.status, 0, stopped.stderr)
  const offline = objectsOf(stopped.stdout)
  t.strictSame(recordsOfDump(offline), expected, 'and after it stopped')
  t.strictSame(ofType(offline, 'partition').map((p) => [p.topic, p.partition]), [['orders', 0], ['orders', 1]], 'both partitions, named')
  const comparable = (objects: Line[]) => objects.filter((o) => o.type === 'batch' || o.type === 'record')
  t.strictSame(comparable(offline), comparable(live), 'the same bytes, the same batch lines')
  const batches = ofType(offline, 'batch')
  t.ok(batches.every((b) => b.crcOk === true && (b.leaderEpoch as number) >= 1), 'every CRC checks; every batch carries its leader epoch')
  t.ok(batches.some((b) => b.control === true), 'the leader\'s control batch is there')
  t.ok(batches.filter((b) => b.control === false).some((b) => b.compression === 'lz4'), 'the producer\'s lz4 batches, stored as sent')
  for (const p of [0, 1]) {
    const own = offline.slice(offline.findIndex((o) => o.type === 'partition' && o.partition === p))
    const ends = own.find((o) => o.type === 'end')!
    const batchesOf = ofType(own.slice(0, own.indexOf(ends)), 'batch')
    t.ok(batchesOf.every((b, i) => b.baseOffset === (i === 0 ? 0 : (batchesOf[i - 1].lastOffset as number) + 1)), `partition ${p}: batches follow one another from 0`)
    t.equal(ends.nextOffset, (batchesOf.at(-1)!.lastOffset as number) + 1)
  }

  // Cut the tail of partition 0's active segment, as a crash mid-write would: reported, exit 3, not repaired.
  const dir = ofType(offline, 'partition')[0].dir as string
  const segment = join(dir, readdirSync(dir).filter((f) => f.endsWith('.log')).sort().at(-1)!)
  const size = statSync(segment).size
  truncateSync(segment, size - 3)
  const torn = await runCli(['log', 'dump', broker.dataDir, '--topic', 'orders', '-p', '0'])
  t.equal(torn.status, 3, torn.stderr)
  t.match(torn.stdout, /\n! torn-tail: 00000000000000000000\.log at byte \d+: batch of \d+ bytes is cut off/)
  t.equal(statSync(segment).size, size - 3, 'the dump repaired nothing')

  failsWith(t, await runCli(['log', 'dump', broker.dataDir, '--topic', 'nope']), 1, /topic 'nope' is not in the metadata log of .* \(topics: orders\)/)
})

t.test('a large partition streams through a pipe: every batch and record, nothing on stderr', async (t) => {
  // 2,000 batches of 100 records of 100 bytes (about 21 MB on disk, 40 MB of JSON out): far more
  // than a pipe holds, so the dump waits for its reader many times.
  const dir = join(tempDataDir(t), 'ffffffffffffffffffffffffffffffff-0')
  const codec = await loadCodec()
  const log = await PartitionLog.open({ dir, codec, config: { segmentBytes: 4 * 1024 * 1024, flush: 'interval' } })
  const value = new Uint8Array(100).fill(0x61)
  const batch = codec.encodeBatch(Array.from({ length: 100 }, (_, i) => ({ key: null, value, timestamp: 1_700_000_000_000 + i })))
  for (let i = 0; i < 2000; i++) await log.appendAsLeader(batch.slice(), 1)
  await log.close()
  const r = await runCli(['log', 'dump', dir, '--json', '--records'], { timeoutMs: 60_000 })
  t.equal(r.status, 0)
  t.equal(r.stderr, '', 'no warning (a listener left behind per wait would warn past ten)')
  const objects = objectsOf(r.stdout)
  t.equal(ofType(objects, 'batch').length, 2000)
  t.equal(ofType(objects, 'record').length, 200_000)
  t.ok(ofType(objects, 'segment').length >= 5, 'across segments')
  t.match(ofType(objects, 'end'), [{ batches: 2000, records: 200_000, nextOffset: 200_000, findings: 0 }])
})
