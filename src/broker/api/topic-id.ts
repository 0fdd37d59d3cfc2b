/** A topic id (32 hex digits) as the 16 bytes the protocol carries. */
export function topicIdBytes(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g)!.map((b) => parseInt(b, 16)))
}
