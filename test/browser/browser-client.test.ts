// The browser client in a real browser against a real broker (issue 7). Headless Chromium
// (Debian's `chromium`, installed by scripts/setup-system.sh, never downloaded), driven by
// playwright-core, opens test/browser/page.html, which imports the browser bundle
// (dist/browser/bitacora.js) from a tiny static server on 127.0.0.1. In the page the client
// creates a topic through the admin API, produces a few hundred records with keys, headers,
// null and empty values and binary bytes in every codec the browser supports (none, gzip via
// CompressionStream, lz4, snappy and zstd in WASM), and consumes them back; the test checks exactly
// what came back (bytes, partitions, offsets in order, timestamps) and, from Node, that the
// batches the broker stored carry the codec asked for. Then the origin check: the same page
// served from http://bitacora-test.invalid:PORT (mapped to 127.0.0.1 inside Chromium only) is
// refused with a 403 the broker logs, and admitted by a broker started with --allow-origin.
import t, { type Test } from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { loadCodec, readBatchHeader, splitBatches } from '../../src/codec/index.js'
import { partitionForKey } from '../../src/client/partitioner.js'
import { connect, startBroker, type BrokerProcess } from '../integration/broker-process.js'

t.setTimeout(90_000)

const ROOT = new URL('../../', import.meta.url).pathname
const BUNDLE = join(ROOT, 'dist/browser/bitacora.js')
const PAGE = new URL('./page.html', import.meta.url).pathname
const CHROMIUM = '/usr/bin/chromium'
const FOREIGN_HOST = 'bitacora-test.invalid'
const PARTITIONS = 3
const RECORDS = 300
const RUN_TIMEOUT_MS = 30_000
const CODECS = ['none', 'gzip', 'lz4', 'snappy', 'zstd'] as const

// ---- the system package: installed by the project's script, or the test fails (never skips)

const setup = spawnSync('bash', [join(ROOT, 'scripts/setup-system.sh'), 'browser'], { encoding: 'utf8', timeout: 600_000 })
if (setup.status !== 0) {
  throw new Error(
    `\`bash scripts/setup-system.sh browser\` failed (exit ${setup.status ?? setup.signal}): Debian's chromium could not be installed. ` +
      `Install it by hand and re-run.\n${setup.stdout}${setup.stderr}${setup.error ? String(setup.error) : ''}`,
  )
}
if (!existsSync(CHROMIUM)) throw new Error(`scripts/setup-system.sh browser succeeded but ${CHROMIUM} is missing: install Debian's chromium and re-run`)

// ---- the bundle must be built from the current sources, or this tests old code

if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run \`npm run build\` (or \`npm run bundle:browser\`) first`)
const bundleTime = statSync(BUNDLE).mtimeMs
const newerSource = ['src/client', 'src/codec', 'src/protocol']
  .flatMap((dir) => listFiles(join(ROOT, dir)))
  .find((f) => f.endsWith('.ts') && statSync(f).mtimeMs > bundleTime)
if (newerSource !== undefined) throw new Error(`${newerSource} is newer than ${BUNDLE}: run \`npm run build\` first`)

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name)) : [join(dir, e.name)]))
}

// ---- the records: built here, sent into the page as JSON, and checked against what came back

/** A string (the client UTF-8 encodes it), bytes as hex, or null. */
type Field = { t: 's'; v: string } | { t: 'b'; v: string } | null
interface RecordSpec {
  key: Field
  value: Field
  headers: Array<{ key: string; value: Field }>
  timestamp: number
}
interface WireRecord {
  topic: string
  partition: number
  offset: number
  timestamp: number
  key: string | null
  value: string | null
  headers: Array<{ key: string; value: string | null }>
}
type RunResult =
  | { ok: true; acks: Array<{ topic: string; partition: number; offset: number }>; consumed: WireRecord[]; ms: number }
  | { ok: false; stage: string; error: Array<{ name: string; code: string | null; retriable: boolean | null; message: string }>; ms: number }
