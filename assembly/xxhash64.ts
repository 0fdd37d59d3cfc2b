// xxHash64 (one-shot), the content checksum of the zstd frame format (RFC 8878 §3.1.1: the low
// 32 bits of XXH64 with seed 0, little-endian).

const P1: u64 = 0x9e3779b185ebca87
const P2: u64 = 0xc2b2ae3d27d4eb4f
const P3: u64 = 0x165667b19e3779f9
const P4: u64 = 0x85ebca77c2b2ae63
const P5: u64 = 0x27d4eb2f165667c5

// @ts-ignore: decorator
@inline function round(acc: u64, lane: u64): u64 {
  return rotl<u64>(acc + lane * P2, 31) * P1
}

// @ts-ignore: decorator
@inline function merge(h: u64, v: u64): u64 {
  return (h ^ round(0, v)) * P1 + P4
}

/** xxHash64 of [ptr, ptr+len). */
export function xxh64(ptr: usize, len: usize, seed: u64): u64 {
  const end = ptr + len
  let h: u64
  if (len >= 32) {
    let v1 = seed + P1 + P2
    let v2 = seed + P2
    let v3 = seed
    let v4 = seed - P1
    const limit = end - 32
    do {
      v1 = round(v1, load<u64>(ptr))
      v2 = round(v2, load<u64>(ptr, 8))
      v3 = round(v3, load<u64>(ptr, 16))
      v4 = round(v4, load<u64>(ptr, 24))
      ptr += 32
    } while (ptr <= limit)
    h = rotl<u64>(v1, 1) + rotl<u64>(v2, 7) + rotl<u64>(v3, 12) + rotl<u64>(v4, 18)
    h = merge(h, v1)
    h = merge(h, v2)
    h = merge(h, v3)
    h = merge(h, v4)
  } else {
    h = seed + P5
  }
  h += <u64>len
  while (end - ptr >= 8) {
    h = rotl<u64>(h ^ round(0, load<u64>(ptr)), 27) * P1 + P4
    ptr += 8
  }
  if (end - ptr >= 4) {
    h = rotl<u64>(h ^ (<u64>load<u32>(ptr) * P1), 23) * P2 + P3
    ptr += 4
  }
  while (ptr < end) {
    h = rotl<u64>(h ^ (<u64>load<u8>(ptr) * P5), 11) * P1
    ptr++
  }
  h ^= h >> 33
  h *= P2
  h ^= h >> 29
  h *= P3
  h ^= h >> 32
  return h
}
