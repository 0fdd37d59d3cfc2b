// Two independent zstd implementations, used only as test oracles: Debian's `zstd` command-line
// tool (the reference library; installed by scripts/setup-system.sh) and @mongodb-js/zstd 1.2.x,
// a native binding that installs from the npm registry alone (prebuilt per-platform packages).
// Not a test file itself.
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
// The package's index.js wrapper drops the level argument (every frame came out at level 3):
// its NAPI bindings take it.
const native = require('@mongodb-js/zstd/bindings.js') as {
  compress(data: Buffer, level?: number): Promise<Buffer>
  decompress(data: Buffer): Promise<Buffer>
}

/** Compresses with the native binding at `level` (1..22). Its frames carry no checksum. */
export const nativeCompress = async (data: Uint8Array, level = 3): Promise<Uint8Array> =>
  new Uint8Array(await native.compress(Buffer.from(data), level))

export const nativeDecompress = async (frame: Uint8Array): Promise<Uint8Array> =>
  new Uint8Array(await native.decompress(Buffer.from(frame)))

/** Runs the `zstd` CLI over stdin → stdout with `args`; throws with its stderr on failure. */
export function zstdCli(args: string[], input: Uint8Array): Uint8Array {
  const r = spawnSync('zstd', ['-q', '-c', ...args], { input, maxBuffer: 1 << 30 })
  if (r.error) throw r.error
  if (r.status !== 0) throw new Error(`zstd ${args.join(' ')} exited ${r.status}: ${r.stderr.toString().trim()}`)
  return new Uint8Array(r.stdout)
}

/** The CLI's compression: e.g. cliCompress(data, ['-19', '--no-check']) or ['--long=27', '-3']. */
export const cliCompress = (data: Uint8Array, args: string[] = []): Uint8Array => zstdCli(args, data)

/** The CLI's decompression (it verifies the content checksum when the frame has one). */
export const cliDecompress = (frame: Uint8Array, args: string[] = []): Uint8Array => zstdCli(['-d', ...args], frame)
