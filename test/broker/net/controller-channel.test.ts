// The controller channel over real WebSockets between in-process brokers: a request reaches the
// controller the quorum names; NOT_CONTROLLER, a controller that dies or stops answering, and
// none known are retried at the next controller within the caller's deadline; past it the
// answer is REQUEST_TIMED_OUT, never a hang or a rejection. The requests here are `metadata`
// requests answered by test handlers: the channel is the same for every API.
import t, { type Test } from 'tap'
import type { ApiHandler } from '../../../src/broker/net/api-table.js'
import { ControllerChannel, localController } from '../../../src/broker/net/controller-channel.js'
import { ReadBufferPool } from '../../../src/broker/partition/read-buffers.js'
import { ErrorCode, errorName, wireError, type RequestApiName, type ResponseProps } from '../../../src/protocol/index.js'
import { freePort, startPeerNode, waitFor, type PeerNode } from './peer-node.js'

const CLUSTER = 'channel-cluster'

/** How a test node's `metadata` handler treats a request: answer it, refuse it as not the controller, or hold it unanswered. */
type Mode = 'answer' | 'notController' | 'hold'

interface ControllerNode {
  readonly node: PeerNode
  mode: Mode
  /** Requests the handler got, by the peer that sent them. */
  readonly got: Array<number | null>
}

async function controllerNode(t: Test, nodeId: number, port = 0): Promise<ControllerNode> {
  const c: { node?: PeerNode; mode: Mode; got: Array<number | null> } = { mode: 'answer', got: [] }
  const handler: ApiHandler = async (_r, scope) => {
    c.got.push(scope.peer)
    if (c.mode === 'notController') return { error: wireError(ErrorCode.NOT_CONTROLLER, `node ${nodeId} is not the active controller`) }
    if (c.mode === 'hold') await new Promise(() => {})
    return { metadata: { controllerId: nodeId } }
  }
  c.node = await startPeerNode({ nodeId, clusterId: CLUSTER, port, handlers: new Map<RequestApiName, ApiHandler>([['metadata', handler]]) })
  t.teardown(() => c.node!.stop())
  return c as ControllerNode
}

/** Node 1 with a channel to whichever node `controller.id` names. */
async function sender(t: Test, peers: readonly ControllerNode[], extra: ReadonlyMap<number, string> = new Map(), contacts?: readonly number[]) {
  const controller: { id: number | null } = { id: null }
  const own = await controllerNode(t, 1)
  own.node.transport.setPeers(new Map([...peers.map((p): [number, string] => [p.node.nodeId, p.node.url]), ...extra]))
  const apis = new Map<RequestApiName, ApiHandler>([['metadata', async (_r, scope) => ({ metadata: { controllerId: 1, clusterId: `local, peer ${scope.peer}` } })]])
  const channel = new ControllerChannel({
    self: 1, controllerId: () => controller.id, contacts: contacts && (() => contacts), peers: own.node.transport, local: localController(apis, 1, new ReadBufferPool()), log: own.node.log,
  })
  t.teardown(() => channel.close())
  return { controller, channel, own }
}

const answeredBy = (r: ResponseProps) => (r.error != null ? `${errorName(r.error.code ?? 0)}: ${r.error.message}` : r.metadata?.controllerId)

t.test('a request reaches the controller the quorum names, as a peer', async (t) => {
  const [two, three] = [await controllerNode(t, 2), await controllerNode(t, 3)]
  const { controller, channel } = await sender(t, [two, three])
  controller.id = 3
  t.equal(answeredBy(await channel.send('metadata', {}, 5_000)), 3)
  t.same(three.got, [1], 'node 3 saw the request from node 1')
  t.same(two.got, [])
  t.match(channel.stats(), { sends: 1, retries: 0, timedOut: 0 })
})

t.test('NOT_CONTROLLER is retried, after a back-off, at whichever controller is named then', async (t) => {
  const [two, three] = [await controllerNode(t, 2), await controllerNode(t, 3)]
  const { controller, channel } = await sender(t, [two, three])
  controller.id = 2
  two.mode = 'notController'
  // Node 1's view stays stale for a while: it keeps asking node 2, backing off.
  setTimeout(() => (controller.id = 3), 400)
  const started = Date.now()
  t.equal(answeredBy(await channel.send('metadata', {}, 5_000)), 3)
  t.ok(Date.now() - started < 2_000, 'soon after the view changed')
  t.ok(two.got.length >= 2 && two.got.length <= 6, `node 2 was asked a few times, backing off (${two.got.length})`)
  t.equal(channel.stats().retries, two.got.length)
})

t.test('a controller that dies with the request in flight: the request is answered by the next one within the deadline', async (t) => {
  const port = await freePort()
  const [two, three] = [await controllerNode(t, 2, port), await controllerNode(t, 3)]
  const { controller, channel } = await sender(t, [two, three])
  controller.id = 2
  two.mode = 'hold'
  const answer = channel.send('metadata', {}, 8_000)
  await waitFor(() => two.got.length === 1, 'the request at node 2')
  await two.node.stop() // its connections close: the request is lost with them
  setTimeout(() => (controller.id = 3), 300) // the quorum elects node 3 a little later
  t.equal(answeredBy(await answer), 3)
  t.same(three.got, [1])
})