interface PageApi {
  run(spec: object): Promise<RunResult>
  environment(): { origin: string; userAgent: string; compressionStream: boolean; webSocket: boolean }
}

const str = (v: string): Field => ({ t: 's', v })
const bin = (bytes: number[]): Field => ({ t: 'b', v: Buffer.from(bytes).toString('hex') })
const hexOf = (f: Field): string | null => (f === null ? null : f.t === 'b' ? f.v : Buffer.from(f.v, 'utf8').toString('hex'))
const bytesOf = (f: Field): Uint8Array | null => (f === null ? null : Buffer.from(hexOf(f)!, 'hex'))

/**
 * Record i: keys mostly strings (null every 7th, empty every 13th); values text with non-ASCII
 * (null every 11th, empty every 17th, binary every 5th); headers on every 3rd (with a null and
 * a binary value) and a repeated header key on every 4th; explicit timestamps.
 */
function recordFor(i: number, codec: string): RecordSpec {
  const key = i % 7 === 0 ? null : i % 13 === 0 ? str('') : str(`user-${i % 37}`)
  const value =
    i % 11 === 0 ? null
    : i % 17 === 0 ? bin([])
    : i % 5 === 0 ? bin(Array.from({ length: 1 + (i % 40) }, (_, j) => (i * 31 + j * 7) & 0xff))
    : str(`${codec} événement ${i} 🚢 ${'x'.repeat(i % 60)}`)
  const headers: RecordSpec['headers'] = []
  if (i % 3 === 0) headers.push({ key: 'seq', value: str(String(i)) }, { key: 'null', value: null }, { key: 'bin', value: bin([0, 255, i & 0xff]) })
  if (i % 4 === 0) headers.push({ key: 'dup', value: str('a') }, { key: 'dup', value: str('b') })
  return { key, value, headers, timestamp: 1_700_000_000_000 + i }
}

/** Checks one page run against the records it was given; returns the consumed count. */
function checkRun(t: Test, result: RunResult, topic: string, records: RecordSpec[]) {
  if (!result.ok) {
    t.fail(`the page failed at "${result.stage}": ${JSON.stringify(result.error)}`)
    return
  }
  t.equal(result.acks.length, records.length, 'every send was acknowledged')
  // Acknowledgements: keyed records on murmur2(key) % partitions, offsets rising in send order per partition.
  let misplaced = 0
  let outOfOrder = 0
  const lastAcked = new Map<number, number>()
  const sentAt = new Map<string, number>()
  result.acks.forEach((a, i) => {
    const key = bytesOf(records[i].key)
    if (a.topic !== topic || a.partition < 0 || a.partition >= PARTITIONS) misplaced++
    else if (key !== null && a.partition !== partitionForKey(key, PARTITIONS)) misplaced++
    if ((lastAcked.get(a.partition) ?? -1) >= a.offset) outOfOrder++
    lastAcked.set(a.partition, a.offset)
    sentAt.set(`${a.partition}/${a.offset}`, i)
  })
  t.equal(misplaced, 0, 'keyed records on murmur2(key) % partitions, the rest on a valid partition')
  t.equal(outOfOrder, 0, 'acknowledged offsets rise in send order within each partition')
  t.equal(sentAt.size, records.length, 'no two records were acknowledged at the same offset')

  t.equal(result.consumed.length, records.length, 'the consumer got every record back')
  // Consumed: per partition, exactly the acknowledged offsets, in order; each record byte-exact.
  const byPartition = new Map<number, number[]>()
  const mismatches: string[] = []
  for (const r of result.consumed) {
    byPartition.set(r.partition, [...(byPartition.get(r.partition) ?? []), r.offset])
    const i = sentAt.get(`${r.partition}/${r.offset}`)
    if (r.topic !== topic || i === undefined) {
      mismatches.push(`unexpected record ${r.topic}/${r.partition}/${r.offset}`)
      continue
    }
    const want = records[i]
    const got = { key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp }
    const expected = { key: hexOf(want.key), value: hexOf(want.value), headers: want.headers.map((h) => ({ key: h.key, value: hexOf(h.value) })), timestamp: want.timestamp }
    if (JSON.stringify(got) !== JSON.stringify(expected)) mismatches.push(`record ${i} at ${r.partition}/${r.offset}: got ${JSON.stringify(got)}, want ${JSON.stringify(expected)}`)
  }
  t.same(mismatches.slice(0, 5), [], 'keys, values (null, empty, binary, UTF-8), headers (repeated, null, binary) and timestamps came back exact')
  for (let p = 0; p < PARTITIONS; p++) {
    const acked = result.acks.filter((a) => a.partition === p).map((a) => a.offset)
    t.same(byPartition.get(p) ?? [], acked, `partition ${p}: consumed exactly the acknowledged offsets, in order`)
  }
}

