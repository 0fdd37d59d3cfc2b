// Deterministic test inputs for the compression tests: text like the records Bitácora
// carries (JSON events, metric lines, log lines) and pseudo-random bytes. Not a test file.
import fc from 'fast-check'

/** xorshift32 bytes: incompressible, reproducible. */
export function randomBytes(n: number, seed = 0x9e3779b9): Uint8Array {
  const out = new Uint8Array(n)
  let x = seed >>> 0 || 1
  for (let i = 0; i < n; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}

/** n bytes of log-like text with a vocabulary drawn from a seed: compresses about 3-6x. */
export function textBytes(n: number, seed = 1): Uint8Array {
  const words = ['GET', 'POST', '/api/items', 'user', 'status=200', 'latency_ms', 'region=eu-west-1', 'INFO', 'WARN',
    '{"event":"click"', '"page":"/home"}', 'cpu.load', 'host=web-', 'trace_id=']
  const rnd = randomBytes(n, seed)
  const enc = new TextEncoder()
  const out = new Uint8Array(n)
  let at = 0
  for (let i = 0; at < n; i++) {
    const piece = rnd[i % n] % 5 === 0 ? String(rnd[(i * 7) % n] * 131 + i) : words[rnd[i % n] % words.length]
    const bytes = enc.encode(piece + (rnd[(i * 3) % n] % 9 === 0 ? '\n' : ' '))
    out.set(bytes.subarray(0, n - at), at)
    at += bytes.length
  }
  return out
}

/** Inputs of every shape: empty, tiny, runs, repeated patterns, text, random; up to ~200 KiB. */
export const anyInput: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc.uint8Array({ maxLength: 70_000 }),
  fc.record({ pattern: fc.uint8Array({ minLength: 1, maxLength: 40 }), times: fc.integer({ min: 1, max: 5000 }) })
    .map(({ pattern, times }) => {
      const out = new Uint8Array(pattern.length * times)
      for (let i = 0; i < times; i++) out.set(pattern, i * pattern.length)
      return out
    }),
  fc.record({ n: fc.integer({ min: 0, max: 200_000 }), seed: fc.integer({ min: 1, max: 1000 }) }).map(({ n, seed }) => textBytes(n, seed)),
  fc.array(fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 1, max: 3000 }).map((n) => new Uint8Array(n).fill(n & 0xff))), { maxLength: 50 })
    .map((parts) => Buffer.concat(parts)),
)

/** Fixed sizes around the format boundaries (64 KiB blocks) and a few MiB, text and random. */
export function boundaryInputs(): Array<[string, Uint8Array]> {
  const sizes = [0, 1, 12, 13, 65535, 65536, 65537, 3 * 1024 * 1024 + 17]
  return sizes.flatMap((n): Array<[string, Uint8Array]> => [
    [`text ${n}`, textBytes(n, n + 1)],
    [`random ${n}`, randomBytes(n, n + 7)],
  ])
}
