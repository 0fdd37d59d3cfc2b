// Atomic small files (quorum state, checkpoints): write a temp file, fsync it, rename it over
// the target, fsync the directory. After a crash at any point the target holds either the old
// or the new content in full, never a mix; a leftover `.tmp` is garbage and is ignored.
import { basename, dirname } from 'node:path'
import { assert, StorageError } from './errors.js'
import { readWhole, type FileLayer } from './file-layer.js'
import { SMALL_FILE_BYTES_MAX } from './limits.js'

export const TEMP_SUFFIX = '.tmp'

export async function writeFileAtomic(fs: FileLayer, path: string, bytes: Uint8Array): Promise<void> {
  if (bytes.length > SMALL_FILE_BYTES_MAX) {
    throw new StorageError('LIMIT_EXCEEDED', `${basename(path)}: ${bytes.length} bytes is over the ${SMALL_FILE_BYTES_MAX}-byte small-file limit`)
  }
  const temp = path + TEMP_SUFFIX
  await writeDurably(fs, temp, bytes)
  fs.rename(temp, path)
  await fs.syncDir(dirname(path))
}

/** Writes `bytes` as the whole content of `path` (created if missing) and fsyncs it. */
export async function writeDurably(fs: FileLayer, path: string, bytes: Uint8Array): Promise<void> {
  const h = fs.open(path, { create: true })
  try {
    h.truncate(0)
    h.write(bytes, 0)
    await h.sync()
  } finally {
    h.close()
  }
}

/**
 * Writes `bytes` as the whole content of `path` in place, without an fsync: only for files of
 * which every version a crash can leave (the old, the new, or a torn one failing its checksum)
 * is safe to find.
 */
export function writeUnsynced(fs: FileLayer, path: string, bytes: Uint8Array): void {
  const h = fs.open(path, { create: true })
  try {
    h.truncate(0)
    h.write(bytes, 0)
  } finally {
    h.close()
  }
}

/** Reads a small file, or null if it does not exist. */
export function readSmallFile(fs: FileLayer, path: string): Uint8Array | null {
  if (!fs.exists(path)) return null
  try {
    return readWhole(fs, path, SMALL_FILE_BYTES_MAX)
  } catch (cause) {
    if (cause instanceof RangeError) throw new StorageError('CORRUPT_FILE', cause.message, { cause })
    throw cause
  }
}

// Checksummed text files: `<magic> <version>` line, body lines, then `crc32c <hex>` over
// everything before that last line. A torn or bit-flipped file fails the check instead of
// being half-believed (a digit flipped in an offset would still parse).
const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

export function encodeCheckedText(
  magic: string, lines: readonly string[], crc32c: (b: Uint8Array) => number, version = 1,
): Uint8Array {
  assert(!magic.includes('\n'), 'magic is one line')
  const body = [`${magic} ${version}`, ...lines].join('\n') + '\n'
  const crc = crc32c(encoder.encode(body)).toString(16).padStart(8, '0')
  return encoder.encode(`${body}crc32c ${crc}\n`)
}

/** Returns the body lines, or throws CORRUPT_FILE naming `what`. */
export function decodeCheckedText(
  magic: string, bytes: Uint8Array, crc32c: (b: Uint8Array) => number, what: string,
): string[] {
  return decodeVersionedText(magic, [1], bytes, crc32c, what).lines
}

/** As decodeCheckedText, for a format with several versions: which one, and its body lines. */
export function decodeVersionedText(
  magic: string, versions: readonly number[], bytes: Uint8Array, crc32c: (b: Uint8Array) => number, what: string,
): { version: number; lines: string[] } {
  const bad = (why: string) => new StorageError('CORRUPT_FILE', `${what} is damaged: ${why}`)
  let text: string
  try {
    text = decoder.decode(bytes)
  } catch {
    throw bad('not UTF-8')
  }
  const cut = text.lastIndexOf('crc32c ')
  if (cut < 0 || !text.endsWith('\n')) throw bad('no checksum line (torn?)')
  const body = text.slice(0, cut)
  const crc = Number.parseInt(text.slice(cut + 7, -1), 16)
  if (!Number.isFinite(crc) || crc !== crc32c(encoder.encode(body))) throw bad('checksum mismatch')
  const lines = body.split('\n').slice(0, -1)
  const version = versions.find((v) => lines[0] === `${magic} ${v}`)
  if (version === undefined) throw bad(`header is not "${magic} ${versions.join('|')}"`)
  return { version, lines: lines.slice(1) }
}

/** A checked-text file of one body line of `count` integers (>= 0), or CORRUPT_FILE naming `what`. */
export function decodeCountsLine(
  magic: string, bytes: Uint8Array, crc32c: (b: Uint8Array) => number, what: string, count: number,
): number[] {
  const lines = decodeCheckedText(magic, bytes, crc32c, what)
  const fields = (lines[0] ?? '').split(' ')
  if (lines.length !== 1 || fields.length !== count) throw new StorageError('CORRUPT_FILE', `${what} is damaged: "${lines.join(' / ')}"`)
  return fields.map((f, i) => parseCount(f, `${what} field ${i + 1}`))
}

/** Parses a non-negative safe integer written by us, or throws CORRUPT_FILE. */
export function parseCount(text: string | undefined, what: string, min = 0): number {
  const n = text !== undefined && /^-?\d+$/.test(text) ? Number(text) : Number.NaN
  if (!Number.isSafeInteger(n) || n < min) throw new StorageError('CORRUPT_FILE', `${what}: "${text}" is not an integer >= ${min}`)
  return n
}
