// A peer that stops reading (a real process, stopped with SIGSTOP: its connection stays open)
// costs its sender bounded memory: frames beyond the socket's unsent-byte limit are dropped
// and counted, not buffered. When the peer runs again, frames flow again on the same connection.
import t from 'tap'
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fetchMessage, recordsMessage, startPeerNode, TOPIC, waitFor } from '../broker/net/peer-node.js'

const CLUSTER = 'stalled-cluster'
const FIXTURE = new URL('./fixtures/peer-node.ts', import.meta.url).pathname

t.test('a stalled peer: bounded unsent bytes, frames dropped and counted, then flowing again', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, '2', CLUSTER], { stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  t.teardown(async () => {
    child.kill('SIGCONT')
    child.kill('SIGKILL')
    await exited
  })
  let url = ''
  let delivered = 0
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const m = JSON.parse(line) as { url?: string; delivered?: number }
    if (m.url !== undefined) url = m.url
    if (m.delivered !== undefined) delivered = m.delivered
  })
  await waitFor(() => url !== '', 'the peer process to listen', 30_000)

  const sendBufferBytesMax = 1024 * 1024
  const queuedBytesMax = 2 * 1024 * 1024
  const a = await startPeerNode({ nodeId: 1, clusterId: CLUSTER, peers: new Map([[2, url]]), peerLimits: { sendBufferBytesMax, queuedBytesMax } })
  t.teardown(() => a.stop())
  const link = () => a.transport.stats().links[0]
  a.transport.send(2, TOPIC, 0, fetchMessage(1, 2, 0))
  await waitFor(() => delivered === 1, 'the link to open')

  child.kill('SIGSTOP')
  let mostUnsent = 0
  let fetchId = 1
  // 2 MB a turn, 100 turns: 200 MB offered to a peer that reads nothing.
  for (let turn = 0; turn < 100; turn++) {
    for (let i = 0; i < 20; i++) a.transport.send(2, TOPIC, i, recordsMessage(1, 2, fetchId++, 100_000))
    await new Promise((resolve) => setTimeout(resolve, 5))
    mostUnsent = Math.max(mostUnsent, link().unsentBytes)
  }
  const stalled = link()
  t.ok(stalled.dropped.slowPeer > 1000, `frames were dropped while the peer was stalled (${stalled.dropped.slowPeer} of 2000)`)
  // What passes the check leaves in the same turn: at most the limit plus one turn's queue.
  t.ok(mostUnsent <= sendBufferBytesMax + queuedBytesMax, `unsent bytes stayed bounded (${mostUnsent})`)
  t.same(a.peerClosed, [], 'a stalled peer is not a closed connection')

  child.kill('SIGCONT')
  await waitFor(() => link().unsentBytes === 0, 'the backlog to drain')
  a.transport.send(2, TOPIC, 0, fetchMessage(1, 2, fetchId++))
  await waitFor(() => delivered === link().framesSent, 'every frame sent (not dropped) to arrive', 30_000)
  t.equal(link().dropped.slowPeer, stalled.dropped.slowPeer, 'no drops once the peer reads again')
  t.equal(link().connects, 1, 'on the same connection')
})
