// Issue 15, items 4 and 5: a client that cannot reach its broker says so, within the bound each
// call documents, naming the cause. Against a loopback port where nothing listens, send() fails
// within maxBlockMs, an admin call and a consumer's iteration within apiTimeoutMs, each with
// NO_BROKER_AVAILABLE (retriable) and the socket's own reason (ECONNREFUSED); a broker at its
// connection limit is reported with its HTTP 503 reason. And a producer whose leader's broker
// went away retries against fresh metadata (the broker is back on another port), so a flush
// completes instead of retrying the dead address until the delivery timeout.
import t from 'tap'
import { createServer, type AddressInfo } from 'node:net'
import { createClient, type ClientError } from '../../src/client/node.js'
import { connect, startBroker, tempDataDir } from './broker-process.js'

/** A loopback port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** How `work` rejected, and after how long (a call still waiting after `giveUpMs` fails the test). */
async function rejection(work: () => Promise<unknown>, giveUpMs = 15_000): Promise<{ err: ClientError; ms: number }> {
  const started = Date.now()
  let timer: NodeJS.Timeout | undefined
  const stuck = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`still waiting after ${giveUpMs} ms`)), giveUpMs)))
  try {
    await Promise.race([work(), stuck])
  } catch (err) {
    if ((err as Error).message.startsWith('still waiting')) throw err
    return { err: err as ClientError, ms: Date.now() - started }
  } finally {
    clearTimeout(timer)
  }
  throw new Error('expected a rejection, got a result')
}

const BOUND_MS = 2_000
/** Timers on a busy 2-core machine, and the connection attempt the bound cuts short. */
const SLACK_MS = 1_500

t.test('nothing listening: each call rejects within its bound, with NO_BROKER_AVAILABLE and the reason', async (t) => {
  const url = `ws://127.0.0.1:${await closedPort()}/`
  // Default retry and reconnect back-offs: the bounds alone must end the waits.
  const client = createClient({ brokers: [url], clientId: 'unreachable', apiTimeoutMs: BOUND_MS })
  t.teardown(() => client.close())

  const calls: Array<[string, string, () => Promise<unknown>]> = [
    ['producer.send', 'maxBlockMs', async () => (await client.producer({ maxBlockMs: BOUND_MS })).send({ topic: 't', value: 'v' })],
    ['admin.createTopics', 'apiTimeoutMs', () => client.admin().createTopics([{ topic: 't', partitions: 1 }])],
    ['consumer iteration (offset lookup)', 'apiTimeoutMs', async () => {
      const consumer = await client.consumer({ autoOffsetReset: 'earliest' })
      consumer.assign([{ topic: 't', partition: 0 }])
      for await (const r of consumer) return r
    }],
    ['consumer iteration (fetch)', 'apiTimeoutMs', async () => {
      const consumer = await client.consumer()
      consumer.assign([{ topic: 't', partition: 0 }])
      consumer.seek('t', 0, 0)
      for await (const r of consumer) return r
    }],
  ]
  await Promise.all(calls.map(async ([name, bound, call]) => {
    const outcome = await rejection(call).catch((err: Error) => err)
    if (outcome instanceof Error) {
      t.fail(`${name}: ${outcome.message}`)
      return
    }
    const { err, ms } = outcome
    t.comment(`${name}: ${ms} ms: ${err.code}: ${err.message}`)
    t.equal(err.code, 'NO_BROKER_AVAILABLE', `${name}: NO_BROKER_AVAILABLE`)
    t.equal(err.retriable, true, `${name}: retriable`)
    t.match(err.message, /ECONNREFUSED/, `${name}: the message names the cause`)
    t.match(err.message, bound, `${name}: the message names the bound (${bound})`)
    // It may give up early, when the next retry could not start before the bound.
    t.ok(ms < BOUND_MS + SLACK_MS, `${name}: rejected after ${ms} ms, within its ${BOUND_MS} ms bound`)
  }))
})

t.test('a broker at its connection limit: the error quotes its HTTP 503 reason', async (t) => {
  const broker = await startBroker(t, { args: ['--max-connections', '1'] })
  const holder = await connect(broker.url)
  t.teardown(() => holder.close())
  const client = createClient({ brokers: [broker.url], clientId: 'over-the-limit', apiTimeoutMs: BOUND_MS })
  t.teardown(() => client.close())
  const { err, ms } = await rejection(() => client.admin().describeTopics())
  t.comment(`${ms} ms: ${err.code}: ${err.message}`)
  t.equal(err.code, 'NO_BROKER_AVAILABLE')
  t.equal(err.retriable, true, 'retriable: a slot may free up')
  t.match(err.message, /HTTP 503: the broker has its maximum of 1 connections \(--max-connections\)/, 'the broker\'s reason, status and body')
  t.ok(ms < BOUND_MS + SLACK_MS, `within apiTimeoutMs (${ms} ms)`)
})

t.test('a flushing producer follows its leader to a new address instead of timing out', async (t) => {
  const dataDir = tempDataDir(t)
  const newPort = await closedPort()
  const before = await startBroker(t, { dataDir })
  // Both addresses are seeds: metadata will say where broker 0 is now.
  const client = createClient({ brokers: [before.url, `ws://127.0.0.1:${newPort}/`], clientId: 'moved' })
  t.teardown(() => client.close())
  await client.admin().createTopics([{ topic: 'moved', partitions: 1 }])
  const producer = await client.producer({ lingerMs: 0, deliveryTimeoutMs: 30_000, retry: { initialMs: 50, maxMs: 1_000 } })
  const first = await producer.send({ topic: 'moved', value: 'first' })

  await before.stop()
  // Staged at once (the cached metadata is fresh), then sent to the old address, which refuses.
  const acks = Array.from({ length: 20 }, (_, i) => producer.send({ topic: 'moved', value: `after ${i}` }))
  const after = await startBroker(t, { dataDir, args: ['--port', String(newPort)] })
  t.equal(after.url, `ws://127.0.0.1:${newPort}/`, 'the broker is back, on the other port')
  const started = Date.now()
  await producer.flush() // bounded by deliveryTimeoutMs
  const settled = await Promise.allSettled(acks)
  const failed = settled.filter((s) => s.status === 'rejected').map((s) => String((s as PromiseRejectedResult).reason))
  t.same(failed, [], `every record was acknowledged (flush took ${Date.now() - started} ms)`)
  const offsets = [first.offset, ...settled.map((s) => (s.status === 'fulfilled' ? s.value.offset : -1))]
  t.ok(offsets.every((o, i) => i === 0 || o > offsets[i - 1]), `at rising offsets, in send order: ${offsets.join(' ')}`)
})
