// Peer link benchmark: Raft messages between two in-process brokers (real listeners, sessions
// and peer transports: test/broker/net/peer-node.ts), both in this process, so the CPU figures
// cover the sending and the receiving side together.
//
//   paced        every 100 ms, 1,000 idle partitions each send one fetch (1 -> 2) and get one
//                empty fetch response (2 -> 1): 10,000 messages/s each way, as one tick loop
//                per broker sends them, all in one turn
//   saturated    1,000 fetches a turn, 1 -> 2, as fast as they are delivered
//   uncoalesced  the same, one fetch a turn: what each message would cost in its own frame
//
//   npx tsx perf/peer-link.ts [--seconds 10]
import { startPeerNode, TOPIC, waitFor, type PeerNode } from '../test/broker/net/peer-node.js'
import type { Message } from '../src/raft/types.js'

const args = new Map<string, string>()
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1])
const SECONDS = Number(args.get('seconds') ?? 10)
const PARTITIONS = 1000
const CLUSTER = 'bench'

const fetch = (p: number, id: number): Message => ({
  type: 'fetch', from: 1, to: 2, epoch: 7, fetchId: id, fetchOffset: 123_456 + p, lastFetchedEpoch: 7, flushedOffset: 123_456 + p, maxBytes: 1 << 20,
})
const idleAnswer = (p: number, id: number): Message => ({
  type: 'fetchResponse', from: 2, to: 1, epoch: 7, fetchId: id, fetchOffset: 123_456 + p, kind: 'records', highWatermark: 123_456 + p, records: null,
})

interface Figures {
  mode: string
  messages: number
  wsMessages: number
  seconds: number
  cpuMs: number
}

async function measure(mode: string, a: PeerNode, b: PeerNode, run: (until: number) => Promise<void>): Promise<Figures> {
  const delivered = () => a.delivered.length + b.delivered.length
  const ws = () => a.raftRequests() + b.raftRequests()
  const [m0, w0] = [delivered(), ws()]
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  await run(t0 + SECONDS * 1000)
  const cpu = process.cpuUsage(cpu0)
  const seconds = (performance.now() - t0) / 1000
  // Keep memory flat across modes: the routers' logs are the benchmark's, not the transport's.
  const figures = { mode, messages: delivered() - m0, wsMessages: ws() - w0, seconds, cpuMs: (cpu.user + cpu.system) / 1000 }
  a.delivered.length = 0
  b.delivered.length = 0
  return figures
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve))

async function main(): Promise<void> {
  const b = await startPeerNode({ nodeId: 2, clusterId: CLUSTER })
  const a = await startPeerNode({ nodeId: 1, clusterId: CLUSTER, peers: new Map([[2, b.url]]) })
  b.transport.setPeers(new Map([[1, a.url]]))
  a.transport.send(2, TOPIC, 0, fetch(0, 0))
  b.transport.send(1, TOPIC, 0, idleAnswer(0, 0))
  await waitFor(() => a.delivered.length === 1 && b.delivered.length === 1, 'both links open')
  const results: Figures[] = []
  let id = 1

  results.push(await measure('paced (10,000/s each way)', a, b, async (until) => {
    while (performance.now() < until) {
      const tick = performance.now()
      for (let p = 0; p < PARTITIONS; p++) a.transport.send(2, TOPIC, p, fetch(p, id))
      for (let p = 0; p < PARTITIONS; p++) b.transport.send(1, TOPIC, p, idleAnswer(p, id))
      id++
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 100 - (performance.now() - tick))))
    }
  }))

  for (const [mode, perTurn] of [['saturated (1,000 a turn)', PARTITIONS], ['uncoalesced (1 a turn)', 1]] as const) {
    results.push(await measure(mode, a, b, async (until) => {
      let sent = 0
      while (performance.now() < until) {
        for (let p = 0; p < perTurn; p++) a.transport.send(2, TOPIC, p, fetch(p, id++))
        sent += perTurn
        // At most 20 turns in flight, so the benchmark measures delivery, not the drop counters.
        while (sent - b.delivered.length > 20 * perTurn) await turn()
        await turn()
      }
      await waitFor(() => b.delivered.length === sent, 'the last messages', 30_000)
    }))
  }

  const dropped = [a, b].flatMap((n) => n.transport.stats().links).reduce((n, l) => n + Object.values(l.dropped).reduce((x, y) => x + y, 0), 0)
  await a.stop()
  await b.stop()
  console.log(`Peer links between two in-process brokers, ${SECONDS} s per mode (CPU: this process, both sides)\n`)
  console.log('| mode | messages/s | frames per WebSocket message | CPU % of one core | CPU µs per message |')
  console.log('|---|---:|---:|---:|---:|')
  for (const r of results) {
    const rate = r.messages / r.seconds
    console.log(`| ${r.mode} | ${Math.round(rate).toLocaleString('en')} | ${(r.messages / r.wsMessages).toFixed(1)} | ${((r.cpuMs / 10) / r.seconds).toFixed(1)} | ${((r.cpuMs * 1000) / r.messages).toFixed(2)} |`)
  }
  console.log(`\nframes dropped: ${dropped}`)
}

await main()
