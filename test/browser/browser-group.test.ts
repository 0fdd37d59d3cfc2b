// A consumer group with a member in a real browser (issue 20): headless Chromium (Debian's
// chromium, as browser-client.test.ts) opens test/browser/group-page.html, whose consumer joins
// the same group as a Node consumer in this process, against a real broker process. They share
// a 4-partition topic: each owns two, no partition is ever owned by two at once (replayed from
// both members' own callbacks, timestamped), every record is read once. Then the page is
// "put in the background": its main-thread timers are made to wait at least a minute, as
// Chrome does to a tab hidden for five minutes. The browser member keeps its partitions for
// two sessions and more, heartbeating from its Worker (the page counts the Worker's ticks),
// and keeps reading. Then the page is closed without leaving: its partitions go to the Node
// member once the coordinator has missed it for a session, and the Node member reads on from
// the browser's commit, so still no record is read twice.
import t, { type Test } from 'tap'
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { chromium, type Page } from 'playwright-core'
import { createClient, type ConsumerRecord } from '../../src/client/node.js'
import { startBroker } from '../integration/broker-process.js'
import { OwnershipLog, waitFor, wallClockMs, type OwnershipEvent } from '../integration/group-ownership.js'

t.setTimeout(120_000)

const ROOT = new URL('../../', import.meta.url).pathname
const BUNDLE = join(ROOT, 'dist/browser/bitacora.js')
const PAGE = new URL('./group-page.html', import.meta.url).pathname
const CHROMIUM = '/usr/bin/chromium'
const PARTITIONS = 4
const SESSION_MS = 6_000
/** The heartbeat interval the coordinator gives a member of SESSION_MS (a third of it). */
const HEARTBEAT_MS = SESSION_MS / 3
/** Worker ticks to wait for once the page is throttled: past two whole sessions. */
const THROTTLED_TICKS = 8
/** A closed page's partitions move within its session, the coordinator's expiry check (0.5 s) and the Node member's next heartbeat; plus slack for a loaded machine. */
const HANDOVER_MS_MAX = SESSION_MS + HEARTBEAT_MS + 500 + 3_000

if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run \`bash scripts/setup-system.sh browser\``)
if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run \`npm run build\` first`)
const stale = ['src/client', 'src/codec', 'src/protocol'].flatMap((d) => listFiles(join(ROOT, d))).find((f) => f.endsWith('.ts') && statSync(f).mtimeMs > statSync(BUNDLE).mtimeMs)
if (stale !== undefined) throw new Error(`${stale} is newer than ${BUNDLE}: run \`npm run build\` first`)

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name)) : [join(dir, e.name)]))
}

interface PageState {
  events: Omit<OwnershipEvent, 'member'>[]
  read: Array<{ partition: number; offset: number }>
  errors: string[]
}
type PageWindow = { groupTest: { join(spec: object): Promise<void>; commit(): Promise<void>; state(): PageState }; throttle(): void; workerTicks: number; workersStarted: number }

async function servePage(t: Test): Promise<string> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    if (path === '/favicon.ico') return void res.writeHead(204).end()
    const file = path === '/' ? PAGE : path === '/bitacora.js' ? BUNDLE : null
    if (file === null) return void res.writeHead(404).end()
    res.writeHead(200, { 'content-type': file === PAGE ? 'text/html; charset=utf-8' : 'text/javascript; charset=utf-8' }).end(readFileSync(file))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    server.closeAllConnections()
    return new Promise<void>((resolve) => server.close(() => resolve()))
  })
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
}

