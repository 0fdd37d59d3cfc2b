// Connections that would hold a broker's slots: sockets that never speak, WebSockets that never
// handshake, idle sessions, one address opening many. Each is bounded by a named limit, and a
// refused client is told which.
import t from 'tap'
import { connect as tcpConnect, type Socket } from 'node:net'
import WebSocket from 'ws'
import { connect, startBroker } from './broker-process.js'

const portOf = (url: string) => Number(new URL(url).port)

function rawSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = tcpConnect(port, '127.0.0.1', () => resolve(s))
    s.once('error', reject)
  })
}

const closed = (s: Socket) => new Promise<void>((resolve) => (s.destroyed ? resolve() : s.once('close', () => resolve())))

/** Opens a WebSocket; resolves with how it ended: refused (status, body), or opened. */
function tryWebSocket(url: string): Promise<{ status: number; body: string } | { ws: WebSocket }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url)
    ws.once('unexpected-response', (_req, res) => {
      let body = ''
      res.on('data', (d: Buffer) => (body += d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      ws.on('error', () => undefined)
    })
    ws.once('open', () => resolve({ ws }))
    ws.once('error', reject)
  })
}

t.test('silent sockets fill the slots only until the handshake timeout; refused clients learn why', async (t) => {
  const broker = await startBroker(t, { args: ['--max-connections', '8', '--handshake-timeout-ms', '600', '--idle-timeout-ms', '60000'] })
  const port = portOf(broker.url)
  const silent = await Promise.all(Array.from({ length: 8 }, () => rawSocket(port)))
  t.teardown(() => silent.forEach((s) => s.destroy()))
  const refused = await tryWebSocket(broker.url)
  t.match(refused, { status: 503, body: /maximum of 8 connections \(--max-connections\)/ }, 'the 503 says which limit')

  await Promise.all(silent.map(closed))
  t.pass('the broker closed every socket that never spoke')
  const c = await connect(broker.url)
  t.ok((await c.call({ metadata: {} })).metadata, 'a real client gets in once they are gone')
  c.close()
  t.match(broker.stderr(), /connection refused/)
})

t.test('a WebSocket that never handshakes is closed with a reason; an idle session too, but not one with a parked fetch', async (t) => {
  const broker = await startBroker(t, { args: ['--handshake-timeout-ms', '500', '--idle-timeout-ms', '1500'] })
  const mute = await connect(broker.url, { handshake: false })
  const muteEnd = await mute.closed
  t.equal(muteEnd.code, 1008)
  t.match(muteEnd.reason, /no handshake within 500 ms \(--handshake-timeout-ms\)/)

  const idle = await connect(broker.url)
  const busy = await connect(broker.url)
  await busy.call({ createTopics: { topics: [{ name: 'quiet', partitions: 1 }] } })
  const end = (await busy.call({ listOffsets: { topics: [{ name: 'quiet', partitions: [{ index: 0, timestamp: -1 }] }] } })).listOffsets!.topics![0].partitions![0].offset!
  const started = Date.now()
  // A fetch parked for 3 s, twice the idle timeout: the connection is busy, not idle.
  const parked = busy.call({ fetch: { maxWaitMs: 3000, minBytes: 1, topics: [{ name: 'quiet', partitions: [{ index: 0, fetchOffset: end }] }] } })
  const idleEnd = await idle.closed
  t.equal(idleEnd.code, 1000)
  t.match(idleEnd.reason, /idle for 1500 ms \(--idle-timeout-ms\)/)
  const answer = await parked
  t.ok(Date.now() - started >= 2900, 'the parked fetch ran its course')
  t.equal(answer.fetch?.topics?.[0].partitions?.[0].error, null, 'and was answered, empty, on its open connection')
  busy.close()
})

t.test('one address is capped when loopback is not exempt; refusals are logged without flooding', async (t) => {
  const broker = await startBroker(t, { args: ['--max-connections-per-ip', '2', '--limit-loopback-connections'] })
  const a = await connect(broker.url)
  const b = await connect(broker.url)
  const refusals = await Promise.all(Array.from({ length: 30 }, () => tryWebSocket(broker.url)))
  for (const r of refusals) t.match(r, { status: 503, body: /127\.0\.0\.1 has its maximum of 2 connections \(--max-connections-per-ip\)/ })
  const logged = broker.stderr().split('\n').filter((l) => l.includes('"connection refused"'))
  t.equal(logged.length, 1, `30 refusals, one log line (then a count every 10 s): ${logged.length}`)
  a.close()
  await a.closed
  // The broker frees the slot when it sees the close, a moment after the client does.
  let again = await tryWebSocket(broker.url)
  for (const deadline = Date.now() + 5000; !('ws' in again) && Date.now() < deadline; ) again = await tryWebSocket(broker.url)
  t.ok('ws' in again, 'a slot freed by a closed connection is taken again')
  if ('ws' in again) again.ws.close()
  b.close()
})
