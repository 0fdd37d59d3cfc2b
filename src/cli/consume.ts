// `bitacora consume TOPIC`: prints records of one or all partitions of a topic, formatted
// (format.ts), until --max-messages, --exit-at-end, --timeout-ms of idleness, SIGINT/SIGTERM,
// or a closed stdout (`| head`). Writes respect stdout's back-pressure; the count goes to
// stderr, and so do warnings (a start outside the log, bytes that are not UTF-8).
// With --group, as a member of a consumer group (kafka-console-consumer's --group): the group
// assigns the partitions and reading starts at its committed offsets; what was printed is
// committed (group-commits.ts), so the group's next member goes on after it.
import { once } from 'node:events'
import type { Writable } from 'node:stream'
import type { Consumer, ConsumerRecord } from '../client/node.js'
import { choiceFlag, intFlag, topicArg } from './args.js'
import { CLIENT_FLAGS, parseClientFlags } from './client-config.js'
import { CLIENT_HELP, bootstrapServers, describeTopic, withClient } from './connect.js'
import { OperationalError, UsageError } from './errors.js'
import {
  compileFormat, DEFAULT_FORMAT, ENCODINGS, FORMAT_HELP, jsonRecord, keySeparatorFormat, type Encodings, type InvalidUtf8,
} from './format.js'
import { checkGroupId } from './groups-args.js'
import { PrintedOffsets } from './group-commits.js'
import { EXIT_AT_END_CHECK_MS } from './limits.js'
import { parseStart, partitionStarts, START_HELP } from './start.js'

export const CONSUME_USAGE = `usage: bitacora consume TOPIC [options]

  -t, --topic TOPIC        the topic (instead of the TOPIC argument)
${START_HELP}
  -p, --partition N        read partition N only (default: all partitions)
  -G, --group GROUP        read as a member of consumer group GROUP: the group assigns the partitions and
                           each starts at the group's committed offset (-o beginning or end: where it has
                           none; default end); what was printed is committed every 5 s, when a partition
                           moves to another member, and at exit
  -c, --max-messages N     exit after N records
  -e, --exit-at-end        exit once every partition read is read up to its end (as it was at the start)
  --timeout-ms N           exit after N ms without a record (default: run until --max-messages or Ctrl-C)
  -f, --format FMT         kcat-style output format (default '%s\\n'; a newline is added if FMT lacks one):
${FORMAT_HELP.replace(/^/gm, '    ')}
  -K, --key-separator SEP  print key SEP value (the format '%kSEP%s\\n')
  -J, --json               one JSON object per record (topic, partition, offset, timestamp, key, value, headers);
                           a key or value that is not UTF-8 text is base64, named by keyEncoding/valueEncoding
  --value-encoding ENC     values as utf8, base64 or hex (default utf8; binary values: base64)
  --key-encoding ENC       keys as utf8, base64 or hex (default utf8)
${CLIENT_HELP}
Bytes are never changed silently: with a format, a key or value that is not valid UTF-8 prints with
U+FFFD in place of the bad bytes, and a warning (once) goes to stderr.`

export const CONSUME_SPEC = {
  ...CLIENT_FLAGS, topic: 'string', 'from-beginning': 'boolean', offset: 'string', 'from-time': 'string', partition: 'string', group: 'string',
  'max-messages': 'string', 'exit-at-end': 'boolean', 'timeout-ms': 'string', format: 'string', 'key-separator': 'string', json: 'boolean',
  'value-encoding': 'string', 'key-encoding': 'string',
} as const

type Render = (r: ConsumerRecord) => string

function renderer(flags: { json?: boolean; format?: string; 'key-separator'?: string }, encodings: Encodings, onInvalidUtf8: InvalidUtf8): Render {
  const given = [flags.format !== undefined && '--format', flags.json && '--json', flags['key-separator'] !== undefined && '--key-separator'].filter(Boolean)
  if (given.length > 1) throw new UsageError(`consume: give ${given.join(' or ')}, not both`)
  if (flags['key-separator'] === '') throw new UsageError('--key-separator: must not be empty')
  if (flags.json) return (r) => jsonRecord(r, encodings)
  const format = flags['key-separator'] !== undefined ? keySeparatorFormat(flags['key-separator']) : flags.format ?? DEFAULT_FORMAT
  return compileFormat(format, encodings, onInvalidUtf8)
}

