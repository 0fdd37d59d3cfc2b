// Limits of the codec. Every buffer the codec uses is bounded by these.

/** Largest batch (encoded or decoded, in bytes) one codec call accepts. */
export const BATCH_BYTES_MAX = 32 * 1024 * 1024

/** Default ceiling on a compressed batch's decompressed records section (bomb protection). */
export const DECOMPRESSED_BYTES_MAX = BATCH_BYTES_MAX

/**
 * Ceiling on the WASM module's scratch memory. The largest user is decoding a compressed batch:
 * the batch, its decompressed records section, and the record and header index over that
 * section (at most 8 bytes of index per byte of records), plus slack for alignment. Memory
 * grows to this and no further.
 */
export const SCRATCH_BYTES_MAX = BATCH_BYTES_MAX + 9 * DECOMPRESSED_BYTES_MAX + 1024 * 1024

/** Chunk for CRC32C over data that is not in WASM memory (bounds the copy region). */
export const CRC_CHUNK_BYTES = 1024 * 1024
