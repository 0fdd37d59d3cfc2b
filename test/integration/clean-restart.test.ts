// A real broker process restarted after SIGTERM opens its partitions from the clean-shutdown
// markers (no scan of the active segments: its "broker started" line says so), after SIGKILL it
// recovers them in full, and a marker put back by hand over a log written since is not believed.
// Every acknowledged record reads back after each restart.
import t from 'tap'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createClient } from '../../src/client/node.js'
import { CLEAN_SHUTDOWN_FILE } from '../../src/storage/clean-shutdown.js'
import { startBroker, tempDataDir, type BrokerProcess } from './broker-process.js'

t.setTimeout(240_000)
const TOPIC = 'restarts'
const PARTITIONS = 2
const PER_ROUND = 2_000

interface OpenedLogs {
  partitions: number
  cleanShutdown: number
  scannedBytes: number
  truncatedBytes: number
}

/** The logs field of the broker's "broker started" line. */
function openedLogs(broker: BrokerProcess): OpenedLogs {
  const line = broker.stderr().split('\n').find((l) => l.includes('"msg":"broker started"'))
  if (line === undefined) throw new Error(`no "broker started" line:\n${broker.stderr().slice(-2000)}`)
  return (JSON.parse(line) as { logs: OpenedLogs }).logs
}

async function produce(url: string, round: number): Promise<void> {
  const client = createClient({ brokers: [url], clientId: 'restart-producer' })
  const producer = await client.producer({ acks: 'all', lingerMs: 5 })
  await Promise.all(Array.from({ length: PER_ROUND }, (_, i) => producer.send({ topic: TOPIC, partition: i % PARTITIONS, key: null, value: `r${round}-${i}` })))
  await producer.close()
  await client.close()
}

/** Every value in the topic, sorted. */
async function consumeAll(url: string, expected: number): Promise<string[]> {
  const client = createClient({ brokers: [url], clientId: 'restart-consumer' })
  const consumer = await client.consumer({ autoOffsetReset: 'earliest', maxWaitMs: 200 })
  consumer.assign(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: TOPIC, partition })))
  const values: string[] = []
  for await (const r of consumer.records()) {
    if (r.value !== null) values.push(new TextDecoder().decode(r.value))
    if (values.length >= expected) break
  }
  consumer.close()
  await client.close()
  return values.sort()
}

const expectedValues = (rounds: number) => Array.from({ length: rounds }, (_, round) => Array.from({ length: PER_ROUND }, (_, i) => `r${round}-${i}`)).flat().sort()

t.test('clean restart, crash, and a marker put back over a newer log', async (t) => {
  const dataDir = tempDataDir(t)
  const first = await startBroker(t, { dataDir })
  const client = createClient({ brokers: [first.url], clientId: 'restart-admin' })
  const [created] = await client.admin().createTopics([{ topic: TOPIC, partitions: PARTITIONS }])
  await client.close()
  t.notOk(created.error)
  await produce(first.url, 0)
  await first.stop('SIGTERM')
  const partitionDirs = readdirSync(dataDir).filter((n) => n.startsWith(`${created.topicId}-`)).map((n) => join(dataDir, n))
  t.equal(partitionDirs.length, PARTITIONS)
  for (const dir of partitionDirs) t.ok(existsSync(join(dir, CLEAN_SHUTDOWN_FILE)), `${dir}: a clean-shutdown marker after SIGTERM`)
  const markers = partitionDirs.map((dir) => readFileSync(join(dir, CLEAN_SHUTDOWN_FILE)))

  const clean = await startBroker(t, { dataDir })
  const afterClean = openedLogs(clean)
  t.equal(afterClean.cleanShutdown, afterClean.partitions, `every data partition opened from its marker (${JSON.stringify(afterClean)})`)
  t.ok(afterClean.partitions >= PARTITIONS)
  t.equal(afterClean.scannedBytes, 0, 'no active segment scanned')
  for (const dir of partitionDirs) t.notOk(existsSync(join(dir, CLEAN_SHUTDOWN_FILE)), `${dir}: the marker is removed at start`)
  t.same(await consumeAll(clean.url, PER_ROUND), expectedValues(1), 'every record reads back after the clean restart')
  await produce(clean.url, 1)
  await clean.stop('SIGKILL')

  const crashed = await startBroker(t, { dataDir })
  const afterCrash = openedLogs(crashed)
  t.equal(afterCrash.cleanShutdown, 0, `a crash after a clean start is a crash: full recovery (${JSON.stringify(afterCrash)})`)
  t.ok(afterCrash.scannedBytes > 0, 'the active segments were scanned')
  t.same(await consumeAll(crashed.url, 2 * PER_ROUND), expectedValues(2), 'every acknowledged record reads back after SIGKILL')
  await produce(crashed.url, 2)
  await crashed.stop('SIGKILL')

  // The markers of the first stop, put back: they name active segments that have grown since.
  partitionDirs.forEach((dir, i) => writeFileSync(join(dir, CLEAN_SHUTDOWN_FILE), markers[i]))
  const stale = await startBroker(t, { dataDir })
  const afterStale = openedLogs(stale)
  t.equal(afterStale.cleanShutdown, 0, `stale markers are not believed (${JSON.stringify(afterStale)})`)
  t.ok(afterStale.scannedBytes > 0)
  t.same(await consumeAll(stale.url, 3 * PER_ROUND), expectedValues(3), 'every acknowledged record reads back')
  await stale.stop('SIGTERM')
})
