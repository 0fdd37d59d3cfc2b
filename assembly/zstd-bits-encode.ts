// The zstd encoder's bit writer: bits go into a 64-bit accumulator lowest first and leave it
// as little-endian bytes. A decoder reads the stream backward from its last byte (after the
// closing 1 bit), so what is written last is read first (RFC 8878 §4.1). One stream is open
// at a time (module state); callers flush before the accumulator can pass 56 bits.

let acc: u64 = 0
let count: u32 = 0
let ptr: usize = 0

/** Starts a stream at `at`. The writer may store up to 8 bytes past the stream's end. */
// @ts-ignore: decorator
@inline export function bitsOpen(at: usize): void {
  acc = 0
  count = 0
  ptr = at
}

/** Appends the low `n` bits of `value` (n <= 32; the caller keeps value < 2^n or masks). */
// @ts-ignore: decorator
@inline export function bitsAdd(value: u64, n: u32): void {
  acc |= (value & ((<u64>1 << n) - 1)) << count
  count += n
}

/** Appends `n` bits of a value already known to be below 2^n. */
// @ts-ignore: decorator
@inline export function bitsAddFast(value: u64, n: u32): void {
  acc |= value << count
  count += n
}

/** Moves whole bytes out of the accumulator: afterwards fewer than 8 bits remain in it. */
// @ts-ignore: decorator
@inline export function bitsFlush(): void {
  store<u64>(ptr, acc)
  const bytes = count >> 3
  ptr += bytes
  count &= 7
  acc = bytes == 8 ? 0 : acc >> (<u64>bytes << 3)
}

/** Ends the stream with the closing 1 bit; returns the position just past its last byte. */
export function bitsClose(): usize {
  bitsAddFast(1, 1)
  bitsFlush()
  return ptr + (count > 0 ? 1 : 0)
}
