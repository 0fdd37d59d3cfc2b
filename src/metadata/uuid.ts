// Ids in the metadata (topic, incarnation, directory) are UUIDs: 32 lowercase hex digits in
// the image (how partition directories are named), 16 bytes in records on the wire.

export const UUID_BYTES = 16

const UUID_HEX = /^[0-9a-f]{32}$/

export function isUuidHex(s: string): boolean {
  return UUID_HEX.test(s)
}

/** 32 hex digits as 16 bytes; the caller has checked the form (isUuidHex). */
export function uuidBytes(hex: string): Uint8Array {
  const bytes = new Uint8Array(UUID_BYTES)
  for (let i = 0; i < UUID_BYTES; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16)
  return bytes
}

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'))

/** Bytes as lowercase hex (a wrong length yields a string isUuidHex refuses). */
export function uuidHex(bytes: Uint8Array): string {
  let s = ''
  for (const b of bytes) s += HEX[b]
  return s
}
