// The browser client, served by every broker at a stable path (`/bitacora.js`, with its source
// map), so a page on an allowed origin can `import { createClient } from 'http://BROKER/bitacora.js'`.
// The bundle is the build's (dist/browser/), read once on first request and kept.
import { readFile } from 'node:fs/promises'

export const BUNDLE_PATHS: Record<string, { file: string; type: string }> = {
  '/bitacora.js': { file: 'bitacora.js', type: 'text/javascript; charset=utf-8' },
  '/bitacora.js.map': { file: 'bitacora.js.map', type: 'application/json' },
}

/** dist/broker/net/ → dist/browser/ */
const BUNDLE_DIR = new URL('../../browser/', import.meta.url)

const cache = new Map<string, Promise<Buffer | null>>()

/** The file's bytes, or null when the bundle was not built (running from sources). */
export function bundleFile(file: string): Promise<Buffer | null> {
  let bytes = cache.get(file)
  if (bytes === undefined) {
    bytes = readFile(new URL(file, BUNDLE_DIR)).catch(() => null)
    cache.set(file, bytes)
  }
  return bytes
}
