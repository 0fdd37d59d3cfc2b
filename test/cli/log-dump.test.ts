// `bitacora log dump` over real files written by the real storage layer: a PartitionLog appended
// to in a temp dir (several segments; uncompressed, lz4, gzip, control and producer-stamped
// batches), then damaged the ways disks and crashes damage it. The dump must report every field,
// find what is wrong where it is, never write, and give the same output for the same bytes.
import t, { type Test } from 'tap'
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { BATCH_HEADER, BATCH_HEADER_BYTES, type RecordInput } from '../../src/codec/index.js'
import { failureOf, OperationalError, UsageError } from '../../src/cli/errors.js'
import { EXIT_FINDINGS, logCommand } from '../../src/cli/log-dump.js'
import { MetadataImage } from '../../src/metadata/image.js'
import { encodeRecord, encodeSnapshot } from '../../src/metadata/record-codec.js'
import { NodeFileLayer, SnapshotStore } from '../../src/storage/index.js'
import { dumpPartition, partitionFacts, type DumpEvent } from '../../src/storage/dump.js'
import { ReadOnlyFileLayer } from '../../src/storage/read-only-file-layer.js'
import { codec, open, tempDir } from '../storage/helpers.js'

const enc = new TextEncoder()
const SEGMENT_BYTES = 1024
const TOPIC_ID = 'a477f698b04144f8b00ad168e08e3ae9'
const T0 = 1_700_000_000_000

type Line = Record<string, unknown> & { type: string }

async function dump(argv: string[]): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = []
  const code = await logCommand(['dump', ...argv], async (ls) => {
    lines.push(...ls.flatMap((l) => l.split('\n')))
    return true
  })
  return { code, lines }
}

async function dumpJson(argv: string[]): Promise<{ code: number; objects: Line[] }> {
  const { code, lines } = await dump([...argv, '--json'])
  return { code, objects: lines.map((l) => JSON.parse(l) as Line) }
}

const ofType = (objects: Line[], type: string) => objects.filter((o) => o.type === type)

function records(count: number, from: number, valueBytes = 40): RecordInput[] {
  return Array.from({ length: count }, (_, i) => ({ key: enc.encode(`k${from + i}`), value: enc.encode(`value-${from + i}-`.padEnd(valueBytes, 'x')), timestamp: T0 + from + i }))
}

/**
 * A partition directory holding, in order: 10 plain batches of 2 records (epoch 1), which roll
 * segments every ~1 KiB; an lz4 batch (epoch 2); a control batch (epoch 2); a producer-stamped
 * transactional batch (epoch 3) with a binary value and a header; a gzip batch (epoch 3).
 */
async function writePartition(dir: string): Promise<void> {
  const log = await open(dir, { config: { segmentBytes: SEGMENT_BYTES, indexIntervalBytes: 128 } })
  for (let i = 0; i < 10; i++) await log.appendAsLeader(codec.encodeBatch(records(2, 2 * i)), 1)
  await log.appendAsLeader(codec.encodeBatch(records(3, 20), { compression: 'lz4' }), 2)
  await log.appendAsLeader(codec.encodeBatch([{ key: new Uint8Array([0, 0, 0, 2]), value: enc.encode('{"leader":1}'), timestamp: T0 }], { control: true }), 2)
  const stamped = codec.encodeBatch(
    [{ key: null, value: new Uint8Array([0, 0xff, 0xfe]), headers: [{ key: 'h', value: enc.encode('v') }], timestamp: T0 + 30 }],
    { producerId: 42, producerEpoch: 3, baseSequence: 7, transactional: true },
  )
  await log.appendAsLeader(stamped, 3)
  await log.appendAsLeader(await codec.encodeBatchAsync(records(2, 30), { compression: 'gzip' }), 3, { prevalidated: true })
  await log.close()
}

/** Every file's bytes and mtime: the dump must leave them as they were. */
function filesOf(dir: string): Record<string, { bytes: string; mtimeMs: number }> {
  return Object.fromEntries(readdirSync(dir).sort().map((name) => [name, { bytes: readFileSync(join(dir, name)).toString('base64'), mtimeMs: statSync(join(dir, name)).mtimeMs }]))
}

/** Where each batch starts in its segment, from a JSON dump: segment lines, then sizes in order. */
function positions(objects: Line[]): Map<number, number> {
  const at = new Map<number, number>()
  let position = 0
  for (const o of objects) {
    if (o.type === 'segment') position = 0
    if (o.type !== 'batch') continue
    at.set(o.baseOffset as number, position)
    position += o.sizeBytes as number
  }
  return at
}

