// `bitacora produce TOPIC`: one record per stdin line, sent with a bounded window of
// unacknowledged records (the producer batches them), then a count on stderr.
import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import type { CompressionCodec, ProducerOptions, ProducerRecord } from '../client/node.js'
import { choiceFlag, intFlag, keyValues, parseFlags, positionals } from './args.js'
import { BOOTSTRAP_HELP, bootstrapServers, describeTopic, withClient } from './connect.js'
import { failureOf, OperationalError, UsageError } from './errors.js'
import { ENCODINGS, type Encoding } from './format.js'

export const PRODUCE_USAGE = `usage: bitacora produce TOPIC [options]  (one record per line of stdin)

  --key-separator SEP      split each line at the first SEP into key and value (a line without it is an error)
  --header K=V             a header on every record (repeatable)
  --acks 0|1|all           wait for nothing, the leader, or the quorum (default all)
  --compression CODEC      none, gzip, snappy, lz4 (zstd where available) (default none)
  --partition N            write every record to partition N (default: by key, or sticky for null keys)
  --value-encoding ENC     how values are written on stdin: utf8, base64, hex (default utf8)
${BOOTSTRAP_HELP}`

const SPEC = {
  'bootstrap-server': 'string', help: 'boolean', 'key-separator': 'string', header: 'list', acks: 'string',
  compression: 'string', partition: 'string', 'value-encoding': 'string',
} as const

const COMPRESSION = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const satisfies readonly CompressionCodec[]
/** Records sent but not yet acknowledged; the producer's own buffer bounds the bytes. */
const WINDOW = 4096

export interface LineRecord {
  key: string | null
  value: string | Uint8Array
}

/** A stdin line as key and value; `null` when a separator is required but missing. */
export function splitLine(line: string, separator: string | undefined, encoding: Encoding = 'utf8'): LineRecord | null {
  let key: string | null = null
  let value = line
  if (separator !== undefined) {
    const at = line.indexOf(separator)
    if (at < 0) return null
    key = line.slice(0, at)
    value = line.slice(at + separator.length)
  }
  return { key, value: encoding === 'utf8' ? value : decodeText(value, encoding) }
}

function decodeText(text: string, encoding: 'base64' | 'hex'): Uint8Array {
  const ok = encoding === 'hex' ? /^(?:[0-9a-fA-F]{2})*$/.test(text) : /^[A-Za-z0-9+/_-]*={0,2}$/.test(text)
  if (!ok) throw new OperationalError(`value is not ${encoding}: '${text.length > 40 ? `${text.slice(0, 40)}…` : text}'`)
  return Buffer.from(text, encoding)
}

export async function produceCommand(argv: string[], input: Readable = process.stdin): Promise<number> {
  const { flags, positionals: args } = parseFlags('produce', argv, SPEC)
  if (flags.help) {
    console.log(PRODUCE_USAGE)
    return 0
  }
  const [topic] = positionals('produce', args, ['topic'])
  const acks = choiceFlag('acks', flags.acks, ['0', '1', 'all', '-1'] as const)
  const options: ProducerOptions = {
    acks: acks === undefined || acks === 'all' || acks === '-1' ? 'all' : acks === '1' ? 1 : 0,
    compression: choiceFlag('compression', flags.compression, COMPRESSION) ?? 'none',
  }
  const partition = intFlag('partition', flags.partition, 0)
  const separator = flags['key-separator']
  if (separator === '') throw new UsageError('--key-separator: must not be empty')
  const headers = keyValues('header', flags.header).map(([key, value]) => ({ key, value }))
  const encoding = choiceFlag('value-encoding', flags['value-encoding'], ENCODINGS) ?? 'utf8'

  return withClient(bootstrapServers(flags['bootstrap-server']), async (client) => {
    const { partitions } = await describeTopic(client, topic)
    if (partition !== undefined && partition >= partitions.length) {
      throw new OperationalError(`topic '${topic}' has no partition ${partition} (it has ${partitions.length})`)
    }
    const producer = await client.producer(options)
    const lines = createInterface({ input, crlfDelay: Infinity })
    let interrupted = false
    const onSignal = () => {
      interrupted = true
      lines.close()
    }
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
    const inflight = new Set<Promise<void>>()
    let produced = 0
    let failure: unknown
    let lineNumber = 0
    try {
      for await (const line of lines) {
        lineNumber++
        let parsed: LineRecord | null
        try {
          parsed = splitLine(line, separator, encoding)
        } catch (err) {
          failure = new OperationalError(`line ${lineNumber}: ${(err as Error).message}`)
          break
        }
        if (parsed === null) {
          failure = new OperationalError(`line ${lineNumber} has no key separator ${JSON.stringify(separator)}`)
          break
        }
        const record: ProducerRecord = { topic, partition, key: parsed.key, value: parsed.value, headers }
        const sent: Promise<void> = producer.send(record).then(
          () => void produced++,
          (err: unknown) => void (failure ??= err),
        ).finally(() => inflight.delete(sent))
        inflight.add(sent)
        if (inflight.size >= WINDOW) await Promise.race(inflight)
        if (failure !== undefined) break
      }
      await Promise.all(inflight)
    } finally {
      lines.close()
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
    if (failure !== undefined) {
      const known = failureOf(failure)
      if (known === null) throw failure
      throw new OperationalError(`${known.message} (${produced} records produced before the failure)`)
    }
    console.error(`produced ${produced} record${produced === 1 ? '' : 's'} to ${topic}`)
    return interrupted ? 130 : 0
  })
}
