// Input as lines of bytes, split at '\n' (one '\r' before it is dropped: CRLF files). A line is
// never decoded, so bytes that are not UTF-8 pass through unchanged; a line is a view of the
// chunks read (copied only when it spans chunks). A line longer than `lineBytesMax` is an error
// before it is buffered whole.
import { OperationalError } from './errors.js'

/** A line longer than the limit (its number counts from 1). */
export class LineTooLongError extends OperationalError {
  override name = 'LineTooLongError'
}

const NEWLINE = 0x0a
const CR = 0x0d

export async function* byteLines(input: AsyncIterable<Uint8Array | string>, lineBytesMax: number): AsyncGenerator<Uint8Array> {
  let parts: Uint8Array[] = []
  let partBytes = 0
  let lineNumber = 0
  const tooLong = () => new LineTooLongError(`line ${lineNumber + 1} is longer than ${lineBytesMax} bytes`)
  const line = (tail: Uint8Array): Uint8Array => {
    const whole = parts.length === 0 ? tail : Buffer.concat([...parts, tail])
    parts = []
    partBytes = 0
    lineNumber++
    return whole.length > 0 && whole[whole.length - 1] === CR ? whole.subarray(0, whole.length - 1) : whole
  }
  for await (const read of input) {
    const chunk = typeof read === 'string' ? Buffer.from(read) : Buffer.from(read.buffer, read.byteOffset, read.byteLength)
    let from = 0
    for (let nl = chunk.indexOf(NEWLINE, from); nl >= 0; nl = chunk.indexOf(NEWLINE, from)) {
      if (partBytes + nl - from > lineBytesMax) throw tooLong()
      yield line(chunk.subarray(from, nl))
      from = nl + 1
    }
    if (from < chunk.length) {
      partBytes += chunk.length - from
      if (partBytes > lineBytesMax) throw tooLong()
      parts.push(chunk.subarray(from))
    }
  }
  if (partBytes > 0) yield line(new Uint8Array(0))
}
