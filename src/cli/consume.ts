// `bitacora consume TOPIC`: prints records of one or all partitions of a topic, formatted
// (format.ts), until --max-messages, --timeout-ms of idleness, SIGINT/SIGTERM, or a closed
// stdout (`| head`). Writes respect stdout's back-pressure; the count goes to stderr.
import { once } from 'node:events'
import type { Writable } from 'node:stream'
import type { SeekTarget } from '../client/node.js'
import { choiceFlag, intFlag, parseFlags, positionals } from './args.js'
import { BOOTSTRAP_HELP, bootstrapServers, describeTopic, withClient } from './connect.js'
import { OperationalError, UsageError } from './errors.js'
import { compileFormat, DEFAULT_FORMAT, ENCODINGS, FORMAT_HELP, jsonRecord, type Encodings } from './format.js'

export const CONSUME_USAGE = `usage: bitacora consume TOPIC [options]

  --from-beginning         start at the earliest offset (default: only new records)
  --offset N               start at offset N (also: earliest, latest) in every partition read
  --partition N            read partition N only (default: all partitions)
  --max-messages N         exit after N records
  --timeout-ms N           exit after N ms without a record (default: run until --max-messages or Ctrl-C)
  --format FMT             kcat-style output format (default '%s\\n'; a newline is added if FMT lacks one):
${FORMAT_HELP.replace(/^/gm, '    ')}
  --json                   one JSON object per record (topic, partition, offset, timestamp, key, value, headers)
  --value-encoding ENC     values as utf8, base64 or hex (default utf8; binary values: base64)
  --key-encoding ENC       keys as utf8, base64 or hex (default utf8)
${BOOTSTRAP_HELP}`

const SPEC = {
  'bootstrap-server': 'string', help: 'boolean', 'from-beginning': 'boolean', offset: 'string', partition: 'string',
  'max-messages': 'string', 'timeout-ms': 'string', format: 'string', json: 'boolean', 'value-encoding': 'string',
  'key-encoding': 'string',
} as const

function startOf(offset: string | undefined, fromBeginning: boolean | undefined): SeekTarget {
  if (fromBeginning && offset !== undefined) throw new UsageError('consume: give --from-beginning or --offset, not both')
  if (fromBeginning || offset === 'earliest') return 'earliest'
  if (offset === undefined || offset === 'latest') return 'latest'
  return intFlag('offset', offset, 0)!
}

export async function consumeCommand(argv: string[], out: Writable = process.stdout): Promise<number> {
  const { flags, positionals: args } = parseFlags('consume', argv, SPEC)
  if (flags.help) {
    console.log(CONSUME_USAGE)
    return 0
  }
  const [topic] = positionals('consume', args, ['topic'])
  const start = startOf(flags.offset, flags['from-beginning'])
  const only = intFlag('partition', flags.partition, 0)
  const maxMessages = intFlag('max-messages', flags['max-messages'], 1) ?? Infinity
  const timeoutMs = intFlag('timeout-ms', flags['timeout-ms'], 1)
  if (flags.json && flags.format !== undefined) throw new UsageError('consume: give --format or --json, not both')
  const encodings: Encodings = {
    key: choiceFlag('key-encoding', flags['key-encoding'], ENCODINGS) ?? 'utf8',
    value: choiceFlag('value-encoding', flags['value-encoding'], ENCODINGS) ?? 'utf8',
  }
  const render = flags.json ? (r: Parameters<typeof jsonRecord>[0]) => jsonRecord(r, encodings) : compileFormat(flags.format ?? DEFAULT_FORMAT, encodings)

  return withClient(bootstrapServers(flags['bootstrap-server']), async (client) => {
    const { partitions } = await describeTopic(client, topic)
    if (only !== undefined && only >= partitions.length) {
      throw new OperationalError(`topic '${topic}' has no partition ${only} (it has ${partitions.length})`)
    }
    const consumer = await client.consumer({ autoOffsetReset: start === 'earliest' ? 'earliest' : 'latest' })
    const assigned = only !== undefined ? [only] : partitions.map((p) => p.partition)
    consumer.assign(assigned.map((partition) => ({ topic, partition })))
    for (const partition of assigned) consumer.seek(topic, partition, start)

    let stopped = false
    let wake!: () => void
    const stopping = new Promise<void>((resolve) => (wake = resolve))
    const stop = () => {
      stopped = true
      wake()
      consumer.close()
    }
    let idle: ReturnType<typeof setTimeout> | undefined
    const rearm = () => {
      if (timeoutMs === undefined) return
      clearTimeout(idle)
      idle = setTimeout(stop, timeoutMs)
    }
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
      rearm()
      for await (const batch of consumer.batches()) {
        clearTimeout(idle) // a slow reader is not idleness
        if (outputClosed) break
        let chunk = ''
        for (const record of batch.records) {
          chunk += render(record)
          if (++consumed >= maxMessages) break
        }
        if (!out.write(chunk)) await Promise.race([once(out, 'drain').catch(() => undefined), stopping])
        if (consumed >= maxMessages || stopped) break
        rearm()
      }
    } finally {
      clearTimeout(idle)
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      consumer.close()
    }
    if (outputError) throw new OperationalError(`cannot write output: ${outputError.message}`)
    console.error(`consumed ${consumed} record${consumed === 1 ? '' : 's'} from ${topic}`)
    return 0
  })
}