function segmentsOf(dir: string): string[] {
  return readdirSync(dir).filter((f) => /^\d{20}\.log$/.test(f)).sort()
}

async function partition(t: Test): Promise<string> {
  const dir = join(tempDir(t), `${TOPIC_ID}-0`)
  mkdirSync(dir)
  await writePartition(dir)
  return dir
}

t.test('a partition directory: every batch with its fields, the segments and checkpoints, records with --records', async (t) => {
  const dir = await partition(t)
  const before = filesOf(dir)
  const { code, objects } = await dumpJson([dir, '--records'])
  t.equal(code, 0, 'nothing wrong found')
  t.strictSame(filesOf(dir), before, 'the dump wrote nothing (same bytes, same mtimes)')

  const [header] = ofType(objects, 'partition')
  t.match(header, { dir, topic: null, topicId: TOPIC_ID, partition: 0, logStart: null, leaderEpochs: [{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 20 }, { epoch: 3, startOffset: 24 }] })
  const segments = segmentsOf(dir)
  t.ok(segments.length >= 3, `several segments (${segments.length})`)
  t.strictSame((header.segments as Array<{ file: string }>).map((s) => s.file), segments)
  t.strictSame(ofType(objects, 'segment').map((s) => [s.file, s.active]), segments.map((f, i) => [f, i === segments.length - 1]))

  const batches = ofType(objects, 'batch')
  t.strictSame(batches.map((b) => [b.baseOffset, b.lastOffset, b.recordCount, b.leaderEpoch]), [
    ...Array.from({ length: 10 }, (_, i) => [2 * i, 2 * i + 1, 2, 1]), [20, 22, 3, 2], [23, 23, 1, 2], [24, 24, 1, 3], [25, 26, 2, 3],
  ])
  t.ok(batches.every((b) => b.crcOk === true && b.crc === b.computedCrc && b.magic === 2), 'every CRC checks')
  t.strictSame(batches.map((b) => b.compression), [...Array(10).fill('none'), 'lz4', 'none', 'none', 'gzip'])
  t.match(batches[11], { control: true, transactional: false, producerId: -1 })
  t.match(batches[12], { control: false, transactional: true, producerId: 42, producerEpoch: 3, baseSequence: 7, baseTimestamp: T0 + 30, maxTimestamp: T0 + 30 })
  t.match(batches[0], { producerId: -1, producerEpoch: -1, baseSequence: -1, timestampType: 'CreateTime', baseTimestamp: T0, maxTimestamp: T0 + 1 })
  const stored = segments.reduce((n, f) => n + statSync(join(dir, f)).size, 0)
  t.equal(batches.reduce((n, b) => n + (b.sizeBytes as number), 0), stored, 'the batch sizes add up to the segments')

  const recs = ofType(objects, 'record')
  t.strictSame(recs.map((r) => r.offset), Array.from({ length: 27 }, (_, i) => i), 'every record, at its offset')
  t.match(recs[21], { key: 'k21', value: /^value-21-x+$/ }, 'lz4 records decompressed')
  t.match(recs[26], { key: 'k31', value: /^value-31-x+$/ }, 'gzip records decompressed')
  t.match(recs[24], { key: null, value: 'AP/+', valueEncoding: 'base64', headers: [{ key: 'h', value: 'v' }] }, 'bytes that are not UTF-8 go base64, named')
  t.notOk('valueEncoding' in recs[0], 'UTF-8 text carries no encoding')
  t.match(ofType(objects, 'end'), [{ batches: 14, records: 27, crcMismatches: 0, findings: 0, nextOffset: 27, stoppedAtMaxOffset: false }])

  const again = await dumpJson([dir, '--records'])
  t.strictSame(again.objects, objects, 'the same bytes give the same output')

  const text = await dump([dir, '--records'])
  t.equal(text.code, 0)
  t.match(text.lines.join('\n'), /baseOffset: 24 lastOffset: 24 count: 1 leaderEpoch: 3 producerId: 42 producerEpoch: 3 baseSequence: 7 compression: none isControl: false isTransactional: true CreateTime: \d+ maxTimestamp: \d+ position: \d+ size: \d+ crc: [0-9a-f]{8} ok\n\| offset: 24 timestamp: \d+ key: null value: base64:AP\/\+ headers: "h"="v"/)
})

