// Compression the platform provides. gzip goes through the web-standard CompressionStream /
// DecompressionStream, present in browsers and in Node >= 18, so one code path serves both.
// zstd goes through whichever the runtime has: a 'zstd' stream format where the platform
// accepts one, else node:zlib's zstd (Node >= 22.15), reached through
// process.getBuiltinModule so browser bundles never import node:zlib; elsewhere a typed
// UNSUPPORTED_COMPRESSION error naming the codec. (lz4 and snappy run in WASM: see
// wasm-compression.ts.) Decompression is bounded: it stops as soon as the output would pass
// `maxBytes`, so a decompression bomb costs at most maxBytes of memory.
import { CodecError } from './errors.js'
import { COMPRESSION_CODECS, type CompressionCodec } from './types.js'

type StreamFormat = 'gzip' | 'zstd'

interface NodeZstd {
  zstdCompress(data: Uint8Array, callback: (err: Error | null, out: Uint8Array) => void): void
  zstdDecompress(
    data: Uint8Array, options: { maxOutputLength: number }, callback: (err: (Error & { code?: string }) | null, out: Uint8Array) => void,
  ): void
}

const streamFormats = new Map<string, boolean>()

/** Whether this runtime's CompressionStream and DecompressionStream accept `format`. */
function streamSupports(format: StreamFormat): boolean {
  let known = streamFormats.get(format)
  if (known === undefined) {
    try {
      new CompressionStream(format as CompressionFormat)
      new DecompressionStream(format as CompressionFormat)
      known = true
    } catch {
      known = false
    }
    streamFormats.set(format, known)
  }
  return known
}

/** node:zlib's zstd, when this is a Node with it; never a static import of node:zlib. */
function nodeZstd(): NodeZstd | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process
  const zlib = proc?.getBuiltinModule?.('node:zlib') as Partial<NodeZstd> | undefined
  return typeof zlib?.zstdCompress === 'function' && typeof zlib.zstdDecompress === 'function' ? (zlib as NodeZstd) : undefined
}

/** The codecs this runtime can compress and decompress: WASM ones always, platform ones where present. */
export function supportedCompression(): CompressionCodec[] {
  const zstd = streamSupports('zstd') || nodeZstd() !== undefined
  return COMPRESSION_CODECS.filter((codec) => codec !== 'zstd' || zstd)
}

function unsupported(codec: CompressionCodec): CodecError {
  return new CodecError(
    'UNSUPPORTED_COMPRESSION',
    `compression codec '${codec}' is not available in this runtime (supported here: ${supportedCompression().join(', ')})`,
  )
}

export async function platformCompress(codec: CompressionCodec, data: Uint8Array): Promise<Uint8Array> {
  if (codec === 'gzip' || (codec === 'zstd' && streamSupports('zstd'))) {
    const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream(codec as CompressionFormat))
    return new Uint8Array(await new Response(stream).arrayBuffer())
  }
  const zstd = codec === 'zstd' ? nodeZstd() : undefined
  if (zstd === undefined) throw unsupported(codec)
  return new Promise((resolve, reject) => zstd.zstdCompress(data, (err, out) => (err ? reject(err) : resolve(new Uint8Array(out)))))
}

export async function platformDecompress(codec: CompressionCodec, data: Uint8Array, maxBytes: number): Promise<Uint8Array> {
  if (codec === 'gzip' || (codec === 'zstd' && streamSupports('zstd'))) return streamDecompress(codec, data, maxBytes)
  const zstd = codec === 'zstd' ? nodeZstd() : undefined
  if (zstd === undefined) throw unsupported(codec)
  return new Promise((resolve, reject) =>
    zstd.zstdDecompress(data, { maxOutputLength: Math.max(1, maxBytes) }, (err, out) => {
      if (!err) return resolve(new Uint8Array(out.buffer, out.byteOffset, out.byteLength))
      reject(
        err.code === 'ERR_BUFFER_TOO_LARGE'
          ? new CodecError('DECOMPRESSED_TOO_LARGE', `zstd records section decompresses to more than the ${maxBytes}-byte limit`)
          : new CodecError('CORRUPT_COMPRESSED_DATA', `zstd records section is corrupt: ${err.message}`, { cause: err }),
      )
    }),
  )
}

async function streamDecompress(codec: StreamFormat, data: Uint8Array, maxBytes: number): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream(codec as CompressionFormat))
  const reader = stream.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      total += value.length
      if (total > maxBytes) {
        await reader.cancel()
        throw new CodecError(
          'DECOMPRESSED_TOO_LARGE',
          `${codec} records section decompresses to more than the ${maxBytes}-byte limit`,
        )
      }
      chunks.push(value)
    }
  } catch (err) {
    if (err instanceof CodecError) throw err
    throw new CodecError('CORRUPT_COMPRESSED_DATA', `${codec} records section is corrupt: ${(err as Error).message}`, {
      cause: err,
    })
  }
  if (chunks.length === 1) return chunks[0]
  const out = new Uint8Array(total)
  let at = 0
  for (const c of chunks) {
    out.set(c, at)
    at += c.length
  }
  return out
}
