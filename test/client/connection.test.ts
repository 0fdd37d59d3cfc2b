// How a connection reports a socket that did not open, from what the transport's events say
// (test/integration/client-unreachable.test.ts and the browser test run the same paths against
// real brokers; the one a Node client cannot meet there, a 4xx refusal, is here). The socket
// is a stand-in at the transport boundary (WebSocketLike), failing the way ws and browsers do.
import t from 'tap'
import { Connection } from '../../src/client/connection.js'
import type { ClientError } from '../../src/client/errors.js'
import type { WebSocketLike } from '../../src/client/transport.js'

/** A socket that fails to open: an error event carrying `error` (ws) or nothing (browsers), then close 1006. */
function failingSocket(error: Error | undefined) {
  const socket: WebSocketLike & { closedWith?: string } = {
    readyState: 0,
    bufferedAmount: 0,
    send: () => undefined,
    close: () => void (socket.closedWith = 'close'),
    terminate: () => void (socket.closedWith = 'terminate'),
    onopen: null, onmessage: null, onerror: null, onclose: null,
  }
  setImmediate(() => {
    socket.onerror?.(error === undefined ? { type: 'error' } : { type: 'error', error, message: error.message })
    socket.onclose?.({ code: 1006, reason: '' })
  })
  return socket
}

async function openFailure(error: Error | undefined, firstContact: boolean) {
  const socket = failingSocket(error)
  const connection = new Connection({
    url: 'ws://127.0.0.1:9/', clientId: 't', clientSoftware: 't', webSocketFactory: () => socket, connectTimeoutMs: 5_000,
    requestTimeoutMs: 5_000, inFlightMax: 1, pendingMax: 1, responseBytesMax: 1 << 20, requestFrameBytesMax: 1 << 20, firstContact,
  })
  const err = await connection.connect().then(() => undefined, (e: ClientError) => e)
  return { err: err!, socket }
}

const refusal = (status: number, reason: string) => Object.assign(new Error(`HTTP ${status}: ${reason}`), { status })

t.test('an upgrade refused with 4xx is CONNECTION_REFUSED, final, with the broker\'s reason', async (t) => {
  const { err, socket } = await openFailure(refusal(403, 'Forbidden: origin http://x is not allowed (add it with --allow-origin)'), false)
  t.equal(err.code, 'CONNECTION_REFUSED')
  t.equal(err.retriable, false)
  t.match(err.message, 'ws://127.0.0.1:9/ refused the connection: HTTP 403: Forbidden: origin http://x is not allowed')
  t.equal(socket.closedWith, 'terminate', 'the socket was dropped at once')
  t.not(socket.onerror, null, 'an error handler stays on the closed socket')
})

t.test('an upgrade refused with 503 is a retriable CONNECTION_FAILED quoting the reason', async (t) => {
  const { err } = await openFailure(refusal(503, 'Service Unavailable: the broker has its maximum of 1 connections'), true)
  t.equal(err.code, 'CONNECTION_FAILED')
  t.equal(err.retriable, true)
  t.match(err.message, 'HTTP 503: Service Unavailable: the broker has its maximum of 1 connections')
})

t.test('a failure with a reason names it (ECONNREFUSED), retriable, first contact or not', async (t) => {
  const { err } = await openFailure(new Error('connect ECONNREFUSED 127.0.0.1:9'), true)
  t.equal(err.code, 'CONNECTION_FAILED')
  t.equal(err.retriable, true)
  t.match(err.message, 'cannot connect to ws://127.0.0.1:9/: connect ECONNREFUSED 127.0.0.1:9')
})

t.test('a failure with no reason (a browser\'s) is final at first contact, retriable after', async (t) => {
  const first = (await openFailure(undefined, true)).err
  t.equal(first.code, 'CONNECTION_REFUSED')
  t.equal(first.retriable, false)
  t.match(first.message, /no broker listens there, or it refused this page's origin \(allow it with --allow-origin\)/)
  const later = (await openFailure(undefined, false)).err
  t.equal(later.code, 'CONNECTION_FAILED')
  t.equal(later.retriable, true)
})