t.test('a flipped byte in a closed segment: that batch is CRC BAD, the walk goes on, the file stays as it is', async (t) => {
  const dir = await partition(t)
  const { objects: clean } = await dumpJson([dir])
  const first = ofType(clean, 'batch')[1]
  // The second batch of the first segment: flip a byte in its records section (inside the CRC).
  const [segment] = segmentsOf(dir)
  const path = join(dir, segment)
  const bytes = readFileSync(path)
  const at = (ofType(clean, 'batch')[0].sizeBytes as number) + (first.sizeBytes as number) - 5
  bytes[at] ^= 0x40
  writeFileSync(path, bytes)
  const before = filesOf(dir)

  const { code, objects } = await dumpJson([dir, '--records'])
  t.equal(code, EXIT_FINDINGS, 'exit 3: something wrong found')
  t.strictSame(filesOf(dir), before, 'reported, never fixed')
  const batches = ofType(objects, 'batch')
  t.equal(batches.length, 14, 'every batch still dumped: the framing holds, so the walk goes on')
  t.match(batches[1], { baseOffset: 2, crcOk: false, crc: first.crc, recordsError: /CRC/ })
  t.not(batches[1].computedCrc, batches[1].crc)
  t.ok(batches.filter((_, i) => i !== 1).every((b) => b.crcOk === true), 'only that batch is bad')
  t.notOk(ofType(objects, 'record').some((r) => r.offset === 2 || r.offset === 3), 'records of a bad batch are not printed')
  t.match(ofType(objects, 'finding'), [{ kind: 'crc-mismatch', segment, position: ofType(clean, 'batch')[0].sizeBytes, message: /offset 2 .*closed segment/ }])
  t.match(ofType(objects, 'end'), [{ crcMismatches: 1, findings: 1, batches: 14 }])
  const text = await dump([dir])
  t.match(text.lines.join('\n'), /baseOffset: 2 lastOffset: 3 .* crc: [0-9a-f]{8} BAD \(computed [0-9a-f]{8}\)\n/)
  t.match(text.lines.join('\n'), /\n! crc-mismatch: batch at offset 2 /)
})

t.test('a torn tail in the active segment: reported where it starts, the batches before it intact', async (t) => {
  const dir = await partition(t)
  const segments = segmentsOf(dir)
  const active = join(dir, segments[segments.length - 1])
  const size = statSync(active).size
  const lastAt = positions((await dumpJson([dir])).objects).get(25)!
  truncateSync(active, size - 10)
  const before = filesOf(dir)
  const { code, objects } = await dumpJson([dir])
  t.equal(code, EXIT_FINDINGS)
  t.strictSame(filesOf(dir), before, 'the dump does not truncate')
  const batches = ofType(objects, 'batch')
  t.equal(batches.at(-1)!.baseOffset, 24, 'the batches before the cut are all there')
  const [finding] = ofType(objects, 'finding')
  t.match(finding, { kind: 'torn-tail', segment: segments.at(-1), message: /cut off.*mid-write/ })
  t.equal(finding.position, lastAt, 'at the start of the cut batch')
  t.match(ofType(objects, 'end'), [{ nextOffset: 25, findings: 1 }])
})

t.test('a segment that is not ours, and a damaged checkpoint', async (t) => {
  const dir = join(tempDir(t), `${TOPIC_ID}-3`)
  mkdirSync(dir)
  writeFileSync(join(dir, '00000000000000000000.log'), enc.encode('this is not a segment, just some text a user put here\n'.repeat(3)))
  writeFileSync(join(dir, 'leader-epoch-checkpoint'), enc.encode('bitacora-leader-epochs 1\n1\n1 0\ncrc32c 00000000\n'))
  const { code, objects } = await dumpJson([dir])
  t.equal(code, EXIT_FINDINGS)
  t.match(ofType(objects, 'partition'), [{ leaderEpochs: null, partition: 3 }])
  t.match(ofType(objects, 'finding'), [
    { kind: 'damaged-checkpoint', message: /leader-epoch-checkpoint.*damaged/ },
    { kind: 'corrupt-segment', position: 0, message: /at byte 0: .*not a segment of RecordBatch v2 batches/ },
  ])
  t.equal(ofType(objects, 'batch').length, 0)
})