/** Warns on stderr, once per run, that some bytes printed as UTF-8 were not UTF-8. */
function invalidUtf8Warning(warn: (line: string) => void): InvalidUtf8 {
  let warned = false
  return (field, r) => {
    if (warned) return
    warned = true
    warn(`bitacora: warning: the ${field} of ${r.topic}/${r.partition} at offset ${r.offset} is not valid UTF-8: its bad bytes print as U+FFFD `
      + `(warned once; --key-encoding/--value-encoding base64 or hex, or --json, show the bytes)`)
  }
}

export async function consumeCommand(argv: string[], out: Writable = process.stdout): Promise<number> {
  const { flags, positionals: args } = parseClientFlags('consume', argv, CONSUME_SPEC)
  if (flags.help) {
    console.log(CONSUME_USAGE)
    return 0
  }
  const topic = topicArg('consume', flags.topic, args)
  const only = intFlag('partition', flags.partition, 0)
  const maxMessages = intFlag('max-messages', flags['max-messages'], 1) ?? Infinity
  const timeoutMs = intFlag('timeout-ms', flags['timeout-ms'], 1)
  const encodings: Encodings = {
    key: choiceFlag('key-encoding', flags['key-encoding'], ENCODINGS) ?? 'utf8',
    value: choiceFlag('value-encoding', flags['value-encoding'], ENCODINGS) ?? 'utf8',
  }
  const render = renderer(flags, encodings, invalidUtf8Warning((line) => console.error(line)))
  if (flags.group !== undefined) {
    const groupId = checkGroupId('consume --group', flags.group)
    if (only !== undefined) throw new UsageError('consume: --partition with --group: the group assigns the partitions (read one partition without --group)')
    if (flags['exit-at-end']) throw new UsageError('consume: --exit-at-end with --group: the partitions a member reads change as the group rebalances; give --timeout-ms or --max-messages')
    const autoOffsetReset = groupOffsetReset(flags)
    return withClient(bootstrapServers(flags['bootstrap-server']), async (client) => {
      await describeTopic(client, topic) // an unknown topic is said here, not waited on by the group
      const consumer = await client.consumer({ autoOffsetReset })
      const printed = new PrintedOffsets(consumer, groupId, topic, (line) => console.error(line))
      consumer.subscribe([topic], { groupId, autoCommit: false, onRevoked: (revoked) => printed.commitRevoked(revoked) })
      const consumed = await printRecords(consumer, { topic, render, maxMessages, timeoutMs, printed }, out)
      console.error(`consumed ${consumed} record${consumed === 1 ? '' : 's'} from ${topic} as group ${groupId}`)
      return 0
    })
  }
  const start = parseStart(flags.offset, flags['from-beginning'], flags['from-time'])

  return withClient(bootstrapServers(flags['bootstrap-server']), async (client) => {
    const { partitions } = await describeTopic(client, topic)
    if (only !== undefined && only >= partitions.length) {
      throw new OperationalError(`topic '${topic}' has no partition ${only} (it has ${partitions.length})`)
    }
    const assigned = only !== undefined ? [only] : partitions.map((p) => p.partition)
    const starts = await partitionStarts(client, topic, assigned, start)
    for (const s of starts) if (s.warning) console.error(`bitacora: warning: ${s.warning}`)
    // An offset that leaves the log later (retention) resets to the end too, as Kafka's consumer does.
    const consumer = await client.consumer({ autoOffsetReset: 'latest' })
    consumer.assign(assigned.map((partition) => ({ topic, partition })))
    for (const s of starts) consumer.seek(topic, s.partition, s.offset)
    const ends = flags['exit-at-end'] ? new Map(starts.map((s) => [s.partition, s.end])) : undefined
    const consumed = await printRecords(consumer, { topic, render, maxMessages, timeoutMs, ends }, out)
    console.error(`consumed ${consumed} record${consumed === 1 ? '' : 's'} from ${topic}`)
    return 0
  })
}

