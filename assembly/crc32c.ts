// CRC32C (Castagnoli), table-driven "slicing-by-16": 16 tables of 256 entries (16 KiB), four
// 32-bit loads per 16-byte step. WASM has no CRC instruction, so table layout and wide loads
// decide the speed (see perf/micro.ts).

const POLY_REFLECTED: u32 = 0x82f63b78
const TABLE_COUNT: u32 = 16
const TABLES: usize = memory.data(<i32>(TABLE_COUNT * 256 * 4), 64)

function initTables(): void {
  for (let n: u32 = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY_REFLECTED : c >>> 1
    store<u32>(TABLES + (<usize>n << 2), c)
  }
  for (let n: u32 = 0; n < 256; n++) {
    let c = load<u32>(TABLES + (<usize>n << 2))
    for (let t: u32 = 1; t < TABLE_COUNT; t++) {
      c = load<u32>(TABLES + (<usize>(c & 0xff) << 2)) ^ (c >>> 8)
      store<u32>(TABLES + (<usize>t << 10) + (<usize>n << 2), c)
    }
  }
}
initTables()

// Entry `i` of table `t` (t is a compile-time constant, folded into the load's offset).
// @ts-ignore: decorator
@inline function tab(t: usize, i: u32): u32 {
  return load<u32>(TABLES + (<usize>i << 2) + (t << 10))
}

/** Continues a CRC32C over [ptr, ptr+len). Start with crc = 0. */
export function crc32cUpdate(crc: u32, ptr: usize, len: usize): u32 {
  let c = ~crc
  while (len >= 16) {
    const a = load<u32>(ptr) ^ c
    const b = load<u32>(ptr, 4)
    const d = load<u32>(ptr, 8)
    const e = load<u32>(ptr, 12)
    c =
      tab(15, a & 0xff) ^ tab(14, (a >>> 8) & 0xff) ^
      tab(13, (a >>> 16) & 0xff) ^ tab(12, a >>> 24) ^
      tab(11, b & 0xff) ^ tab(10, (b >>> 8) & 0xff) ^
      tab(9, (b >>> 16) & 0xff) ^ tab(8, b >>> 24) ^
      tab(7, d & 0xff) ^ tab(6, (d >>> 8) & 0xff) ^
      tab(5, (d >>> 16) & 0xff) ^ tab(4, d >>> 24) ^
      tab(3, e & 0xff) ^ tab(2, (e >>> 8) & 0xff) ^
      tab(1, (e >>> 16) & 0xff) ^ tab(0, e >>> 24)
    ptr += 16
    len -= 16
  }
  while (len > 0) {
    c = tab(0, (c ^ <u32>load<u8>(ptr)) & 0xff) ^ (c >>> 8)
    ptr++
    len--
  }
  return ~c
}