/** From Node, over the raw protocol: the codec of every data batch the broker stored for `topic`. */
async function storedCodecs(url: string, topic: string): Promise<{ codecs: Set<string>; records: number }> {
  const codec = await loadCodec()
  const c = await connect(url)
  const codecs = new Set<string>()
  let records = 0
  try {
    for (let index = 0; index < PARTITIONS; index++) {
      let offset = 0
      for (let guard = 0; guard < 1000; guard++) {
        const r = await c.call({ fetch: { maxWaitMs: 0, topics: [{ name: topic, partitions: [{ index, fetchOffset: offset }] }] } })
        const p = r.fetch!.topics![0].partitions![0]
        if (p.error) throw new Error(`fetch ${topic}/${index} at ${offset}: ${p.error.message}`)
        if (p.records!.length === 0) break
        for (const [start, end] of splitBatches(p.records!, true)) {
          const bytes = p.records!.subarray(start, end)
          const header = readBatchHeader(bytes)
          if (!header.control) {
            codecs.add(header.compression)
            // Decoded by the Node codec: the browser's bytes are valid batches (CRC, framing).
            records += (await codec.decodeBatchAsync(bytes, { contiguous: false })).records.length
          }
          offset = header.nextOffset
        }
      }
    }
  } finally {
    c.close()
  }
  return { codecs, records }
}

// ---- the static server: the page and the bundle, on loopback only

async function startStaticServer(t: Test): Promise<{ server: Server; port: number }> {
  const files: Record<string, { path: string; type: string }> = {
    '/': { path: PAGE, type: 'text/html; charset=utf-8' },
    '/bitacora.js': { path: BUNDLE, type: 'text/javascript; charset=utf-8' },
    '/bitacora.js.map': { path: `${BUNDLE}.map`, type: 'application/json' },
  }
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    if (path === '/favicon.ico') {
      res.writeHead(204).end()
      return
    }
    const file = files[path]
    if (req.method !== 'GET' || file === undefined || !existsSync(file.path)) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n')
      return
    }
    res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' }).end(readFileSync(file.path))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  t.teardown(() => {
    server.closeAllConnections()
    return new Promise<void>((resolve) => server.close(() => resolve()))
  })
  return { server, port: (server.address() as AddressInfo).port }
}

// ---- the browser: Debian's chromium, headless; the foreign host name resolves to loopback only

async function launchChromium(t: Test): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--disable-quic', '--no-first-run',
      `--host-resolver-rules=MAP ${FOREIGN_HOST} 127.0.0.1`,
    ],
    timeout: 30_000,
  })
  t.teardown(() => browser.close())
  return browser
}