t.test('a batch whose CRC holds but whose records do not decode: bad-records with --records, nothing without', async (t) => {
  const dir = await partition(t)
  const [segment] = segmentsOf(dir)
  const path = join(dir, segment)
  const bytes = readFileSync(path)
  // The first batch's first record length becomes -64 (zigzag 0x7f), then the CRC is made to match again.
  bytes[BATCH_HEADER_BYTES] = 0x7f
  const size = bytes.readInt32BE(BATCH_HEADER.batchLength.at) + BATCH_HEADER.partitionLeaderEpoch.at
  bytes.writeUInt32BE(codec.crc32c(bytes.subarray(BATCH_HEADER.attributes.at, size)), BATCH_HEADER.crc.at)
  writeFileSync(path, bytes)
  const plain = await dumpJson([dir])
  t.equal(plain.code, 0, 'framing and CRC hold: nothing found without decoding')
  const decoded = await dumpJson([dir, '--records'])
  t.equal(decoded.code, EXIT_FINDINGS)
  t.match(ofType(decoded.objects, 'batch')[0], { crcOk: true, recordsError: /RECORD|record/ })
  t.match(ofType(decoded.objects, 'finding'), [{ kind: 'bad-records', position: 0, message: /offset 0 .*records do not decode/ }])
  t.equal(ofType(decoded.objects, 'record')[0].offset, 2, 'the other batches\' records are there')
})

t.test('a segment deleted while the dump runs (retention on a running broker): unreadable, the rest dumped', async (t) => {
  const dir = await partition(t)
  const fs = new ReadOnlyFileLayer()
  const facts = partitionFacts(fs, dir, (b) => codec.crc32c(b))
  const [first, ...rest] = facts.segments
  rmSync(join(dir, first.file))
  const events: DumpEvent[] = []
  const summary = await dumpPartition(fs, dir, facts, codec, {}, async (e) => {
    events.push(e)
    return true
  })
  t.match(events.filter((e) => e.type === 'finding'), [{ finding: { kind: 'unreadable', segment: first.file, message: /gone since it was listed/ } }])
  t.equal(events.filter((e) => e.type === 'segment').length, rest.length + 1)
  t.match(summary, { findings: 1, nextOffset: 27 })
  const firstLeft = events.find((e) => e.type === 'batch')
  t.equal(firstLeft?.type === 'batch' && firstLeft.batch.header.baseOffset, rest[0].baseOffset, 'the walk goes on with the next segment')
})

t.test('a partition directory that cannot be listed is a finding, and the others are dumped', async (t) => {
  const data = tempDir(t)
  writeFileSync(join(data, 'meta.properties'), 'version=1\n')
  const good = join(data, `${TOPIC_ID}-0`)
  mkdirSync(good)
  await writePartition(good)
  // A file where a partition directory should be: listing it fails (ENOTDIR), as a directory without read permission would (EACCES; root reads those anyway).
  writeFileSync(join(data, `${TOPIC_ID}-1`), 'not a directory')
  const { code, objects } = await dumpJson([data])
  t.equal(code, EXIT_FINDINGS)
  t.strictSame(ofType(objects, 'partition').map((p) => [p.partition, (p.segments as unknown[]).length > 0]), [[0, true], [1, false]])
  t.match(ofType(objects, 'finding'), [{ kind: 'unreadable', message: /-1: ENOTDIR/ }])
  t.match(ofType(objects, 'end'), [{ batches: 14 }, { batches: 0, nextOffset: null }])
})

t.test('a segment whose reads fail is unreadable, and the walk goes on', async (t) => {
  const dir = await partition(t)
  // A directory under a segment's name: it opens, and every read of it fails (EISDIR), as reads of a failing disk do (EIO).
  mkdirSync(join(dir, '00000000000000000001.log'))
  const { code, objects } = await dumpJson([dir])
  t.equal(code, EXIT_FINDINGS)
  t.match(ofType(objects, 'finding'), [{ kind: 'unreadable', segment: '00000000000000000001.log', message: /EISDIR/ }])
  t.equal(ofType(objects, 'batch').length, 14, 'every batch of the other segments')
})

t.test('a reader that goes away ends the walk', async (t) => {
  const dir = await partition(t)
  const fs = new ReadOnlyFileLayer()
  let seen = 0
  await dumpPartition(fs, dir, partitionFacts(fs, dir, (b) => codec.crc32c(b)), codec, {}, async () => ++seen < 3)
  t.equal(seen, 3, 'nothing is emitted after emit said false')
})