/**
 * --group: where a partition starts where the group has committed nothing (the consumer's
 * autoOffsetReset); any other start is the group's to keep, so it is refused.
 */
function groupOffsetReset(flags: { offset?: string; 'from-beginning'?: boolean; 'from-time'?: string }): 'earliest' | 'latest' {
  const o = flags.offset
  if (flags['from-time'] === undefined) {
    if (flags['from-beginning'] || o === 'beginning' || o === 'earliest') return 'earliest'
    if (o === undefined || o === 'end' || o === 'latest' || o === 'stored') return 'latest'
  }
  const given = flags['from-time'] !== undefined ? '--from-time' : `--offset ${o}`
  throw new UsageError(`consume: ${given} with --group: a group member starts at the group's committed offsets (-o beginning or end only say where it has none); move them with \`bitacora groups reset-offsets\``)
}

interface PrintOptions {
  topic: string
  render: Render
  maxMessages: number
  /** Stop after this long without a record. */
  timeoutMs?: number
  /** --exit-at-end: each partition's end offset; stop once every position reaches its end. */
  ends?: ReadonlyMap<number, number>
  /** --group: told what was printed, committed before the consumer leaves its group. */
  printed?: PrintedOffsets
}

/**
 * Prints the consumer's records until --max-messages, the end (--exit-at-end), --timeout-ms of
 * idleness, SIGINT/SIGTERM or a closed stdout; returns how many it printed.
 */
async function printRecords(consumer: Consumer, o: PrintOptions, out: Writable): Promise<number> {
  const { ends } = o
  const atEnd = () => ends !== undefined && [...ends].every(([p, end]) => (consumer.position(o.topic, p) ?? 0) >= end)
  let stopped = false
  let wake!: () => void
  const stopping = new Promise<void>((resolve) => (wake = resolve))
  // A group member commits what it printed before it leaves (after that its commits are refused).
  let closing: Promise<void> | undefined
  const close = () => (closing ??= (async () => {
    await o.printed?.commitAtExit()
    await consumer.close()
  })())
  const stop = () => {
    stopped = true
    wake()
    void close()
  }
  let idle: ReturnType<typeof setTimeout> | undefined
  const rearm = () => {
    if (o.timeoutMs === undefined) return
    clearTimeout(idle)
    idle = setTimeout(stop, o.timeoutMs)
  }
  // The end may be reached without a record to show for it (control batches at the log's end).
  const endCheck = ends ? setInterval(() => atEnd() && stop(), EXIT_AT_END_CHECK_MS) : undefined
  // A reader gone (EPIPE from `| head`) ends the run quietly; other output errors are reported.
  let outputError: Error | undefined
  let outputClosed = false
  const onOutputError = (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') outputError ??= err
    outputClosed = true
    stop()
  }
  out.on('error', onOutputError)
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)

  let consumed = 0
  try {
    if (atEnd()) stop()
    rearm()
    for await (const batch of consumer.batches()) {
      clearTimeout(idle) // a slow reader is not idleness
      if (outputClosed) break
      const end = ends?.get(batch.partition) ?? Infinity
      let chunk = ''
      let printedEnd = -1
      for (const record of batch.records) {
        if (record.offset >= end) break
        chunk += o.render(record)
        printedEnd = record.offset + 1
        if (++consumed >= o.maxMessages) break
      }
      if (!out.write(chunk)) await Promise.race([once(out, 'drain').catch(() => undefined), stopping])
      if (printedEnd >= 0) o.printed?.printed(batch.partition, printedEnd)
      if (consumed >= o.maxMessages || stopped || atEnd()) break
      rearm()
    }
  } finally {
    clearTimeout(idle)
    clearInterval(endCheck)
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
    await close()
  }
  if (outputError) throw new OperationalError(`cannot write output: ${outputError.message}`)
  return consumed
}