t.test('a browser member and a Node member share a topic; the browser heartbeats from a Worker; its closed page hands over', async (t) => {
  const broker = await startBroker(t)
  const pageUrl = await servePage(t)
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    timeout: 30_000,
  })
  t.teardown(() => browser.close())

  const client = createClient({ brokers: [broker.url], clientId: 'node-side' })
  t.teardown(() => client.close())
  const [created] = await client.admin().createTopics([{ topic: 'shared', partitions: PARTITIONS, replicationFactor: 1 }])
  t.equal(created.error, null)
  const producer = await client.producer({ acks: 'all' })
  let produced = 0
  const produce = async (n: number) => {
    await Promise.all(Array.from({ length: n }, (_, i) => producer.send({ topic: 'shared', partition: (produced + i) % PARTITIONS, value: `r${produced + i}` })))
    produced += n
  }

  // The Node member.
  const log = new OwnershipLog()
  const readBy = new Map<string, string[]>() // `${partition}:${offset}` -> members that read it
  const violations: string[] = []
  const read = (member: string, partition: number, offset: number) => {
    const k = `${partition}:${offset}`
    readBy.set(k, [...(readBy.get(k) ?? []), member])
  }
  const consumer = await client.consumer({ autoOffsetReset: 'earliest', maxWaitMs: 200 })
  consumer.subscribe(['shared'], {
    groupId: 'mixed', clientId: 'node', sessionTimeoutMs: SESSION_MS, autoCommitIntervalMs: 200,
    onAssigned: (ps) => log.add({ member: 'node', kind: 'assigned', partitions: ps.map((p) => p.partition), at: wallClockMs() }),
    onRevoked: (ps) => log.add({ member: 'node', kind: 'revoked', partitions: ps.map((p) => p.partition), at: wallClockMs() }),
  })
  void (async () => {
    for await (const r of consumer.records() as AsyncGenerator<ConsumerRecord>) {
      if (!log.owned('node').includes(r.partition)) violations.push(`node read shared-${r.partition}@${r.offset} it does not own`)
      read('node', r.partition, r.offset)
    }
  })().catch((err: unknown) => violations.push(`the Node iterator failed: ${(err as Error).message}`))
  await waitFor('the Node member to own all four', () => log.owned('node').length === PARTITIONS)
  await produce(100)
  await waitFor('the first 100 records read', () => readBy.size === 100)

  // The browser member.
  const context = await browser.newContext()
  const page: Page = await context.newPage()
  const pageLog: string[] = []
  page.on('console', (m) => pageLog.push(`console.${m.type()}: ${m.text()}`))
  page.on('pageerror', (e) => pageLog.push(`pageerror: ${e.message}`))
  t.teardown(() => void (pageLog.length > 0 && t.comment(`the page said:\n${pageLog.join('\n')}`)))
  await page.goto(pageUrl)
  await page.waitForFunction(() => 'groupTest' in window, undefined, { timeout: 15_000 })
  await page.evaluate((spec) => (window as unknown as PageWindow).groupTest.join(spec), { brokerUrl: broker.url, topic: 'shared', groupId: 'mixed', sessionTimeoutMs: SESSION_MS })
  let browserReads = 0
  let browserErrors = 0
  /** Takes in what the page has done since last asked (ownership events, reads). */
  const syncPage = async () => {
    const s = await page.evaluate(() => (window as unknown as PageWindow).groupTest.state())
    log.sync('browser', s.events)
    for (const r of s.read.slice(browserReads)) {
      if (!log.owned('browser').includes(r.partition)) violations.push(`browser read shared-${r.partition}@${r.offset} it does not own`)
      read('browser', r.partition, r.offset)
    }
    browserReads = s.read.length
    violations.push(...s.errors.slice(browserErrors).map((e) => `the browser's iterator failed: ${e}`))
    browserErrors = s.errors.length
    return s
  }
  await waitFor('two partitions each', async () => (await syncPage(), log.owned('node').length === 2 && log.owned('browser').length === 2))
  await produce(100)
  await waitFor('200 records read', async () => (await syncPage(), readBy.size === 200))
  t.ok(browserReads > 0, `the browser member read records (${browserReads})`)
  const stableBrowser = log.owned('browser')

  // Into the background: the page's timers wait a minute from now on.
  const worker = () => page.evaluate(() => ({ ticks: (window as unknown as PageWindow).workerTicks, started: (window as unknown as PageWindow).workersStarted }))
  t.equal((await worker()).started, 1, 'the browser member started one heartbeat Worker')
  await page.evaluate(() => (window as unknown as PageWindow).throttle())
  const throttledAt = wallClockMs()
  const ticksBefore = (await worker()).ticks
  await produce(100)
  await waitFor(`${THROTTLED_TICKS} more Worker ticks (over two sessions)`, async () => (await syncPage(), (await worker()).ticks >= ticksBefore + THROTTLED_TICKS), 60_000)
  await waitFor('300 records read, the throttled page reading its partitions', async () => (await syncPage(), readBy.size === 300))
  t.ok(wallClockMs() - throttledAt > 2 * SESSION_MS, 'over two sessions went by with the page throttled')
  t.same(log.after('browser', throttledAt), [], 'the throttled browser member lost no partition')
  t.same(log.after('node', throttledAt), [], 'and the Node member was given none of them')
  t.same(log.owned('browser'), stableBrowser)

  // The page closes without leaving: its partitions move once its session runs out.
  await page.evaluate(() => (window as unknown as PageWindow).groupTest.commit())
  await syncPage()
  await page.close()
  const closedAt = wallClockMs()
  log.add({ member: 'browser', kind: 'revoked', partitions: log.owned('browser'), at: closedAt }) // a closed page owns nothing
  await waitFor('the Node member to own all four again', () => log.owned('node').length === PARTITIONS, 30_000)
  const handoverMs = wallClockMs() - closedAt
  t.ok(handoverMs <= HANDOVER_MS_MAX, `the closed page's partitions moved in ${handoverMs.toFixed(0)} ms (session ${SESSION_MS} ms; at most ${HANDOVER_MS_MAX})`)
  t.comment(`handover after the page closed: ${handoverMs.toFixed(0)} ms`)
  await produce(100)
  await waitFor('all 400 records read', () => readBy.size === 400)

  const twice = [...readBy].filter(([, members]) => members.length > 1).map(([k, members]) => `${k} by ${members.join(', ')}`)
  t.same(twice, [], 'no record read twice (the browser committed before its page closed)')
  t.same([...log.replay().violations, ...violations], [], 'no partition owned by two members at once; each read only what it owned')
  await consumer.close()
  await producer.close()
})