t.test('--max-offset: two replicas compare equal up to it, whatever lies past it', async (t) => {
  const root = tempDir(t)
  const a = join(root, 'a', `${TOPIC_ID}-0`)
  const b = join(root, 'b', `${TOPIC_ID}-0`)
  mkdirSync(a, { recursive: true })
  await writePartition(a)
  // Replica b: the same bytes, then a divergent tail (a batch of another epoch).
  mkdirSync(b, { recursive: true })
  for (const f of readdirSync(a)) copyFileSync(join(a, f), join(b, f))
  const log = await open(b, { config: { segmentBytes: SEGMENT_BYTES } })
  await log.appendAsLeader(codec.encodeBatch(records(2, 99)), 4)
  await log.close()

  const comparable = (objects: Line[]) => objects.filter((o) => o.type === 'batch' || o.type === 'record')
  const full = [await dumpJson([a, '--records']), await dumpJson([b, '--records'])]
  t.notSame(comparable(full[0].objects), comparable(full[1].objects), 'the whole logs differ')
  const upTo = [await dumpJson([a, '--records', '--max-offset', '25']), await dumpJson([b, '--records', '--max-offset', '25'])]
  t.strictSame(comparable(upTo[0].objects), comparable(upTo[1].objects), 'up to the offset they are the same')
  t.equal(ofType(upTo[0].objects, 'batch').at(-1)!.lastOffset, 24, 'stops before the first batch holding offset 25')
  t.match(ofType(upTo[0].objects, 'end'), [{ stoppedAtMaxOffset: true, nextOffset: 25 }])
  t.match(ofType((await dumpJson([a, '--max-offset', '26'])).objects, 'batch').at(-1), { lastOffset: 24 }, 'a batch reaching past the offset is left out whole')
})

t.test('a data directory: names from the metadata log (its snapshot-less log), picked by --topic and --partition', async (t) => {
  const data = tempDir(t)
  writeFileSync(join(data, 'meta.properties'), 'version=1\n')
  const meta = await open(join(data, '__cluster_metadata-0'))
  const value = (r: Parameters<typeof encodeRecord>[0]) => ({ value: encodeRecord(r), timestamp: T0 })
  await meta.appendAsLeader(codec.encodeBatch([
    value({ type: 'topic', name: 'orders', topicId: TOPIC_ID }),
    value({ type: 'partition', topicId: TOPIC_ID, index: 0, replicas: [0] }),
    value({ type: 'partition', topicId: TOPIC_ID, index: 1, replicas: [0] }),
  ]), 1)
  await meta.close()
  for (const p of [0, 1]) {
    const log = await open(join(data, `${TOPIC_ID}-${p}`))
    await log.appendAsLeader(codec.encodeBatch(records(1, p)), 1)
    await log.close()
  }
  const orphan = 'ffffffffffffffffffffffffffffffff'
  const log = await open(join(data, `${orphan}-0`))
  await log.appendAsLeader(codec.encodeBatch(records(1, 0)), 1)
  await log.close()

  const all = await dumpJson([data])
  t.equal(all.code, 0)
  t.strictSame(ofType(all.objects, 'partition').map((p) => [p.topic, p.partition]), [['__cluster_metadata', 0], ['orders', 0], ['orders', 1], [null, 0]], 'every partition, named where the metadata log names it, in a stable order')
  const picked = await dumpJson([data, '--topic', 'orders', '-p', '1', '--records'])
  t.strictSame(ofType(picked.objects, 'partition').map((p) => p.dir), [join(data, `${TOPIC_ID}-1`)])
  t.match(ofType(picked.objects, 'record'), [{ offset: 0, key: 'k1' }])
  const metaRecords = ofType((await dumpJson([data, '--topic', '__cluster_metadata', '--records'])).objects, 'record')
  t.strictSame(metaRecords.map((r) => r.metadataRecord), [`topic orders id=${TOPIC_ID}`, `partition ${TOPIC_ID}/0 replicas=0`, `partition ${TOPIC_ID}/1 replicas=0`], 'the metadata log\'s records, decoded beside their bytes')
  t.notOk(ofType(picked.objects, 'record').some((r) => 'metadataRecord' in r), 'only there')
  const byId = await dumpJson([data, '--topic-id', orphan])
  t.strictSame(ofType(byId.objects, 'partition').map((p) => [p.topicId, p.topic]), [[orphan, null]])
  const inside = await dumpJson([join(data, `${TOPIC_ID}-0`)])
  t.match(ofType(inside.objects, 'partition'), [{ topic: 'orders', partition: 0 }], 'a partition directory is named from its data directory')

  await t.rejects(dump([data, '--topic', 'nope']), new OperationalError(`log dump: topic 'nope' is not in the metadata log of ${data} (topics: orders)`))
  await t.rejects(dump([data, '--topic', 'orders', '-p', '7']), { message: /holds no partition directory of orders partition 7/ })
})

