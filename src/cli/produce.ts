// `bitacora produce TOPIC`: one record per stdin line, sent with a bounded window of
// unacknowledged records (the producer batches them), then a count on stderr.
import type { Readable } from 'node:stream'
import { ClientError, type Producer, type ProducerOptions, type ProducerRecord } from '../client/node.js'
import { choiceFlag, intFlag, keyValues, topicArg, type FlagValues } from './args.js'
import { ACKS_CHOICES, CLIENT_FLAGS, COMPRESSION_CHOICES, parseClientFlags } from './client-config.js'
import { CLIENT_HELP, bootstrapServers, describeTopic, withClient } from './connect.js'
import { failureOf, OperationalError, UsageError } from './errors.js'
import { ENCODINGS, type Encoding } from './format.js'
import { byteLines, LineTooLongError } from './lines.js'
import { PRODUCE_REQUEST_BYTES_MAX_DEFAULT } from '../client/limits.js'
import { PRODUCE_WINDOW_RECORDS, QUOTED_TEXT_CHARS_MAX, REQUEST_BYTES_MAX_FLAG_MAX, REQUEST_BYTES_MAX_FLAG_MIN } from './limits.js'

export const PRODUCE_USAGE = `usage: bitacora produce TOPIC [options]  (one record per line of stdin)

  -t, --topic TOPIC        the topic (instead of the TOPIC argument)
  -K, --key-separator SEP  split each line at the first SEP into key and value (a line without it is an error)
  -k, --key KEY            the key of every record (default: none, i.e. null)
  -H, --header K=V         a header on every record (repeatable)
  --acks 0|1|all           wait for nothing, the leader, or the quorum (default all)
  -z, --compression CODEC  none, gzip, snappy, lz4, zstd (default none)
  -p, --partition N        write every record to partition N (default: by key, or sticky for null keys)
  --value-encoding ENC     how values are written on stdin: utf8, base64, hex (default utf8)
  --key-encoding ENC       how keys (-K, -k) are written: utf8, base64, hex (default utf8)
  --request-bytes-max N    largest produce request, so the largest record (default 1048576, the client's
                           requestBytesMax). A record must also fit the broker's --max-batch-bytes and
                           the topic's max.message.bytes (both about 1 MiB by default).
${CLIENT_HELP}`

export const PRODUCE_SPEC = {
  ...CLIENT_FLAGS, topic: 'string', 'key-separator': 'string', key: 'string', header: 'list', acks: 'string',
  compression: 'string', partition: 'string', 'value-encoding': 'string', 'key-encoding': 'string', 'request-bytes-max': 'string',
} as const

export interface LineRecord {
  key: Uint8Array | null
  value: Uint8Array
}

export interface LineFormat {
  /** Splits a line into key and value. */
  separator?: string
  /** The key of every record (with no separator). */
  key?: string
  keyEncoding?: Encoding
  valueEncoding?: Encoding
}

/**
 * A stdin line as key and value; `null` when a separator is required but missing. UTF-8 fields
 * are the line's bytes as they are (valid UTF-8 or not); base64 and hex fields are decoded.
 */
export function splitLine(line: Uint8Array | string, format: LineFormat = {}): LineRecord | null {
  const bytes = typeof line === 'string' ? Buffer.from(line) : Buffer.from(line.buffer, line.byteOffset, line.byteLength)
  let key: Uint8Array | null = format.key === undefined ? null : Buffer.from(format.key)
  let value: Uint8Array = bytes
  if (format.separator !== undefined) {
    const at = bytes.indexOf(format.separator)
    if (at < 0) return null
    key = bytes.subarray(0, at)
    value = bytes.subarray(at + Buffer.byteLength(format.separator))
  }
  return {
    key: key === null ? null : decodeField(key, format.keyEncoding ?? 'utf8', 'key'),
    value: decodeField(value, format.valueEncoding ?? 'utf8', 'value'),
  }
}

function decodeField(bytes: Uint8Array, encoding: Encoding, what: 'key' | 'value'): Uint8Array {
  if (encoding === 'utf8') return bytes
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')
  const ok = encoding === 'hex' ? /^(?:[0-9a-fA-F]{2})*$/.test(text) : /^[A-Za-z0-9+/_-]*={0,2}$/.test(text)
  if (!ok) throw new OperationalError(`${what} is not ${encoding}: '${text.length > QUOTED_TEXT_CHARS_MAX ? `${text.slice(0, QUOTED_TEXT_CHARS_MAX)}…` : text}'`)
  return Buffer.from(text, encoding)
}

/** A record too large for the produce request names the flag that raises the limit. */
function withHint(err: unknown): unknown {
  if (err instanceof ClientError && err.code === 'RECORD_TOO_LARGE' && err.message.includes('requestBytesMax')) {
    return new OperationalError(`${err.message}: raise it with --request-bytes-max`)
  }
  return err
}

