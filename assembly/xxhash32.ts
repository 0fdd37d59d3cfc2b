// xxHash32 (one-shot), the checksum of the LZ4 frame format: header, block and content
// checksums all use it with seed 0.

const P1: u32 = 2654435761
const P2: u32 = 2246822519
const P3: u32 = 3266489917
const P4: u32 = 668265263
const P5: u32 = 374761393

// @ts-ignore: decorator
@inline function round(acc: u32, lane: u32): u32 {
  return rotl<u32>(acc + lane * P2, 13) * P1
}

/** xxHash32 of [ptr, ptr+len). */
export function xxh32(ptr: usize, len: usize, seed: u32): u32 {
  const end = ptr + len
  let h: u32
  if (len >= 16) {
    let v1 = seed + P1 + P2
    let v2 = seed + P2
    let v3 = seed
    let v4 = seed - P1
    const limit = end - 16
    do {
      v1 = round(v1, load<u32>(ptr))
      v2 = round(v2, load<u32>(ptr, 4))
      v3 = round(v3, load<u32>(ptr, 8))
      v4 = round(v4, load<u32>(ptr, 12))
      ptr += 16
    } while (ptr <= limit)
    h = rotl<u32>(v1, 1) + rotl<u32>(v2, 7) + rotl<u32>(v3, 12) + rotl<u32>(v4, 18)
  } else {
    h = seed + P5
  }
  h += <u32>len
  while (end - ptr >= 4) {
    h = rotl<u32>(h + load<u32>(ptr) * P3, 17) * P4
    ptr += 4
  }
  while (ptr < end) {
    h = rotl<u32>(h + <u32>load<u8>(ptr) * P5, 11) * P1
    ptr++
  }
  h ^= h >>> 15
  h *= P2
  h ^= h >>> 13
  h *= P3
  h ^= h >>> 16
  return h
}
