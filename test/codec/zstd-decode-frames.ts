// Hand-built zstd frames (RFC 8878) for what the reference tools rarely or never write: raw and
// RLE blocks of every header form, skippable frames, RLE and repeat sequence modes, direct
// Huffman weights and treeless literals; and the decoder's mode counters. Not a test file.
import { createRequire } from 'node:module'
import type { CodecExports } from '../../src/codec/wasm.js'

const require = createRequire(import.meta.url)
const xxhashjs = require('xxhashjs') as { h64(b: Buffer, seed: number): { toString(radix: number): string } }

export const MAGIC = [0x28, 0xb5, 0x2f, 0xfd]
export const le = (n: number, bytes: number): number[] => {
  const out: number[] = []
  for (let i = 0; i < bytes; i++) out.push(Number((BigInt(n) >> BigInt(8 * i)) & 0xffn))
  return out
}
/** The low 32 bits of XXH64 (seed 0), as the frame's content checksum stores them. */
export const checksumOf = (content: Uint8Array): number[] => {
  const h = BigInt('0x' + xxhashjs.h64(Buffer.from(content), 0).toString(16))
  return le(Number(h & 0xffffffffn), 4)
}

export type Block =
  | { type: 'raw'; data: number[] | Uint8Array }
  | { type: 'rle'; byte: number; size: number }
  | { type: 'compressed'; body: number[] }
  | { type: 'reserved'; body: number[] }

const TYPE = { raw: 0, rle: 1, compressed: 2, reserved: 3 }

export interface FrameOptions {
  /** Content size field: its width (1 needs singleSegment) and value. */
  contentSize?: { bytes: 1 | 2 | 4 | 8; value: number }
  singleSegment?: boolean
  /** Window descriptor byte (default 0x48: 2^19). */
  window?: number
  dictionary?: { bytes: 1 | 2 | 4; id: number }
  /** The content to checksum, when the frame has a checksum. */
  checksum?: Uint8Array | number[]
  reservedBit?: boolean
}

export function blockBytes(block: Block, last: boolean): number[] {
  const size = block.type === 'raw' ? block.data.length : block.type === 'rle' ? block.size : block.body.length
  const header = le((last ? 1 : 0) | (TYPE[block.type] << 1) | (size << 3), 3)
  if (block.type === 'raw') return [...header, ...block.data]
  if (block.type === 'rle') return [...header, block.byte]
  return [...header, ...block.body]
}

export function frame(blocks: Block[], o: FrameOptions = {}): Uint8Array {
  const fcs = o.contentSize
  const fcsFlag = fcs === undefined || fcs.bytes === 1 ? 0 : { 2: 1, 4: 2, 8: 3 }[fcs.bytes]
  const dictFlag = o.dictionary === undefined ? 0 : { 1: 1, 2: 2, 4: 3 }[o.dictionary.bytes]
  const fhd = (fcsFlag << 6) | (o.singleSegment ? 0x20 : 0) | (o.reservedBit ? 0x08 : 0) | (o.checksum ? 0x04 : 0) | dictFlag
  const out = [...MAGIC, fhd]
  if (!o.singleSegment) out.push(o.window ?? 0x48)
  if (o.dictionary) out.push(...le(o.dictionary.id, o.dictionary.bytes))
  if (fcs) out.push(...le(fcs.bytes === 2 ? fcs.value - 256 : fcs.value, fcs.bytes))
  blocks.forEach((b, i) => out.push(...blockBytes(b, i === blocks.length - 1)))
  if (o.checksum) out.push(...checksumOf(Uint8Array.from(o.checksum)))
  return Uint8Array.from(out)
}

export const skippable = (payload: number[], nibble = 0): Uint8Array =>
  Uint8Array.from([0x50 | nibble, 0x2a, 0x4d, 0x18, ...le(payload.length, 4), ...payload])

export const concat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(Buffer.concat(parts))

/**
 * A direct-weights Huffman tree of two 1-bit codes, 'a' (0) and 'b' (1): weights listed for
 * symbols 0..97 ('a' weight 1), the last symbol 'b' implied with weight 1.
 */
export function huffmanTreeAB(): number[] {
  const listed = 98
  const weights = new Array<number>(listed).fill(0)
  weights[97] = 1
  const out = [127 + listed]
  for (let i = 0; i < listed; i += 2) out.push((weights[i] << 4) | (weights[i + 1] ?? 0))
  return out
}

/** A one-stream Huffman bitstream of 'a'/'b' (at most 7): the first symbol is read first, just under the end marker. */
export function abStream(text: string): number[] {
  let byte = 1
  for (const c of text) byte = (byte << 1) | (c === 'b' ? 1 : 0)
  return [byte]
}

/** A compressed literals section (type 2, or 3 for treeless) of one stream, 10-bit sizes. */
export function huffmanLiterals(text: string, tree: number[] | null): number[] {
  const stream = abStream(text)
  const body = [...(tree ?? []), ...stream]
  const v = (tree ? 2 : 3) | (text.length << 4) | (body.length << 14)
  return [...le(v, 3), ...body]
}

/** One sequence, every table in RLE mode (no state bits): codes ll, of, ml with no extra bits. */
export function rleSequence(llCode: number, ofCode: number, mlCode: number): number[] {
  return [1, (1 << 6) | (1 << 4) | (1 << 2), llCode, ofCode, mlCode, 0x01]
}

/** One sequence with every table repeated from the previous block (so, with RLE tables, no bits). */
export const repeatSequence = (): number[] => [1, (3 << 6) | (3 << 4) | (3 << 2), 0x01]

export const STATS = [
  'frames', 'skippableFrames', 'blocksRaw', 'blocksRle', 'blocksCompressed', 'literalsRaw', 'literalsRle',
  'literalsHuffman1', 'literalsHuffman4', 'literalsTreeless', 'tablesPredefined', 'tablesRle', 'tablesFse',
  'tablesRepeat', 'checksums', 'huffmanFseWeights', 'huffmanDirectWeights', 'repeatOffsets',
] as const
export type Stats = Record<(typeof STATS)[number], number>

/** The decoder's counters (assembly/zstd-decode-stats.ts), then zeroes them. */
export function takeStats(wasm: CodecExports): Stats {
  const counts = new Uint32Array(wasm.memory.buffer, wasm.zstdDecodeStats(), STATS.length)
  const out = Object.fromEntries(STATS.map((name, i) => [name, counts[i]])) as Stats
  wasm.zstdDecodeStatsReset()
  return out
}

export function addStats(into: Stats, more: Stats): void {
  for (const name of STATS) into[name] += more[name]
}
export const noStats = (): Stats => Object.fromEntries(STATS.map((n) => [n, 0])) as Stats
