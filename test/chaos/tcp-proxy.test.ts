// The chaos tool's proxy over real loopback sockets: an echo server behind it, a client in front.
// Pass forwards; a reset cut resets open and new connections; a silent cut forwards nothing and
// holds the sockets, and healing delivers what it held; delay holds each chunk; drop resets; a
// sender that keeps writing into a silent cut is paused, never buffered without bound.
import t, { type Test } from 'tap'
import { connect, createServer, type AddressInfo, type Socket } from 'node:net'
import { until } from '../integration/quorum-nodes.js'
import { PROXY_QUEUED_BYTES_MAX } from './limits.js'
import { TcpProxy } from './tcp-proxy.js'

/** An echo server counting what it received. */
async function echoServer(t: Test) {
  const received = { bytes: 0 }
  const server = createServer((s) => {
    s.on('error', () => {})
    s.on('data', (d) => {
      received.bytes += d.length
      s.write(d)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { port: (server.address() as AddressInfo).port, received }
}

async function setup(t: Test) {
  const echo = await echoServer(t)
  const proxy = await TcpProxy.start({ host: '127.0.0.1', port: echo.port })
  t.teardown(() => proxy.close())
  return { echo, proxy }
}

interface Client {
  readonly socket: Socket
  readonly got: { bytes: number; text: string; error: string | null; closed: boolean }
}

async function client(t: Test, port: number): Promise<Client> {
  const socket = connect({ host: '127.0.0.1', port })
  const got = { bytes: 0, text: '', error: null as string | null, closed: false }
  socket.on('data', (d) => {
    got.bytes += d.length
    if (got.text.length < 1000) got.text += d.toString()
  })
  socket.on('error', (err: NodeJS.ErrnoException) => (got.error = err.code ?? err.message))
  socket.on('close', () => (got.closed = true))
  t.teardown(() => void socket.destroy())
  // A reset proxy may reset the connection before or after the client saw it open.
  await new Promise<void>((resolve) => {
    socket.once('connect', resolve)
    socket.once('close', resolve)
  })
  return { socket, got }
}

t.test('pass forwards both ways', async (t) => {
  const { proxy } = await setup(t)
  const c = await client(t, proxy.port)
  c.socket.write('hello')
  await until('the echo', async () => c.got.text === 'hello')
  t.equal(proxy.stats.bytesForwarded, 10, 'five bytes each way')
})

t.test('a reset cut resets open connections and every new one until it passes again', async (t) => {
  const { proxy } = await setup(t)
  const c = await client(t, proxy.port)
  c.socket.write('a')
  await until('the echo', async () => c.got.text === 'a')
  proxy.cut('reset')
  await until('the open connection to be reset', async () => c.got.closed)
  t.equal(c.got.error, 'ECONNRESET')
  const refused = await client(t, proxy.port)
  await until('a new connection to be reset', async () => refused.got.closed)
  t.equal(refused.got.error, 'ECONNRESET')
  proxy.pass()
  const again = await client(t, proxy.port)
  again.socket.write('b')
  await until('the echo after passing again', async () => again.got.text === 'b')
})

t.test('a silent cut forwards nothing and holds the socket open; healing delivers what it held', async (t) => {
  const { echo, proxy } = await setup(t)
  const c = await client(t, proxy.port)
  proxy.cut('silent')
  c.socket.write('held')
  await until('the proxy to hold the bytes', async () => proxy.stats.bytesHeld === 4)
  t.equal(echo.received.bytes, 0, 'the server got nothing')
  const late = await client(t, proxy.port)
  late.socket.write('late')
  await until('the proxy to hold the new connection\'s bytes', async () => proxy.stats.bytesHeld === 8)
  t.equal(echo.received.bytes, 0, 'nor from a connection opened during the cut')
  t.notOk(c.got.closed || late.got.closed, 'both sockets still open')
  proxy.heal()
  await until('the held bytes to be echoed', async () => c.got.text === 'held' && late.got.text === 'late')
})

t.test('delay holds each chunk that long, in order', async (t) => {
  const { proxy } = await setup(t)
  const c = await client(t, proxy.port)
  proxy.delay(150)
  const started = Date.now()
  c.socket.write('one')
  c.socket.write('two')
  await until('the echo', async () => c.got.text === 'onetwo')
  t.ok(Date.now() - started >= 300, `a round trip crosses the delay twice (${Date.now() - started} ms)`)
  t.throws(() => proxy.delay(-1), /expected ms >= 0/)
})

t.test('drop resets a connection with the given probability per chunk', async (t) => {
  const { echo, proxy } = await setup(t)
  proxy.drop(1)
  const c = await client(t, proxy.port)
  c.socket.write('lost')
  await until('the connection to be reset', async () => c.got.closed)
  t.equal(c.got.error, 'ECONNRESET')
  t.equal(echo.received.bytes, 0, 'the chunk was not forwarded')
  proxy.drop(0)
  const kept = await client(t, proxy.port)
  kept.socket.write('kept')
  await until('the echo with no drop', async () => kept.got.text === 'kept')
  t.throws(() => proxy.drop(2), /a probability in \[0, 1\]/)
})

t.test('a sender writing into a silent cut is paused at the bound, not buffered without one', async (t) => {
  const { proxy } = await setup(t)
  const c = await client(t, proxy.port)
  proxy.cut('silent')
  const chunk = Buffer.alloc(64 << 10)
  const total = 4 * PROXY_QUEUED_BYTES_MAX
  for (let sent = 0; sent < total; sent += chunk.length) c.socket.write(chunk)
  await until('the proxy to reach its bound', async () => proxy.stats.bytesHeld >= PROXY_QUEUED_BYTES_MAX)
  // Data already inside the event loop's read may push one chunk past the bound, no more.
  t.ok(proxy.stats.bytesHeld < PROXY_QUEUED_BYTES_MAX + (1 << 20), `held ${proxy.stats.bytesHeld} bytes`)
  t.ok(c.socket.writableLength > 0, 'the rest waits in the sender (TCP back-pressure)')
  proxy.heal()
  await until('everything echoed once healed', async () => c.got.bytes === total, 30_000)
})
