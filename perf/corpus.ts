// The fixed compression corpus of the benchmarks: what Bitácora's users put in records —
// JSON activity-tracking events, metric lines, log lines — plus random bytes (encrypted or
// already-compressed payloads). Generated from a seed, so every run and machine measures the
// same bytes; no file to download or keep.

export type CorpusKind = 'json-events' | 'metric-lines' | 'log-lines' | 'random-bytes'
export const CORPUS_KINDS: readonly CorpusKind[] = ['json-events', 'metric-lines', 'log-lines', 'random-bytes']

/** mulberry32: a small seeded PRNG with good enough spread for synthetic data. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const EVENTS = ['page_view', 'click', 'add_to_cart', 'checkout', 'search', 'login', 'scroll']
const PAGES = ['/', '/products', '/products/{id}', '/cart', '/checkout', '/search?q={q}', '/account']
const COUNTRIES = ['ES', 'MX', 'AR', 'US', 'DE', 'FR', 'BR', 'CO']
const AGENTS = ['Mozilla/5.0 (X11; Linux x86_64) Firefox/126.0', 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4) Safari/604.1',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/125.0']
const METRICS = ['cpu_usage_ratio', 'mem_used_bytes', 'http_requests_total', 'disk_io_seconds', 'gc_pause_ms']
const LEVELS = ['INFO', 'INFO', 'INFO', 'DEBUG', 'WARN', 'ERROR']
const ROUTES = ['GET /api/orders/{id}', 'POST /api/cart', 'GET /api/products?page={n}', 'DELETE /api/session']

function lines(bytes: number, seed: number, line: (r: () => number, i: number) => string): Uint8Array {
  const r = prng(seed)
  const enc = new TextEncoder()
  const parts: string[] = []
  let size = 0
  for (let i = 0; size < bytes; i++) {
    const s = line(r, i) + '\n'
    parts.push(s)
    size += s.length // ASCII only
  }
  return enc.encode(parts.join('')).subarray(0, bytes)
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]
const hex = (r: () => number, n: number) => Array.from({ length: n }, () => Math.floor(r() * 16).toString(16)).join('')
const T0 = 1_717_000_000_000

function jsonEvents(bytes: number, seed: number): Uint8Array {
  return lines(bytes, seed, (r, i) =>
    JSON.stringify({
      ts: T0 + i * 37 + Math.floor(r() * 30),
      event: pick(r, EVENTS),
      user: `u${Math.floor(r() * 5000)}`,
      session: hex(r, 16),
      page: pick(r, PAGES).replace('{id}', String(Math.floor(r() * 900))).replace('{q}', hex(r, 4)),
      country: pick(r, COUNTRIES),
      ua: pick(r, AGENTS),
      duration_ms: Math.floor(r() * 4000),
    }),
  )
}

function metricLines(bytes: number, seed: number): Uint8Array {
  return lines(bytes, seed, (r, i) =>
    `${pick(r, METRICS)},host=web-${Math.floor(r() * 40)},region=${pick(r, ['eu-west-1', 'us-east-1', 'sa-east-1'])} value=${(r() * 1000).toFixed(3)} ${T0 + i * 1000}`,
  )
}

function logLines(bytes: number, seed: number): Uint8Array {
  return lines(bytes, seed, (r, i) => {
    const route = pick(r, ROUTES).replace('{id}', String(Math.floor(r() * 99999))).replace('{n}', String(Math.floor(r() * 50)))
    const status = r() < 0.92 ? 200 : pick(r, [201, 304, 404, 500, 503])
    return `${new Date(T0 + i * 113).toISOString()} ${pick(r, LEVELS)} [http-worker-${Math.floor(r() * 8)}] ${route} ${status} ${Math.floor(r() * 250)}ms trace=${hex(r, 16)}`
  })
}

function randomBytes(bytes: number, seed: number): Uint8Array {
  const r = prng(seed)
  const out = new Uint8Array(bytes)
  for (let i = 0; i < bytes; i += 4) {
    const v = Math.floor(r() * 4294967296)
    for (let k = 0; k < 4 && i + k < bytes; k++) out[i + k] = (v >>> (8 * k)) & 0xff
  }
  return out
}

/** One kind of corpus data, `bytes` long. */
export function corpusPart(kind: CorpusKind, bytes: number, seed = 42): Uint8Array {
  switch (kind) {
    case 'json-events':
      return jsonEvents(bytes, seed)
    case 'metric-lines':
      return metricLines(bytes, seed + 1)
    case 'log-lines':
      return logLines(bytes, seed + 2)
    case 'random-bytes':
      return randomBytes(bytes, seed + 3)
  }
}

/** The whole corpus: an equal part of each kind, concatenated in CORPUS_KINDS order. */
export function corpus(bytes = 1024 * 1024, seed = 42): Uint8Array {
  const part = Math.floor(bytes / CORPUS_KINDS.length)
  const out = new Uint8Array(part * CORPUS_KINDS.length)
  CORPUS_KINDS.forEach((kind, i) => out.set(corpusPart(kind, part, seed), i * part))
  return out
}
