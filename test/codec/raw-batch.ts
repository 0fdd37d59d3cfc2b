// Hand-built RecordBatch v2 bytes for tests that need what our encoder never writes:
// malformed records sections under a valid CRC, offset gaps, odd header fields.
// CRCs come from @node-rs/crc32, not from the code under test.
import { crc32c } from '@node-rs/crc32'

/** Zigzag varint bytes of a small integer (|n| < 2^31), or raw bytes passed through. */
export function varint(n: number): number[] {
  let z = ((n << 1) ^ (n >> 31)) >>> 0
  const out: number[] = []
  while (z >= 0x80) {
    out.push((z & 0x7f) | 0x80)
    z >>>= 7
  }
  out.push(z)
  return out
}

/** One record's bytes: length-prefixed body with the given parts. */
export function rawRecord(r: {
  offsetDelta: number
  key?: number[] | null
  value?: number[] | null
  headers?: Array<[number[] | null, number[] | null]>
  timestampDelta?: number
}): number[] {
  const field = (b: number[] | null | undefined) => (b == null ? varint(-1) : [...varint(b.length), ...b])
  const headers = r.headers ?? []
  const body = [
    0,
    ...varint(r.timestampDelta ?? 0),
    ...varint(r.offsetDelta),
    ...field(r.key),
    ...field(r.value === undefined ? [] : r.value),
    ...varint(headers.length),
    ...headers.flatMap(([k, v]) => [...field(k), ...field(v)]),
  ]
  return [...varint(body.length), ...body]
}

export interface RawHeader {
  count: number
  lastOffsetDelta: number
  attributes?: number
  magic?: number
  baseOffset?: number
}

/** A batch around `section` with a correct CRC (unless the caller breaks it afterwards). */
export function rawBatch(section: number[] | Uint8Array, h: RawHeader): Uint8Array {
  const out = new Uint8Array(61 + section.length)
  const v = new DataView(out.buffer)
  v.setBigInt64(0, BigInt(h.baseOffset ?? 0))
  v.setInt32(8, out.length - 12)
  v.setInt32(12, 0)
  v.setInt8(16, h.magic ?? 2)
  v.setInt16(21, h.attributes ?? 0)
  v.setInt32(23, h.lastOffsetDelta)
  v.setBigInt64(27, 1000n)
  v.setBigInt64(35, 1000n)
  v.setBigInt64(43, -1n)
  v.setInt16(51, -1)
  v.setInt32(53, -1)
  v.setInt32(57, h.count)
  out.set(section, 61)
  fixCrc(out)
  return out
}

/** Recomputes the CRC of the batch at the start of `bytes` (after a deliberate mutation). */
export function fixCrc(bytes: Uint8Array): void {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const end = Math.min(bytes.length, v.getInt32(8) + 12)
  v.setUint32(17, crc32c(Buffer.from(bytes.buffer, bytes.byteOffset + 21, Math.max(0, end - 21))) >>> 0)
}