t.test('names from the metadata log\'s latest snapshot and the log after it; a damaged snapshot is said', async (t) => {
  const data = tempDir(t)
  const metaDir = join(data, '__cluster_metadata-0')
  const paymentsId = 'b477f698b04144f8b00ad168e08e3ae9'
  // A snapshot at 3 names orders; the log, started at 3, creates payments.
  const image = MetadataImage.EMPTY.apply([{ type: 'topic', name: 'orders', topicId: TOPIC_ID }, { type: 'partition', topicId: TOPIC_ID, index: 0, replicas: [0] }])
  const { store } = await SnapshotStore.open(new NodeFileLayer(), metaDir, (b) => codec.crc32c(b))
  await store.write({ endOffset: 3, epoch: 1 }, [0], encodeSnapshot(image))
  const meta = await open(metaDir)
  await meta.truncateFullyAndStartAt(3, 1)
  await meta.appendAsLeader(codec.encodeBatch([
    { value: encodeRecord({ type: 'topic', name: 'payments', topicId: paymentsId }), timestamp: T0 },
    { value: encodeRecord({ type: 'partition', topicId: paymentsId, index: 0, replicas: [0] }), timestamp: T0 },
  ]), 1)
  await meta.close()
  for (const id of [TOPIC_ID, paymentsId]) {
    const log = await open(join(data, `${id}-0`))
    await log.appendAsLeader(codec.encodeBatch(records(1, 0)), 1)
    await log.close()
  }
  const named = await dumpJson([data])
  t.strictSame(ofType(named.objects, 'partition').map((p) => p.topic), ['__cluster_metadata', 'orders', 'payments'])
  t.match(ofType(named.objects, 'partition')[0], { logStart: { offset: 3, epoch: 1 } }, 'the metadata log starts at its snapshot')

  const [snapshot] = readdirSync(metaDir).filter((f) => f.endsWith('.snapshot'))
  const bytes = readFileSync(join(metaDir, snapshot))
  bytes[bytes.length - 6] ^= 1
  writeFileSync(join(metaDir, snapshot), bytes)
  const unnamed = await dumpJson([data])
  t.strictSame(ofType(unnamed.objects, 'partition').map((p) => p.topic), ['__cluster_metadata', null, null], 'no names rather than wrong ones')
  await t.rejects(dump([data, '--topic', 'orders']), { message: /topic 'orders' is not in the metadata log .*snapshot is unreadable: .*damaged/ })
})

t.test('bad input: one clear line, the right exit code', async (t) => {
  const root = tempDir(t)
  const file = join(root, 'file')
  writeFileSync(file, 'x')
  const cases: Array<[string[], RegExp, number]> = [
    [[join(root, 'missing')], /no such directory: .*missing$/, 1],
    [[file], /is a file, not a directory/, 1],
    [[root], /neither a data directory .* nor a partition directory/, 1],
    [[], /log dump: missing DIR/, 2],
    [[root, root], /unexpected argument/, 2],
    [[root, '--topic-id', 'XYZ'], /--topic-id: expected 32 lowercase hex digits/, 2],
    [[root, '--max-offset', '-1'], /--max-offset: expected an integer >= 0/, 2],
    [[root, '--topic', 'a', '--topic-id', TOPIC_ID], /not both/, 2],
  ]
  for (const [argv, message, exitCode] of cases) {
    const err = await dump(argv).then(() => null, (e: unknown) => e)
    t.match(failureOf(err), { message, exitCode }, argv.join(' '))
  }
  const dir = await partition(t)
  await t.rejects(dump([dir, '--partition', '0']), UsageError, 'a partition directory takes no picking flags')
  await t.rejects(logCommand(['frobnicate']), /unknown subcommand 'frobnicate'/)
})

t.test('the read-only file layer refuses every write', async (t) => {
  const dir = await partition(t)
  const fs = new ReadOnlyFileLayer()
  const [segment] = segmentsOf(dir)
  const h = fs.open(join(dir, segment), { create: false })
  t.throws(() => h.write(new Uint8Array(1), 0), /read-only/)
  t.throws(() => h.truncate(0), /read-only/)
  t.throws(() => fs.open(join(dir, 'new'), { create: true }), /read-only/)
  t.throws(() => fs.remove(join(dir, segment)), /read-only/)
  t.throws(() => fs.rename(join(dir, segment), join(dir, 'x')), /read-only/)
  h.close()
  t.ok(statSync(join(dir, segment)).size > 0)
})