export async function produceCommand(argv: string[], input: Readable = process.stdin): Promise<number> {
  const { flags, positionals: args } = parseClientFlags('produce', argv, PRODUCE_SPEC)
  if (flags.help) {
    console.log(PRODUCE_USAGE)
    return 0
  }
  const topic = topicArg('produce', flags.topic, args)
  const acks = choiceFlag('acks', flags.acks, ACKS_CHOICES)
  const requestBytesMax = intFlag('request-bytes-max', flags['request-bytes-max'], REQUEST_BYTES_MAX_FLAG_MIN, REQUEST_BYTES_MAX_FLAG_MAX)
  const options: ProducerOptions = {
    acks: acks === undefined || acks === 'all' || acks === '-1' ? 'all' : acks === '1' ? 1 : 0,
    compression: choiceFlag('compression', flags.compression, COMPRESSION_CHOICES) ?? 'none',
    ...(requestBytesMax !== undefined ? { requestBytesMax } : {}),
  }
  const partition = intFlag('partition', flags.partition, 0)
  const format = lineFormat(flags)
  const headers = keyValues('header', flags.header).map(([key, value]) => ({ key, value }))
  // Hex doubles a record's bytes on a line: a longer line could never fit a produce request.
  const lineBytesMax = 2 * (requestBytesMax ?? PRODUCE_REQUEST_BYTES_MAX_DEFAULT) + Buffer.byteLength(format.separator ?? '')
  const toRecord = (line: Uint8Array, lineNumber: number): ProducerRecord => {
    let parsed: LineRecord | null
    try {
      parsed = splitLine(line, format)
    } catch (err) {
      throw new OperationalError(`line ${lineNumber}: ${(err as Error).message}`)
    }
    if (parsed === null) throw new OperationalError(`line ${lineNumber} has no key separator ${JSON.stringify(format.separator)}`)
    return { topic, partition, key: parsed.key, value: parsed.value, headers }
  }

  return withClient(bootstrapServers(flags['bootstrap-server']), async (client) => {
    const { partitions } = await describeTopic(client, topic)
    if (partition !== undefined && partition >= partitions.length) {
      throw new OperationalError(`topic '${topic}' has no partition ${partition} (it has ${partitions.length})`)
    }
    const { produced, failure, interrupted } = await sendLines(await client.producer(options), input, lineBytesMax, toRecord)
    if (failure !== undefined) {
      const known = failureOf(failure)
      if (known === null) throw failure
      throw new OperationalError(`${known.message} (${produced} records produced before the failure)`)
    }
    console.error(`produced ${produced} record${produced === 1 ? '' : 's'} to ${topic}`)
    return interrupted ? 130 : 0
  })
}

/** How lines become keys and values; a --key that is not in its encoding is a usage error. */
function lineFormat(flags: FlagValues<typeof PRODUCE_SPEC>): LineFormat {
  const format: LineFormat = {
    separator: flags['key-separator'],
    key: flags.key,
    keyEncoding: choiceFlag('key-encoding', flags['key-encoding'], ENCODINGS) ?? 'utf8',
    valueEncoding: choiceFlag('value-encoding', flags['value-encoding'], ENCODINGS) ?? 'utf8',
  }
  if (format.separator === '') throw new UsageError('--key-separator: must not be empty')
  if (format.separator !== undefined && format.key !== undefined) throw new UsageError('produce: give --key or --key-separator, not both')
  if (format.key !== undefined) {
    try {
      splitLine('', format)
    } catch (err) {
      throw new UsageError(`--key: ${(err as Error).message}`)
    }
  }
  return format
}

interface Sent {
  produced: number
  /** The first failure (a bad line, the input, a refused record); the rest is not sent. */
  failure?: unknown
  /** Stopped by SIGINT/SIGTERM. */
  interrupted: boolean
}

/** Sends a record per line, with at most PRODUCE_WINDOW_RECORDS unacknowledged; all settled on return. */
async function sendLines(producer: Producer, input: Readable, lineBytesMax: number, toRecord: (line: Uint8Array, lineNumber: number) => ProducerRecord): Promise<Sent> {
  let interrupted = false
  const onSignal = () => {
    interrupted = true
    input.destroy() // ends the read loop below (with a premature-close error, ignored)
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  const inflight = new Set<Promise<void>>()
  let produced = 0
  let failure: unknown
  let lineNumber = 0
  try {
    for await (const line of byteLines(input, lineBytesMax)) {
      const sent: Promise<void> = producer.send(toRecord(line, ++lineNumber)).then(
        () => void produced++,
        (err: unknown) => void (failure ??= withHint(err)),
      ).finally(() => inflight.delete(sent))
      inflight.add(sent)
      if (inflight.size >= PRODUCE_WINDOW_RECORDS) await Promise.race(inflight)
      if (failure !== undefined) break
    }
  } catch (err) {
    // A bad line (toRecord), a line too long for any record (byteLines), or the input failing.
    if (!interrupted) {
      failure ??= err instanceof LineTooLongError ? new OperationalError(`${err.message}: no record from it could fit a produce request (--request-bytes-max)`)
        : err instanceof OperationalError ? err
          : new OperationalError(`cannot read stdin: ${(err as Error).message}`)
    }
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
  await Promise.all(inflight)
  return { produced, failure, interrupted }
}
