// `bitacora log dump DIR`: an offline view of partitions' batches, as Kafka's
// `kafka-dump-log --files … --print-data-log`, from a data directory (every partition, or those
// picked by topic and partition; names from the directory's metadata log) or one partition
// directory. Reads only (a read-only file layer: nothing can write), so it is safe on a running
// broker's directory; what it finds wrong (a torn tail, a bad CRC, a damaged checkpoint) is
// reported where it is and sets exit code 3, never fixed.
import { statSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { loadCodec, type Codec } from '../codec/index.js'
import { METADATA_DIR_NAME, METADATA_TOPIC_ID } from '../broker/controller/decisions/limits.js'
import { dumpPartition, partitionFacts, type DumpEvent } from '../storage/dump.js'
import { ReadOnlyFileLayer } from '../storage/read-only-file-layer.js'
import { intFlag, parseFlags, positionals } from './args.js'
import { OperationalError, UsageError } from './errors.js'
import { JSON_FORMAT, TEXT_FORMAT, type DumpFormat, type PartitionName } from './log-dump-format.js'
import { topicNames } from './log-dump-names.js'

export const LOG_USAGE = `usage: bitacora log dump DIR [options]

Prints the batches of partitions as they are on disk, without a broker: per partition its
segments, log start and leader-epoch checkpoints, then per batch its offsets, leader epoch,
producer id / epoch / base sequence, attributes, timestamps, size and CRC (stored and computed:
ok or BAD), and what is wrong (a torn tail, a corrupt segment, a damaged checkpoint). DIR is a
data directory (every partition in it, or those picked below; topic names come from its
metadata log) or one partition directory. Only reads: safe on a running broker's directory,
where the active segment may be mid-write (a batch cut off at its end is reported as a torn tail).

options:
  --topic NAME        the partitions of topic NAME (a data directory's)
  --topic-id HEX      the partitions of the topic with this id (32 hex digits)
  -p, --partition N   partition N only (of every topic, or of the topic picked)
  --records           each record too: offset, timestamp, key, value, headers (text if UTF-8,
                      else base64, named); in the metadata log, the metadata record decoded
  --max-offset N      stop before the first batch holding an offset >= N (give a high watermark
                      to dump what is committed)
  -J, --json          one JSON object per line: partition, segment, batch, record, finding, end
                      (README, "bitacora log dump")

Exit codes: 0 dumped, nothing wrong found; 3 dumped, something wrong found (the '!' lines, or
'finding' objects); 1 DIR missing or not a data or partition directory, or an unknown topic;
2 usage error.`

/** Exit code of a dump that found something wrong on disk. */
export const EXIT_FINDINGS = 3

export const LOG_SPECS = {
  dump: { help: 'boolean', topic: 'string', 'topic-id': 'string', partition: 'string', records: 'boolean', 'max-offset': 'string', json: 'boolean' },
} as const

/** A partition directory of a data directory: `<topic id>-<partition>` (partition-dir.ts). */
const PARTITION_DIR = /^([0-9a-f]{32})-(\d+)$/
/** What only a partition directory holds. */
const PARTITION_FILE = /^(\d{20}\.log|leader-epoch-checkpoint|log-start-offset|quorum-state\.json|voter-sets)$/
const METADATA_TOPIC = '__cluster_metadata'

type Write = (lines: readonly string[]) => Promise<boolean>

export async function logCommand(argv: string[], write: Write = writeStdout): Promise<number> {
  const [sub, ...rest] = argv
  switch (sub) {
    case 'dump':
      return dump(rest, write)
    case undefined:
      console.error(LOG_USAGE)
      return 2
    case 'help':
    case '--help':
    case '-h':
      await write([LOG_USAGE])
      return 0
    default:
      throw new UsageError(`log: unknown subcommand '${sub}' (dump)`)
  }
}

interface Selection {
  readonly topic?: string
  readonly topicId?: string
  readonly partition?: number
}

async function dump(argv: string[], write: Write): Promise<number> {
  const { flags, positionals: args } = parseFlags('log dump', argv, LOG_SPECS.dump)
  if (flags.help) {
    await write([LOG_USAGE])
    return 0
  }
  const [dir] = positionals('log dump', args, ['dir'])
  const topicId = flags['topic-id']
  if (topicId !== undefined && !/^[0-9a-f]{32}$/.test(topicId)) throw new UsageError(`log dump: --topic-id: expected 32 lowercase hex digits, got '${topicId}'`)
  if (topicId !== undefined && flags.topic !== undefined) throw new UsageError('log dump: give --topic or --topic-id, not both')
  if (flags.topic === '') throw new UsageError('log dump: --topic must not be empty')
  const selection: Selection = { topic: flags.topic, topicId, partition: intFlag('partition', flags.partition, 0, 0x7fffffff) }
  const maxOffset = intFlag('max-offset', flags['max-offset'], 0)
  const format = flags.json ? JSON_FORMAT : TEXT_FORMAT
  const fs = new ReadOnlyFileLayer()
  const codec = await loadCodec()
  const partitions = await pick(fs, codec, dir, selection)
  let found = 0
  for (const name of partitions) {
    const facts = partitionFacts(fs, name.dir, (b) => codec.crc32c(b))
    found += facts.findings.length
    if (!(await write(format.partition(name, facts)))) return 0
    for (const f of facts.findings) if (!(await write(format.finding(f)))) return 0
    let open = true
    const metadata = name.topicId === METADATA_TOPIC_ID
    const summary = await dumpPartition(fs, name.dir, facts, codec, { records: flags.records, maxOffset }, async (event) => (open = await write(linesOf(format, event, metadata))))
    if (!open || !(await write(format.end(name, summary)))) return 0
    found += summary.findings
  }
  return found > 0 ? EXIT_FINDINGS : 0
}

function linesOf(format: DumpFormat, event: DumpEvent, metadata: boolean): string[] {
  switch (event.type) {
    case 'segment': return format.segment(event.segment, event.active)
    case 'batch': return format.batch(event.batch, metadata)
    case 'finding': return format.finding(event.finding)
  }
}

/** The partition directories to dump, with what is known of their names, in a stable order. */
async function pick(fs: ReadOnlyFileLayer, codec: Codec, dir: string, selection: Selection): Promise<PartitionName[]> {
  const kind = dirKind(fs, dir)
  if (kind === 'partition') {
    if (selection.topic !== undefined || selection.topicId !== undefined || selection.partition !== undefined) {
      throw new UsageError(`log dump: ${dir} is a partition directory: --topic, --topic-id and --partition pick among a data directory's`)
    }
    const parent = dirname(dir)
    const names = fs.exists(join(parent, METADATA_DIR_NAME)) ? (await topicNames(fs, parent, codec)).image : null
    return [nameOf(dir, basename(dir), names)]
  }
  const names = await topicNames(fs, dir, codec)
  let wantedId = selection.topicId
  if (selection.topic !== undefined) {
    wantedId = selection.topic === METADATA_TOPIC ? METADATA_TOPIC_ID : names.image?.topic(selection.topic)?.id
    if (wantedId === undefined) {
      const known = names.image?.topics.map((t) => t.name).slice(0, 10).join(', ')
      throw new OperationalError(`log dump: topic '${selection.topic}' is not in the metadata log of ${dir}${names.image === null ? ` (${names.source})` : ` (topics: ${known || 'none'})`}`)
    }
  }
  const chosen = fs.list(dir)
    .map((entry) => nameOf(join(dir, entry), entry, names.image))
    .filter((n) => n.topicId !== null && (wantedId === undefined || n.topicId === wantedId) && (selection.partition === undefined || n.partition === selection.partition))
    .sort(byName)
  // Names can be missing (a topic deleted, or created past what this node's metadata log holds): say where they come from.
  if (chosen.some((n) => n.topic === null)) console.error(`log dump: some topic names are unknown: ${names.source}`)
  if (chosen.length === 0 && (wantedId !== undefined || selection.partition !== undefined)) {
    const what = [selection.topic ?? selection.topicId, selection.partition === undefined ? undefined : `partition ${selection.partition}`].filter(Boolean).join(' ')
    throw new OperationalError(`log dump: ${dir} holds no partition directory of ${what} (this node holds no replica of it?)`)
  }
  return chosen
}

/** Named topics by name (code points, not a locale: the order must not depend on the machine), then unnamed ones by id; partitions in order. */
function byName(a: PartitionName, b: PartitionName): number {
  const key = (n: PartitionName) => `${n.topic === null ? 1 : 0} ${n.topic ?? ''} ${n.topicId}`
  const [ka, kb] = [key(a), key(b)]
  return ka < kb ? -1 : ka > kb ? 1 : a.partition! - b.partition!
}

/** What a directory entry's name says of the partition it holds. */
function nameOf(path: string, entry: string, image: Awaited<ReturnType<typeof topicNames>>['image']): PartitionName {
  if (entry === METADATA_DIR_NAME) return { dir: path, topic: METADATA_TOPIC, topicId: METADATA_TOPIC_ID, partition: 0 }
  const m = PARTITION_DIR.exec(entry)
  if (m === null) return { dir: path, topic: null, topicId: null, partition: null }
  return { dir: path, topic: image?.topicById(m[1])?.name ?? null, topicId: m[1], partition: Number(m[2]) }
}

/** Whether `dir` is a partition directory or a data directory; a one-line error if it is neither. */
function dirKind(fs: ReadOnlyFileLayer, dir: string): 'partition' | 'data' {
  let isDir: boolean
  try {
    isDir = statSync(dir).isDirectory()
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new OperationalError(code === 'ENOENT' ? `log dump: no such directory: ${dir}` : `log dump: cannot read ${dir}: ${(err as Error).message}`)
  }
  if (!isDir) throw new OperationalError(`log dump: ${dir} is a file, not a directory (give a data directory or a partition directory)`)
  let entries: string[]
  try {
    entries = fs.list(dir)
  } catch (err) {
    throw new OperationalError(`log dump: cannot list ${dir}: ${(err as Error).message}`)
  }
  if (entries.some((e) => PARTITION_FILE.test(e))) return 'partition'
  if (entries.some((e) => e === METADATA_DIR_NAME || e === 'meta.properties' || PARTITION_DIR.test(e))) return 'data'
  throw new OperationalError(`log dump: ${dir} is neither a data directory (no meta.properties, no partition directories) nor a partition directory (no segments)`)
}

/** Writes lines to stdout, waiting while it is full; false once the reader has gone (a closed pipe). */
async function writeStdout(lines: readonly string[]): Promise<boolean> {
  const out = process.stdout
  if (out.destroyed) return false
  if (!out.write(lines.join('\n') + '\n')) await drainedOrClosed(out)
  return !out.destroyed
}

/** Resolves once `out` drains or closes, leaving no listener behind (a dump waits thousands of times). */
function drainedOrClosed(out: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      out.off('drain', done)
      out.off('close', done)
      resolve()
    }
    out.on('drain', done)
    out.on('close', done)
  })
}
