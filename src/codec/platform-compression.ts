// Compression the platform provides: gzip, through the web-standard CompressionStream /
// DecompressionStream, present in browsers and in Node >= 18, so one code path serves both.
// (lz4, snappy and zstd run in WASM: see wasm-compression.ts.) Decompression is bounded: it
// stops as soon as the output would pass `maxBytes`, so a decompression bomb costs at most
// maxBytes of memory.
import { CodecError } from './errors.js'
import { COMPRESSION_CODECS, type CompressionCodec } from './types.js'

/** The codecs this runtime can compress and decompress: every one, everywhere (WASM or gzip streams). */
export function supportedCompression(): CompressionCodec[] {
  return [...COMPRESSION_CODECS]
}

function notPlatform(codec: CompressionCodec): CodecError {
  return new CodecError('UNSUPPORTED_COMPRESSION', `compression codec '${codec}' is not a platform codec (only gzip is; lz4, snappy and zstd run in WASM)`)
}

export async function platformCompress(codec: CompressionCodec, data: Uint8Array): Promise<Uint8Array> {
  if (codec !== 'gzip') throw notPlatform(codec)
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream('gzip'))
  return new Uint8Array(await new Response(stream).arrayBuffer())
}

export async function platformDecompress(codec: CompressionCodec, data: Uint8Array, maxBytes: number): Promise<Uint8Array> {
  if (codec !== 'gzip') throw notPlatform(codec)
  return streamDecompress(codec, data, maxBytes)
}

async function streamDecompress(codec: 'gzip', data: Uint8Array, maxBytes: number): Promise<Uint8Array> {
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
