// How `bitacora consume` prints a record. Pure: a kcat-style format compiled once into a
// function, or one JSON object per record. Null keys and values print as empty with a format
// and as null in JSON; bytes print as UTF-8 text unless an encoding says base64 or hex.
// Bytes are never changed silently: in JSON a field that is not valid UTF-8 is written base64
// and its encoding named beside it; a format reports it (onInvalidUtf8) and prints U+FFFD.
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

// ignoreBOM: a leading U+FEFF is part of the bytes, not something to drop.
const lossyUtf8 = new TextDecoder('utf-8', { ignoreBOM: true })
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** Bytes as UTF-8 text, or null when they are not valid UTF-8. */
export function utf8Text(bytes: Uint8Array): string | null {
  try {
    return strictUtf8.decode(bytes)
  } catch {
    return null
  }
}

function binaryText(bytes: Uint8Array, encoding: 'base64' | 'hex'): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString(encoding)
}

/** Bytes as text in `encoding` (invalid UTF-8 as U+FFFD); null stays null. */
export function encodeBytes(bytes: Uint8Array | null, encoding: Encoding): string | null {
  if (bytes === null) return null
  return encoding === 'utf8' ? lossyUtf8.decode(bytes) : binaryText(bytes, encoding)
}

/** Which field of which record is not valid UTF-8 (for a warning). */
export type InvalidUtf8 = (field: 'key' | 'value' | `header '${string}'`, r: ConsumerRecord) => void

type Piece = string | ((r: ConsumerRecord) => string)

/**
 * Compiles a kcat-style format. Each record's output ends with a newline: one is added when
 * the format does not end with one. A key, value or header value printed as UTF-8 that is not
 * valid UTF-8 prints with U+FFFD in place of the bad bytes, and `onInvalidUtf8` is told.
 */
export function compileFormat(
  format: string, encodings: Encodings = { key: 'utf8', value: 'utf8' }, onInvalidUtf8: InvalidUtf8 = () => {},
): (r: ConsumerRecord) => string {
  const pieces: Piece[] = []
  let literal = ''
  const text = (b: Uint8Array | null, e: Encoding, field: Parameters<InvalidUtf8>[0], r: ConsumerRecord): string => {
    if (b === null) return ''
    if (e !== 'utf8') return binaryText(b, e)
    const strict = utf8Text(b)
    if (strict !== null) return strict
    onInvalidUtf8(field, r)
    return lossyUtf8.decode(b)
  }
  const fields: Record<string, (r: ConsumerRecord) => string> = {
    k: (r) => text(r.key, encodings.key, 'key', r),
    s: (r) => text(r.value, encodings.value, 'value', r),
    p: (r) => String(r.partition),
    o: (r) => String(r.offset),
    T: (r) => String(r.timestamp),
    t: (r) => r.topic,
    h: (r) => r.headers.map((h) => `${h.key}=${text(h.value, 'utf8', `header '${h.key}'`, r)}`).join(','),
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

/** A format printing key, separator, value (kcat's -K on the consumer side). */
export function keySeparatorFormat(separator: string): string {
  return `%k${separator.replaceAll('\\', '\\\\').replaceAll('%', '%%')}%s\\n`
}

/**
 * A field for JSON: text in `encoding`; bytes asked for as UTF-8 that are not valid UTF-8 go
 * base64. `encoding` is absent for UTF-8 text and names the encoding otherwise.
 */
export function jsonField(bytes: Uint8Array | null, encoding: Encoding): { text: string | null; encoding?: 'base64' | 'hex' } {
  if (bytes === null) return { text: null }
  if (encoding !== 'utf8') return { text: binaryText(bytes, encoding), encoding }
  const strict = utf8Text(bytes)
  return strict !== null ? { text: strict } : { text: binaryText(bytes, 'base64'), encoding: 'base64' }
}

/**
 * One JSON line: topic, partition, offset, timestamp, key, value, headers ([{key, value}]).
 * A key or value not written as UTF-8 text has `keyEncoding` / `valueEncoding` ('base64' or
 * 'hex') beside it, a header value `valueEncoding` in its object: absent means UTF-8 text.
 */
export function jsonRecord(r: ConsumerRecord, encodings: Encodings = { key: 'utf8', value: 'utf8' }): string {
  const key = jsonField(r.key, encodings.key)
  const value = jsonField(r.value, encodings.value)
  return `${JSON.stringify({
    topic: r.topic,
    partition: r.partition,
    offset: r.offset,
    timestamp: r.timestamp,
    key: key.text,
    ...(key.encoding ? { keyEncoding: key.encoding } : {}),
    value: value.text,
    ...(value.encoding ? { valueEncoding: value.encoding } : {}),
    headers: r.headers.map((h) => {
      const v = jsonField(h.value, 'utf8')
      return { key: h.key, value: v.text, ...(v.encoding ? { valueEncoding: v.encoding } : {}) }
    }),
  })}\n`
}
