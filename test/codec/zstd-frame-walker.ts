// A small reader of zstd frame structure for the encoder's tests: the frame header's fields,
// and per block its type and size, its literals section's type, stream count and Huffman
// weights form, and its sequences section's count and modes. It decodes nothing (the
// oracles do that); it shows which encoder path wrote each part. Not a test file.

export type BlockType = 'raw' | 'rle' | 'compressed' | 'reserved'
export type LiteralsType = 'raw' | 'rle' | 'huffman' | 'treeless'
export type SequenceMode = 'predefined' | 'rle' | 'fse' | 'repeat'

export interface WalkedBlock {
  type: BlockType
  last: boolean
  /** Bytes of the block's content (for an RLE block, the bytes it regenerates). */
  size: number
  literals?: { type: LiteralsType; regenerated: number; streams: 1 | 4 | 0; weights?: 'direct' | 'fse' }
  sequences?: { count: number; ll?: SequenceMode; of?: SequenceMode; ml?: SequenceMode }
}

export interface WalkedFrame {
  singleSegment: boolean
  checksum: boolean
  contentSize: number | undefined
  blocks: WalkedBlock[]
  /** Bytes the frame takes, checksum included. */
  length: number
}

const BLOCK_TYPES: BlockType[] = ['raw', 'rle', 'compressed', 'reserved']
const LITERALS_TYPES: LiteralsType[] = ['raw', 'rle', 'huffman', 'treeless']
const MODES: SequenceMode[] = ['predefined', 'rle', 'fse', 'repeat']

/** Walks the one frame at the start of `f`; throws on anything it does not expect. */
export function walkFrame(f: Uint8Array): WalkedFrame {
  const v = new DataView(f.buffer, f.byteOffset, f.byteLength)
  if (v.getUint32(0, true) !== 0xfd2fb528) throw new Error('not a zstd frame')
  const fhd = f[4]
  const sizeFlag = fhd >> 6
  const singleSegment = (fhd & 0x20) !== 0
  const checksum = (fhd & 0x04) !== 0
  const dictBytes = [0, 1, 2, 4][fhd & 3]
  let at = 5 + (singleSegment ? 0 : 1) + dictBytes
  const sizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][sizeFlag]
  let contentSize: number | undefined
  if (sizeBytes === 1) contentSize = f[at]
  else if (sizeBytes === 2) contentSize = v.getUint16(at, true) + 256
  else if (sizeBytes === 4) contentSize = v.getUint32(at, true)
  else if (sizeBytes === 8) contentSize = Number(v.getBigUint64(at, true))
  at += sizeBytes
  const blocks: WalkedBlock[] = []
  for (;;) {
    const h = f[at] | (f[at + 1] << 8) | (f[at + 2] << 16)
    at += 3
    const block: WalkedBlock = { type: BLOCK_TYPES[(h >> 1) & 3], last: (h & 1) === 1, size: h >>> 3 }
    const stored = block.type === 'rle' ? 1 : block.size
    if (block.type === 'compressed') walkCompressed(f.subarray(at, at + block.size), block)
    blocks.push(block)
    at += stored
    if (block.last) break
  }
  return { singleSegment, checksum, contentSize, blocks, length: at + (checksum ? 4 : 0) }
}

function walkCompressed(b: Uint8Array, block: WalkedBlock): void {
  const type = LITERALS_TYPES[b[0] & 3]
  const format = (b[0] >> 2) & 3
  let at: number
  let regenerated: number
  let streams: 0 | 1 | 4 = 0
  let stored: number
  if (type === 'raw' || type === 'rle') {
    if ((format & 1) === 0) [at, regenerated] = [1, b[0] >> 3]
    else if (format === 1) [at, regenerated] = [2, (b[0] >> 4) | (b[1] << 4)]
    else [at, regenerated] = [3, (b[0] >> 4) | (b[1] << 4) | (b[2] << 12)]
    stored = type === 'rle' ? 1 : regenerated
  } else {
    streams = format === 0 ? 1 : 4
    const headerBytes = format <= 1 ? 3 : format === 2 ? 4 : 5
    const sizeBits = format <= 1 ? 10 : format === 2 ? 14 : 18
    let value = 0n
    for (let i = headerBytes - 1; i >= 0; i--) value = (value << 8n) | BigInt(b[i])
    const mask = (1n << BigInt(sizeBits)) - 1n
    regenerated = Number((value >> 4n) & mask)
    stored = Number((value >> BigInt(4 + sizeBits)) & mask)
    at = headerBytes
  }
  block.literals = { type, regenerated, streams }
  if (type === 'huffman') block.literals.weights = b[at] >= 128 ? 'direct' : 'fse'
  at += stored
  let count = b[at]
  if (count >= 128 && count < 255) count = ((count - 128) << 8) + b[at + 1]
  else if (count === 255) count = b[at + 1] + (b[at + 2] << 8) + 0x7f00
  at += b[at] < 128 ? 1 : b[at] < 255 ? 2 : 3
  block.sequences = { count }
  if (count > 0) {
    const modes = b[at]
    Object.assign(block.sequences, { ll: MODES[modes >> 6], of: MODES[(modes >> 4) & 3], ml: MODES[(modes >> 2) & 3] })
  }
}
