// zstd's backward bit reader (RFC 8878 §4.1): a bitstream is written forward and read from
// its last byte towards its first; the last byte's highest set bit marks where the data
// starts. Bits come off the top of a 64-bit container loaded from memory below the read
// position. Every load stays inside [start, start+size): a stream shorter than 8 bytes is
// assembled byte by byte. Reading past the stream's beginning yields garbage bits but no
// out-of-bounds access; the caller detects it (consumed > 64, or not exactly at the end).
//
// The state lives in the module-level fields below for the cold paths (Huffman weights);
// the hot loops (sequences, Huffman streams) copy it into locals and reload inline.

export let brStart: usize = 0
export let brPtr: usize = 0
export let brBits: u64 = 0
export let brConsumed: u32 = 0

/** Index of the highest set bit of v (v > 0). */
// @ts-ignore: decorator
@inline export function highbit(v: u32): u32 {
  return 31 - clz<u32>(v)
}

/** Starts reading [start, start+size) backwards. Returns false if it is empty or has no end marker. */
export function bitsInit(start: usize, size: usize): bool {
  if (size == 0) return false
  const last = <u32>load<u8>(start + size - 1)
  if (last == 0) return false
  brStart = start
  if (size >= 8) {
    brPtr = start + size - 8
    brBits = load<u64>(brPtr)
    brConsumed = clz<u32>(last) - 23
  } else {
    brPtr = start
    let bits: u64 = 0
    for (let i: usize = 0; i < size; i++) bits |= <u64>load<u8>(start + i) << (<u64>i << 3)
    brBits = bits
    brConsumed = clz<u32>(last) - 23 + (8 - <u32>size) * 8
  }
  return true
}

/** The next n bits (0..57 after a reload). Shifts are taken mod 64: past the start this is garbage. */
// @ts-ignore: decorator
@inline export function bitsRead(n: u32): u32 {
  const v = <u32>(((brBits << <u64>brConsumed) >> 1) >> <u64>(63 - n))
  brConsumed += n
  return v
}

/**
 * Moves the container down over the consumed whole bytes. Returns false once more bits were
 * read than the stream holds (consumed past its first bit).
 */
export function bitsReload(): bool {
  if (brConsumed > 64) return false
  if (brPtr >= brStart + 8) {
    brPtr -= brConsumed >> 3
    brConsumed &= 7
    brBits = load<u64>(brPtr)
  } else if (brPtr > brStart) {
    let n = <usize>(brConsumed >> 3)
    if (n > brPtr - brStart) n = brPtr - brStart
    brPtr -= n
    brConsumed -= <u32>n << 3
    brBits = load<u64>(brPtr)
  }
  return true
}

/** Whether every bit of the stream was read, and no more. */
// @ts-ignore: decorator
@inline export function bitsAtEnd(ptr: usize, consumed: u32): bool {
  return ptr == brStart && consumed == 64
}
