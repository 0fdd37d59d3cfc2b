// zstd batches read in a real browser: kafkajs writes them (with a zstd plug-in over the
// @mongodb-js/zstd native binding; Chromium cannot write zstd), a real broker validates and
// stores them, and the browser bundle's consumer in headless Chromium (Debian's `chromium`,
// set up as browser-client.test.ts does) decodes them in WASM and gets every record back.
import t, { type Test } from 'tap'
import fc from 'fast-check'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { genBatch } from '../codec/oracle.js'
import { kafkajsZstdBatch } from '../codec/zstd-decode-kafkajs.js'
import { connect, startBroker } from '../integration/broker-process.js'

t.setTimeout(90_000)
const ROOT = new URL('../../', import.meta.url).pathname
const BUNDLE = join(ROOT, 'dist/browser/bitacora.js')
const PAGE = new URL('./page.html', import.meta.url).pathname
const CHROMIUM = '/usr/bin/chromium'

const setup = spawnSync('bash', [join(ROOT, 'scripts/setup-system.sh'), 'browser'], { encoding: 'utf8', timeout: 600_000 })
if (setup.status !== 0 || !existsSync(CHROMIUM)) throw new Error(`scripts/setup-system.sh browser failed: install Debian's chromium\n${setup.stdout}${setup.stderr}`)
if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run \`npm run build\` first`)

async function serve(t: Test): Promise<number> {
  const files: Record<string, [string, string]> = { '/': [PAGE, 'text/html'], '/bitacora.js': [BUNDLE, 'text/javascript'] }
  const server = createServer((req, res) => {
    const file = files[new URL(req.url ?? '/', 'http://x').pathname]
    if (file === undefined) res.writeHead(404).end()
    else res.writeHead(200, { 'content-type': file[1], 'cache-control': 'no-store' }).end(readFileSync(file[0]))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    server.closeAllConnections()
    return new Promise<void>((resolve) => server.close(() => resolve()))
  })
  return (server.address() as AddressInfo).port
}

t.test('the browser consumer reads kafkajs zstd batches exactly', async (t) => {
  const broker = await startBroker(t)
  const c = await connect(broker.url)
  await c.call({ createTopics: { topics: [{ name: 'zstd', partitions: 1 }] } })
  const batches = fc.sample(genBatch(20, 300), { seed: 7, numRuns: 15 }).map((b) => ({ ...b, producerId: -1, producerEpoch: -1, baseSequence: -1, transactional: false }))
  const expected: Array<string | null> = []
  for (const [i, b] of batches.entries()) {
    const records = await kafkajsZstdBatch(b, 1 + i)
    const r = await c.call({ produce: { acks: -1, topics: [{ name: 'zstd', partitions: [{ index: 0, records }] }] } })
    t.equal(r.produce!.topics![0].partitions![0].error, null, `batch ${i} accepted`)
    for (const rec of b.records) expected.push(rec.value === null ? null : Buffer.from(rec.value).toString('hex'))
  }
  c.close()

  const port = await serve(t)
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'], timeout: 30_000 })
  t.teardown(() => browser.close())
  const page = await browser.newPage()
  await page.goto(`http://127.0.0.1:${port}/`, { timeout: 15_000 })
  const consumed = await page.evaluate(
    async ({ url, count }) => {
      const { createClient } = await import('/bitacora.js' as string)
      const client = createClient({ brokers: [url], clientId: 'zstd-page' })
      const consumer = await client.consumer({ autoOffsetReset: 'earliest', maxWaitMs: 200 })
      consumer.assign([{ topic: 'zstd', partition: 0 }])
      const hex = (b: Uint8Array | null) => (b === null ? null : Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(''))
      const out: Array<string | null> = []
      const deadline = Date.now() + 30_000
      for await (const r of consumer.records()) {
        out.push(hex(r.value))
        if (out.length >= count || Date.now() > deadline) break
      }
      consumer.close()
      await client.close()
      return out
    },
    { url: broker.url, count: expected.length },
  )
  t.equal(consumed.length, expected.length, 'every record came back in the page')
  t.same(consumed, expected, 'values match, in order')
})