/** Opens the page at `origin` and waits until its module (and so the bundle) has loaded. */
async function openPage(t: Test, browser: Browser, origin: string): Promise<Page> {
  const context = await browser.newContext()
  t.teardown(() => context.close())
  const page = await context.newPage()
  const log: string[] = []
  page.on('console', (m) => log.push(`console.${m.type()}: ${m.text()}`))
  page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`))
  page.on('requestfailed', (r) => log.push(`requestfailed: ${r.url()} ${r.failure()?.errorText}`))
  t.teardown(() => {
    if (log.length > 0) t.comment(`page ${origin} said:\n${log.join('\n')}`)
  })
  const response = await page.goto(`${origin}/`, { timeout: 15_000 })
  t.equal(response?.status(), 200, `page served at ${origin}`)
  await page.waitForFunction(() => 'bitacoraTest' in window, undefined, { timeout: 15_000 }).catch((err: Error) => {
    throw new Error(`the page at ${origin} did not load the bundle: ${err.message}\n${log.join('\n')}`)
  })
  return page
}

/**
 * Runs one produce/consume round in the page. The client retries a failing connection for
 * minutes by design (background tabs), so a round that does not answer in time is reported as
 * a failure here rather than left to the file's timeout.
 */
async function runInPage(page: Page, spec: object, timeoutMs = RUN_TIMEOUT_MS): Promise<RunResult> {
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<RunResult>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, stage: `no answer from the page within ${timeoutMs} ms`, error: [], ms: timeoutMs }), timeoutMs)
  })
  try {
    return await Promise.race([page.evaluate((s) => (window as unknown as { bitacoraTest: PageApi }).bitacoraTest.run(s), spec), timedOut])
  } finally {
    clearTimeout(timer)
  }
}

function refusals(broker: BrokerProcess): Array<{ status: number; origin?: string; reason: string }> {
  return broker
    .stderr()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg: string; status: number; origin?: string; reason: string })
    .filter((l) => l.msg === 'connection refused')
}

// ---- the tests

const { port } = await startStaticServer(t)
const localOrigin = `http://127.0.0.1:${port}`
const foreignOrigin = `http://${FOREIGN_HOST}:${port}`
const browser = await launchChromium(t)

t.test('a page on a localhost origin produces to and consumes from the broker in every codec', async (t) => {
  const broker = await startBroker(t)
  const page = await openPage(t, browser, localOrigin)
  const env = await page.evaluate(() => (window as unknown as { bitacoraTest: PageApi }).bitacoraTest.environment())
  t.equal(env.origin, localOrigin, 'the page runs on the localhost origin')
  t.ok(env.compressionStream && env.webSocket, 'the browser has CompressionStream and WebSocket')
  t.match(env.userAgent, /Chrome\//, `the browser is Chromium (${env.userAgent})`)

  for (const compression of CODECS) {
    await t.test(`${RECORDS} records with ${compression}`, async (t) => {
      const topic = `browser-${compression}`
      const records = Array.from({ length: RECORDS }, (_, i) => recordFor(i, compression))
      const result = await runInPage(page, { brokerUrl: broker.url, topic, partitions: PARTITIONS, compression, records, consumeTimeoutMs: 20_000 })
      checkRun(t, result, topic, records)
      const stored = await storedCodecs(broker.url, topic)
      t.same([...stored.codecs], [compression], `the broker stored ${compression} batches written by the browser`)
      t.equal(stored.records, RECORDS, 'the Node codec decodes every stored record')
      t.comment(`${compression}: ${result.ms} ms in the page`)
    })
  }
  t.same(refusals(broker), [], 'the broker refused nothing')
})

t.test("many small requests sent back to back from the client's one reused frame buffer arrive intact", async (t) => {
  // The client writes every frame it sends at once into one buffer, trusting WebSocket.send()
  // to take a copy before it returns (src/client/transport.ts); a browser that queued a view
  // instead would send later frames' bytes under earlier ones' headers.
  const broker = await startBroker(t)
  const page = await openPage(t, browser, localOrigin)
  const topic = 'browser-small-requests'
  const records = Array.from({ length: 1500 }, (_, i) => recordFor(i, 'none'))
  const result = await runInPage(page, {
    brokerUrl: broker.url, topic, partitions: PARTITIONS, compression: 'none', records, consumeTimeoutMs: 20_000,
    producerOptions: { batchBytes: 1024, requestBytesMax: 2048, lingerMs: 0, deliveryTimeoutMs: 15_000 },
  })
  checkRun(t, result, topic, records)
  t.same(refusals(broker), [], 'the broker refused nothing')
})

t.test('a page on a non-allowed origin is refused; --allow-origin admits it', async (t) => {
  const page = await openPage(t, browser, foreignOrigin)
  const env = await page.evaluate(() => (window as unknown as { bitacoraTest: PageApi }).bitacoraTest.environment())
  t.equal(env.origin, foreignOrigin, 'the page runs on the foreign origin (the bundle loaded; only the broker can refuse it)')

  await t.test('refused with 403 by a default broker', async (t) => {
    const broker = await startBroker(t)
    const records = Array.from({ length: 10 }, (_, i) => recordFor(i, 'none'))
    const result = await runInPage(page, {
      brokerUrl: broker.url, topic: 'refused', partitions: 1, compression: 'none', records, consumeTimeoutMs: 5_000,
      clientOptions: { connectTimeoutMs: 5_000, retry: { retries: 2, initialMs: 50, maxMs: 200 } },
    })
    t.equal(result.ok, false, 'the client in the page could not reach the broker')
    if (!result.ok) {
      t.equal(result.stage, 'create topic', 'it failed at its first request')
      t.ok(result.error.some((e) => e.name === 'ClientError' && e.code === 'CONNECTION_REFUSED'), `a CONNECTION_REFUSED ClientError: ${JSON.stringify(result.error)}`)
    }
    const refused = refusals(broker)
    t.ok(refused.length >= 1, 'the broker logged the refusal')
    t.ok(refused.every((r) => r.status === 403 && r.origin === foreignOrigin), `every refusal was a 403 for ${foreignOrigin}: ${JSON.stringify(refused)}`)
    // Nothing got through: the topic does not exist.
    const c = await connect(broker.url)
    const meta = await c.call({ metadata: { topics: [] } })
    c.close()
    t.same((meta.metadata?.topics ?? []).map((x) => x.name).filter((n) => n === 'refused'), [], 'no topic was created')
  })

  await t.test(`admitted by a broker started with --allow-origin ${foreignOrigin}`, async (t) => {
    const broker = await startBroker(t, { args: ['--allow-origin', foreignOrigin] })
    const topic = 'admitted'
    const records = Array.from({ length: 100 }, (_, i) => recordFor(i, 'lz4'))
    const result = await runInPage(page, { brokerUrl: broker.url, topic, partitions: PARTITIONS, compression: 'lz4', records, consumeTimeoutMs: 20_000 })
    checkRun(t, result, topic, records)
    t.same(refusals(broker), [], 'the broker refused nothing')
  })
})

t.test('a page whose origin the broker refuses gets a clear error at its first connection attempt', async (t) => {
  // Issue 15, item 5: the browser hides why a WebSocket failed, and the client used to retry
  // the refusal as a broker that is down, for over 90 s. Default client options: nothing here
  // shortens a bound.
  const broker = await startBroker(t, { args: ['--no-localhost-origins'] })
  const page = await openPage(t, browser, localOrigin)
  const records = Array.from({ length: 3 }, (_, i) => recordFor(i, 'none'))
  const result = await runInPage(page, { brokerUrl: broker.url, topic: 'refused-localhost', partitions: 1, compression: 'none', records, consumeTimeoutMs: 5_000 })
  t.equal(result.ok, false, 'the page could not use the broker')
  if (result.ok) return
  t.equal(result.stage, 'create topic', 'it failed at its first request')
  const [top] = result.error
  t.comment(`${result.ms} ms: ${top?.code}: ${top?.message}`)
  t.ok(result.ms < 5_000, `the page had its answer in ${result.ms} ms`)
  t.equal(top?.code, 'CONNECTION_REFUSED', 'CONNECTION_REFUSED')
  t.equal(top?.retriable, false, 'final: retrying cannot mend a refused origin')
  t.match(top?.message ?? '', broker.url, 'it names the broker')
  t.match(top?.message ?? '', `refused this page's origin ${localOrigin} (allow it with --allow-origin)`, 'it names the page\'s origin and what to do')
  const refused = refusals(broker)
  t.equal(refused.length, 1, 'one attempt: the broker refused one connection')
  t.ok(refused.every((r) => r.status === 403 && r.origin === localOrigin), `a 403 for ${localOrigin}: ${JSON.stringify(refused)}`)
})
