// The codecs implemented in the WASM module: LZ4 (frame format, written as Kafka writes it),
// Snappy (written in xerial framing; xerial or raw read) and zstd (RFC 8878: one frame written,
// every frame form read). Everything runs over the scratch region; decompression reserves
// only what the payload's own headers bound it to (never more than the caller's limit), so a
// bomb is refused before memory is committed when its headers declare sizes, and costs at
// most the limit when they do not.
import { CodecError, WASM_ERRORS, wasmError } from './errors.js'
import { DECOMPRESSED_BYTES_MAX } from './limits.js'
import type { CompressionCodec } from './types.js'
import { align8, type CodecExports, type Scratch } from './wasm.js'

export type WasmCodec = 'lz4' | 'snappy' | 'zstd'

export const isWasmCodec = (c: CompressionCodec | 'unknown'): c is WasmCodec => c === 'lz4' || c === 'snappy' || c === 'zstd'

// The module's return code that this file treats specially.
const ERR_DECOMPRESSED_TOO_LARGE = WASM_ERRORS.ERR_DECOMPRESSED_TOO_LARGE.rc
// The module returns decoded sizes as i32.
const DECODED_BYTES_CEILING = 2 ** 31 - 1

export class WasmCompression {
  constructor(
    private readonly wasm: CodecExports,
    private readonly scratch: Scratch,
  ) {}

  /** Output room compressAt needs for n input bytes. */
  bound(codec: WasmCodec, n: number): number {
    if (codec === 'zstd') return this.wasm.zstdCompressBound(n)
    return codec === 'lz4' ? this.wasm.lz4FrameBound(n) : this.wasm.snappyXerialBound(n)
  }

  /** Compresses scratch [src, src+n) to dst, which has room for bound(codec, n). Returns the length. */
  compressAt(codec: WasmCodec, src: number, n: number, dst: number): number {
    if (codec === 'zstd') return this.wasm.zstdCompress(src, n, dst)
    return codec === 'lz4' ? this.wasm.lz4FrameCompress(src, n, dst) : this.wasm.snappyXerialCompress(src, n, dst)
  }

  /**
   * Decompresses scratch [src, src+n) into a region reserved at or after `after`, refusing
   * output past `limit` bytes. Returns where the output is and its length.
   */
  decompressAt(codec: WasmCodec, src: number, n: number, after: number, limit: number, where: string): { ptr: number; len: number } {
    const cap0 = Math.min(Math.max(0, Math.floor(limit)), DECODED_BYTES_CEILING)
    const cap = this.decodedBound(codec, src, n, cap0)
    if (cap < 0) throw this.error(cap, codec, limit, where)
    const ptr = align8(after)
    this.scratch.reserve(ptr + cap - this.scratch.base)
    const len = this.decodeInto(codec, src, n, ptr, cap)
    if (len < 0) {
      // Past a bound its own headers imply (and below the limit): the data lies about itself.
      if (len === ERR_DECOMPRESSED_TOO_LARGE && cap < cap0) {
        throw new CodecError('CORRUPT_COMPRESSED_DATA', `${where}: ${codec} data decodes past the size its headers declare`)
      }
      throw this.error(len, codec, limit, where)
    }
    return { ptr, len }
  }

  /** The most [src, src+n) decodes to by its own headers, at most `limit`; or a negative module code. */
  private decodedBound(codec: WasmCodec, src: number, n: number, limit: number): number {
    if (codec === 'zstd') return this.wasm.zstdDecodedBound(src, n, limit)
    return codec === 'lz4' ? this.wasm.lz4DecodedBound(src, n, limit) : this.wasm.snappyDecodedLength(src, n, limit)
  }

  /** Decodes [src, src+n) to dst, at most `cap` bytes: the length, or a negative module code. */
  private decodeInto(codec: WasmCodec, src: number, n: number, dst: number, cap: number): number {
    if (codec === 'zstd') return this.wasm.zstdDecompress(src, n, dst, cap)
    return codec === 'lz4' ? this.wasm.lz4FrameDecompress(src, n, dst, cap) : this.wasm.snappyDecompress(src, n, dst, cap)
  }

  /** Compresses `data` (LZ4 frame / xerial Snappy / zstd frame) and returns a copy of the result. */
  compress(codec: WasmCodec, data: Uint8Array): Uint8Array {
    const room = this.bound(codec, data.length)
    const src = this.scratch.reserve(align8(data.length) + room)
    this.scratch.u8.set(data, src)
    const dst = src + align8(data.length)
    const n = this.compressAt(codec, src, data.length, dst)
    return this.scratch.u8.slice(dst, dst + n)
  }

  /** Decompresses `data` (LZ4 frames; xerial or raw Snappy; zstd frames) into a fresh buffer. */
  decompress(codec: WasmCodec, data: Uint8Array, limit = DECOMPRESSED_BYTES_MAX): Uint8Array {
    const src = this.scratch.reserve(data.length)
    this.scratch.u8.set(data, src)
    const { ptr, len } = this.decompressAt(codec, src, data.length, src + data.length, limit, `${codec} data`)
    return this.scratch.u8.slice(ptr, ptr + len)
  }

  private error(rc: number, codec: WasmCodec, limit: number, where: string): CodecError {
    if (rc === ERR_DECOMPRESSED_TOO_LARGE) {
      return new CodecError('DECOMPRESSED_TOO_LARGE', `${where}: ${codec} data decompresses to more than the ${limit}-byte limit`)
    }
    return wasmError(rc, where)
  }
}
