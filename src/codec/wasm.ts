// Instantiates the codec's WASM module (embedded by the build, so the same code runs in
// Node, browsers and bundles) and manages its scratch memory: one region, reused by every
// call, grown on demand up to SCRATCH_BYTES_MAX and never shrunk.
import { CODEC_WASM_BASE64 } from './wasm-binary.js'
import { CodecError } from './errors.js'
import { checkLayout } from './layout-check.js'
import { SCRATCH_BYTES_MAX } from './limits.js'

export interface CodecExports {
  memory: WebAssembly.Memory
  scratchBase(): number
  ensureMemory(end: number): number
  crc32cUpdate(crc: number, ptr: number, len: number): number
  checkBatch(ptr: number, len: number, contiguous: number): number
  walkRecords(
    ptr: number, len: number, count: number, contiguous: number, lastOffsetDelta: number,
    indexPtr: number, headerPtr: number, headerCap: number, base: number,
  ): number
  encodeRecords(inPtr: number, inLen: number, count: number, outPtr: number, outCap: number): number
  varintWrite(ptr: number, v: number): number
  varlongWrite(ptr: number, v: bigint): number
  varintRead(ptr: number, len: number): number
  varlongRead(ptr: number, len: number): bigint
  lastReadBytes(): number
  lastReadError(): number
  xxh32(ptr: number, len: number, seed: number): number
  xxh64(ptr: number, len: number, seed: bigint): bigint
  lz4BlockBound(n: number): number
  lz4CompressBlock(src: number, n: number, dst: number): number
  lz4DecompressBlock(src: number, n: number, dst: number, cap: number, window: number): number
  lz4FrameBound(n: number): number
  lz4FrameCompress(src: number, n: number, dst: number): number
  lz4DecodedBound(src: number, n: number, limit: number): number
  lz4FrameDecompress(src: number, n: number, dst: number, cap: number): number
  snappyRawBound(n: number): number
  snappyCompressRaw(src: number, n: number, dst: number): number
  snappyDecompressRaw(src: number, n: number, dst: number, cap: number): number
  snappyXerialBound(n: number): number
  snappyXerialCompress(src: number, n: number, dst: number): number
  snappyDecodedLength(src: number, n: number, limit: number): number
  snappyDecompress(src: number, n: number, dst: number, cap: number): number
  zstdCompressBound(n: number): number
  zstdCompress(src: number, n: number, dst: number): number
  zstdDecodedBound(src: number, n: number, limit: number): number
  zstdDecompress(src: number, n: number, dst: number, cap: number): number
  zstdDecodeStats(): number
  zstdDecodeStatsReset(): void
}

function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64)
  const out = new Uint8Array(new ArrayBuffer(bin.length))
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}

/**
 * Instantiates the module (the one embedded by the build unless `binary` is given) and checks
 * that it agrees with layout.ts and errors.ts (CODEC_INTERNAL if not).
 */
export async function instantiateCodec(binary: Uint8Array<ArrayBuffer> = decodeBase64(CODEC_WASM_BASE64)): Promise<CodecExports> {
  const { instance } = await WebAssembly.instantiate(binary, {
    env: {
      abort(_msg: number, _file: number, line: number, column: number): never {
        throw new CodecError('CODEC_INTERNAL', `codec WASM aborted at ${line}:${column}`)
      },
    },
  })
  checkLayout(instance.exports)
  return instance.exports as unknown as CodecExports
}

/** Rounds a scratch position up to 8 bytes: regions start there so float64 slots in them are aligned. */
export const align8 = (n: number) => (n + 7) & ~7

/** Views over the module's memory, re-created whenever memory grows (growth detaches them). */
export class Scratch {
  readonly base: number
  u8: Uint8Array
  view: DataView
  i32: Int32Array
  f64: Float64Array

  constructor(private readonly wasm: CodecExports) {
    this.base = wasm.scratchBase()
    this.u8 = new Uint8Array(wasm.memory.buffer)
    this.view = new DataView(wasm.memory.buffer)
    this.i32 = new Int32Array(wasm.memory.buffer)
    this.f64 = new Float64Array(wasm.memory.buffer)
  }

  /** Makes [base, base + bytes) usable and returns base. Throws past SCRATCH_BYTES_MAX. */
  reserve(bytes: number): number {
    if (bytes > SCRATCH_BYTES_MAX) {
      throw new CodecError(
        'BATCH_TOO_LARGE',
        `codec call needs ${bytes} bytes of scratch memory, over the ${SCRATCH_BYTES_MAX}-byte limit: split the batch`,
      )
    }
    if (this.wasm.ensureMemory(this.base + bytes) !== 0) {
      throw new CodecError('BATCH_TOO_LARGE', `codec could not grow WASM memory to ${this.base + bytes} bytes`)
    }
    if (this.u8.buffer !== this.wasm.memory.buffer) this.refresh()
    return this.base
  }

  private refresh(): void {
    const buf = this.wasm.memory.buffer
    this.u8 = new Uint8Array(buf)
    this.view = new DataView(buf)
    this.i32 = new Int32Array(buf)
    this.f64 = new Float64Array(buf)
  }
}
