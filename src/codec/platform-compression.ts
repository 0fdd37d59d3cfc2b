// Compression the platform provides: gzip through the web-standard CompressionStream /
// DecompressionStream, present in browsers and in Node >= 18, so one code path serves both.
// Decompression is bounded: it stops reading as soon as the output would pass `maxBytes`,
// so a decompression bomb costs at most maxBytes of memory.
import { CodecError } from './errors.js'
import type { CompressionCodec } from './types.js'

type StreamFormat = 'gzip'

function streamFormat(codec: CompressionCodec): StreamFormat {
  if (codec === 'gzip') return 'gzip'
  throw new CodecError(
    'UNSUPPORTED_COMPRESSION',
    `compression codec '${codec}' is not available in this runtime (supported here: none, gzip)`,
  )
}

export async function platformCompress(codec: CompressionCodec, data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream(streamFormat(codec)))
  return new Uint8Array(await new Response(stream).arrayBuffer())
}

export async function platformDecompress(codec: CompressionCodec, data: Uint8Array, maxBytes: number): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream(streamFormat(codec)))
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
