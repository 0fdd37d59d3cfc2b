// Consumer-group rebalance timings (issue 20's figures) against one real broker process on
// loopback. Run it under the process-test lock on a shared machine:
//   flock /tmp/bitacora-process-tests.lock npx tsx perf/groups-rebalance.ts [--rounds 10] [--session-ms 6000]
//
// A client consumer A is subscribed to a 6-partition topic and owns all six. Each round, a
// second member B (raw protocol, following KIP-848 as a client does: reports what it owns, acks
// revocations at once) joins:
//   join  B's first heartbeat -> A and B own three each (A from its callbacks, B from its answers)
//   dies  B stops heartbeating and closes its socket (a SIGKILLed process) -> A owns all six again
//         (bounded by B's session timeout, the coordinator's 500 ms expiry check and A's next heartbeat)
import { randomUUID } from 'node:crypto'
import WebSocket from 'ws'
import { NODE_FLAGS } from '../src/cli/node-flags.js'
import { createClient } from '../src/client/node.js'
import { decodeResponse, encodeRequest, type RequestProps, type Response } from '../src/protocol/index.js'
import { cleanupAll, installCleanupHandlers, removeDir, startChild, tempDir, waitFor } from './processes.js'

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}
const ROUNDS = arg('rounds', 10)
const SESSION_MS = arg('session-ms', 6_000)
const PARTITIONS = 6

async function rawConnection(url: string) {
  const ws = new WebSocket(url)
  await new Promise<void>((resolve, reject) => (ws.once('open', () => resolve()), ws.once('error', reject)))
  let next = 1
  const pending = new Map<number, (r: Response) => void>()
  ws.on('message', (d) => {
    const r = decodeResponse(d as Buffer, 1 << 30)
    pending.get(r.correlationId)?.(r)
    pending.delete(r.correlationId)
  })
  const call = (body: Omit<RequestProps, 'correlationId'>) =>
    new Promise<Response>((resolve) => {
      const correlationId = next++
      pending.set(correlationId, resolve)
      ws.send(encodeRequest({ correlationId, ...body }))
    })
  await call({ handshake: { protocolVersion: 1, clientId: 'perf-raw-member' } })
  return { call, close: () => ws.terminate() }
}

async function until(cond: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

async function main(): Promise<void> {
  installCleanupHandlers()
  const dataDir = tempDir('bitacora-groups-perf-')
  const broker = startChild(process.execPath, [...NODE_FLAGS, new URL('../dist/cli/main.js', import.meta.url).pathname, 'broker', '--port', '0', '--data-dir', dataDir])
  await waitFor(broker, 'broker', (o) => /listening on ws:\/\/\S+/.test(o))
  const url = /listening on (ws:\/\/\S+)/.exec(broker.output())![1]
  const client = createClient({ brokers: [url], clientId: 'perf-a' })
  const [created] = await client.admin().createTopics([{ topic: 'orders', partitions: PARTITIONS, replicationFactor: 1 }])
  if (created.error) throw created.error
  const ownedByA = new Set<number>()
  const consumer = await client.consumer()
  consumer.subscribe(['orders'], {
    groupId: 'perf', sessionTimeoutMs: SESSION_MS,
    onAssigned: (ps) => ps.forEach((p) => ownedByA.add(p.partition)),
    onRevoked: (ps) => ps.forEach((p) => ownedByA.delete(p.partition)),
  })
  await until(() => ownedByA.size === PARTITIONS, 'A to own all partitions')
  const joins: number[] = []
  const deaths: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    const raw = await rawConnection(url)
    const memberId = randomUUID()
    let epoch = 0
    let owned: number[] = []
    let alive = true
    const started = performance.now()
    // B heartbeats as a client does: at once after a change, else at the interval it is given.
    const beats = (async () => {
      while (alive) {
        const r = (await raw.call({ consumerGroupHeartbeat: {
          groupId: 'perf', memberId, memberEpoch: epoch, sessionTimeoutMs: SESSION_MS,
          subscription: epoch === 0 ? { topicNames: ['orders'] } : undefined, owned: { topics: [{ topic: 'orders', partitions: owned }] },
        } })).consumerGroupHeartbeat!
        if (r.error?.code) throw new Error(`B's heartbeat failed: ${r.error.message}`)
        epoch = r.memberEpoch!
        const next = r.assignment?.[0]?.partitions ?? []
        const changed = next.length !== owned.length || next.some((p, i) => p !== owned[i])
        owned = [...next]
        if (!changed) await new Promise((res) => setTimeout(res, r.heartbeatIntervalMs!))
      }
    })()
    await until(() => owned.length === 3 && ownedByA.size === 3, 'A and B to own three each')
    joins.push(performance.now() - started)
    alive = false
    raw.close() // B is gone: no leave, as a killed process
    const died = performance.now()
    void beats.catch(() => undefined) // a call in flight on the closed socket never answers: left behind
    await until(() => ownedByA.size === PARTITIONS, 'A to own all six again')
    deaths.push(performance.now() - died)
    console.log(`round ${round + 1}: join ${joins.at(-1)!.toFixed(0)} ms, death ${deaths.at(-1)!.toFixed(0)} ms`)
  }
  console.log(`join: median ${median(joins).toFixed(0)} ms (min ${Math.min(...joins).toFixed(0)}, max ${Math.max(...joins).toFixed(0)}) over ${ROUNDS}`)
  console.log(`death (session ${SESSION_MS} ms): median ${median(deaths).toFixed(0)} ms (min ${Math.min(...deaths).toFixed(0)}, max ${Math.max(...deaths).toFixed(0)}) over ${ROUNDS}`)
  await client.close()
  await broker.stop()
  removeDir(dataDir)
}

main()
  .catch((err: unknown) => {
    console.error(err)
    process.exitCode = 1
  })
  .finally(() => cleanupAll())
