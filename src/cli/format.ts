// How `bitacora consume` prints a record. Pure: a kcat-style format compiled once into a
// function, or one JSON object per record. Null keys and values print as empty with a format
// and as null in JSON; bytes print as UTF-8 text unless an encoding says base64 or hex.
import type { ConsumerRecord } from '../client/node.js'
import { UsageError } from './errors.js'

export const ENCODINGS = ['utf8', 'base64', 'hex'] as const
export type Encoding = (typeof ENCODINGS)[number]

export interface Encodings {
  key: Encoding
  value: Encoding
}

export const DEFAULT_FORMAT = '%s\\n'

export const FORMAT_HELP = `  %k key   %s value   %p partition   %o offset   %T timestamp (ms)   %t topic
  %h headers (k=v,k2=v2)   %K key length   %S value length (-1 for null)   %% a '%'
  \\n newline   \\t tab   \\r carriage return   \\\\ backslash`

const utf8 = new TextDecoder()

/** Bytes as text in `encoding`; null stays null. */
export function encodeBytes(bytes: Uint8Array | null, encoding: Encoding): string | null {
  if (bytes === null) return null
  if (encoding === 'utf8') return utf8.decode(bytes)
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString(encoding)
}

type Piece = string | ((r: ConsumerRecord) => string)

/**
 * Compiles a kcat-style format. Each record's output ends with a newline: one is added when
 * the format does not end with one.
 */
export function compileFormat(format: string, encodings: Encodings = { key: 'utf8', value: 'utf8' }): (r: ConsumerRecord) => string {
  const pieces: Piece[] = []
  let literal = ''
  const text = (b: Uint8Array | null, e: Encoding) => encodeBytes(b, e) ?? ''
  const fields: Record<string, (r: ConsumerRecord) => string> = {
    k: (r) => text(r.key, encodings.key),
    s: (r) => text(r.value, encodings.value),
    p: (r) => String(r.partition),
    o: (r) => String(r.offset),
    T: (r) => String(r.timestamp),
    t: (r) => r.topic,
    h: (r) => r.headers.map((h) => `${h.key}=${text(h.value, 'utf8')}`).join(','),
    K: (r) => String(r.key?.length ?? -1),
    S: (r) => String(r.value?.length ?? -1),
  }
  const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\' }
  for (let i = 0; i < format.length; i++) {
    const c = format[i]
    const next = format[i + 1]
    if (c === '%') {
      if (next === '%') literal += '%'
      else if (next !== undefined && Object.hasOwn(fields, next)) {
        if (literal) pieces.push(literal)
        literal = ''
        pieces.push(fields[next])
      } else throw new UsageError(`--format: unknown directive '%${next ?? ''}' (known: %k %s %p %o %T %t %h %K %S %%)`)
      i++
    } else if (c === '\\' && next !== undefined && Object.hasOwn(escapes, next)) {
      literal += escapes[next]
      i++
    } else literal += c
  }
  if (!(literal.endsWith('\n') || (literal === '' && pieces.length === 0))) literal += '\n'
  if (literal) pieces.push(literal)
  return (r) => {
    let out = ''
    for (const p of pieces) out += typeof p === 'string' ? p : p(r)
    return out
  }
}

/** One JSON line: topic, partition, offset, timestamp, key, value, headers ([{key, value}]). */
export function jsonRecord(r: ConsumerRecord, encodings: Encodings = { key: 'utf8', value: 'utf8' }): string {
  return `${JSON.stringify({
    topic: r.topic,
    partition: r.partition,
    offset: r.offset,
    timestamp: r.timestamp,
    key: encodeBytes(r.key, encodings.key),
    value: encodeBytes(r.value, encodings.value),
    headers: r.headers.map((h) => ({ key: h.key, value: encodeBytes(h.value, 'utf8') })),
  })}\n`
}