t.test('a request backing off from an unreachable controller goes to a newly named one at once, not after its back-off', async (t) => {
  const port = await freePort()
  const three = await controllerNode(t, 3)
  const { controller, channel } = await sender(t, [three], new Map([[2, `ws://127.0.0.1:${port}/`]]))
  controller.id = 2
  const answer = channel.send('metadata', {}, 10_000)
  // Five failed tries back off 50 + 100 + 200 + 400 + 800 ms: the next pause is a whole second.
  await waitFor(() => channel.stats().retries >= 5, 'five retries at the unreachable node 2', 5_000)
  const namedAt = Date.now()
  controller.id = 3
  t.equal(answeredBy(await answer), 3)
  t.ok(Date.now() - namedAt < 600, `answered ${Date.now() - namedAt} ms after node 3 was named (the back-off was up to 1,000 ms)`)
})

t.test('a controller that stops answering but keeps its connection: the request moves to the next one named', async (t) => {
  const [two, three] = [await controllerNode(t, 2), await controllerNode(t, 3)]
  const { controller, channel } = await sender(t, [two, three])
  controller.id = 2
  two.mode = 'hold'
  const answer = channel.send('metadata', {}, 20_000)
  await waitFor(() => two.got.length === 1, 'the request at node 2')
  const movedAt = Date.now()
  controller.id = 3
  t.equal(answeredBy(await answer), 3)
  t.ok(Date.now() - movedAt < 1_000, 'within a few watch intervals, not the deadline')
})

t.test('no controller known: the channel waits for one, and answers REQUEST_TIMED_OUT at the deadline if none comes', async (t) => {
  const three = await controllerNode(t, 3)
  const { controller, channel } = await sender(t, [three])
  setTimeout(() => (controller.id = 3), 300)
  t.equal(answeredBy(await channel.send('metadata', {}, 5_000)), 3)
  controller.id = null
  const started = Date.now()
  const answer = await channel.send('metadata', {}, 600)
  const tookMs = Date.now() - started
  t.equal(errorName(answer.error?.code ?? 0), 'REQUEST_TIMED_OUT')
  t.match(answer.error?.message, /within 600 ms \(0 attempts; last: no active controller is known/)
  t.ok(tookMs >= 590 && tookMs < 1_500, `at the deadline (${tookMs} ms)`)
})

t.test('no controller known, with contacts: they are asked in turn (never this node) until one answers or a controller is named', async (t) => {
  const [two, three] = [await controllerNode(t, 2), await controllerNode(t, 3)]
  const { controller, channel } = await sender(t, [two, three], new Map(), [1, 2, 3])
  two.mode = 'notController'
  t.equal(answeredBy(await channel.send('metadata', {}, 5_000)), 3, 'node 2 refused, node 3 answered')
  t.same([two.got, three.got], [[1], [1]], 'each contact asked once, in turn')

  three.mode = 'notController'
  setTimeout(() => {
    controller.id = 2
    two.mode = 'answer'
  }, 300)
  t.equal(answeredBy(await channel.send('metadata', {}, 5_000)), 2, 'the contacts refuse until the quorum names node 2')
  t.ok(three.got.length >= 2, `node 3 was asked meanwhile (${three.got.length} times)`)
})

t.test('an unreachable controller: retried until the deadline, then REQUEST_TIMED_OUT naming the last failure', async (t) => {
  const port = await freePort()
  const { controller, channel } = await sender(t, [], new Map([[2, `ws://127.0.0.1:${port}/`]]))
  controller.id = 2
  const started = Date.now()
  const answer = await channel.send('metadata', {}, 1_000)
  const tookMs = Date.now() - started
  t.equal(errorName(answer.error?.code ?? 0), 'REQUEST_TIMED_OUT')
  t.match(answer.error?.message, /last: PEER_UNREACHABLE: node 2 at ws:\/\/127\.0\.0\.1:\d+\/ is unreachable/)
  t.match(answer.error?.message, /may or may not have been carried out/)
  t.ok(tookMs >= 990 && tookMs < 2_000, `at the deadline (${tookMs} ms)`)
  t.match(channel.stats(), { sends: 1, timedOut: 1 })
})

t.test('this node is the controller: the request runs through its own handler, as from a peer session of itself', async (t) => {
  const { controller, channel } = await sender(t, [])
  controller.id = 1
  const answer = await channel.send('metadata', {}, 1_000)
  t.same(answer.metadata, { controllerId: 1, clusterId: 'local, peer 1' })
})

t.test('other errors are the caller’s: passed on at once, not retried', async (t) => {
  const two = await controllerNode(t, 2)
  const { controller, channel } = await sender(t, [two])
  controller.id = 2
  const answer = await channel.send('addVoter', { nodeId: -1, url: 'ws://127.0.0.1:9/' }, 5_000) // refused as malformed
  t.equal(errorName(answer.error?.code ?? 0), 'INVALID_REQUEST')
  t.equal(channel.stats().retries, 0)
})

t.test('close answers waiting sends NETWORK_EXCEPTION at once, and later ones', async (t) => {
  const two = await controllerNode(t, 2)
  const { controller, channel } = await sender(t, [two])
  controller.id = 2
  two.mode = 'hold'
  const answer = channel.send('metadata', {}, 20_000)
  await waitFor(() => two.got.length === 1, 'the request at node 2')
  channel.close()
  t.equal(errorName((await answer).error?.code ?? 0), 'NETWORK_EXCEPTION')
  t.equal(errorName((await channel.send('metadata', {}, 1_000)).error?.code ?? 0), 'NETWORK_EXCEPTION')
  await t.rejects(channel.send('metadata', {}, 0), RangeError, 'a timeout below 1 ms is a caller bug')
})
