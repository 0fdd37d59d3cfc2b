// Consumer-group throughput (issue 20's figure): a 3-member group, each member its own process,
// reading 3 M 100-byte records from one real broker process on loopback. Run it under the
// process-test lock on a shared machine, after `npm run build`:
//   flock /tmp/bitacora-process-tests.lock npx tsx perf/groups-throughput.ts [--records 3000000] [--runs 3] [--members 3] [--partitions 6]
//
// The records are produced once (acks=1, before anything is timed); each run is a new group on
// the same topic, read from the earliest offset. A run's members subscribe first and report
// their assignment; once the group is stable (every partition owned, by members owning as many
// as the uniform assignor gives them), each gets the log end offsets and starts reading
// (`batches()`, each record's value length summed, auto-commit on as by default) and reports the
// moment its partitions are all read. Throughput: records / (the last member done - go). CPU
// µs per record: the broker's from /proc/PID/stat over the run, the members' from their own
// process.cpuUsage() over their reading.
import { createInterface } from 'node:readline'
import { NODE_FLAGS } from '../src/cli/node-flags.js'
import { createClient } from '../src/client/node.js'
import { cpuSeconds } from './proc-stats.js'
import { cleanupAll, installCleanupHandlers, removeDir, startChild, tempDir, waitFor, type Child } from './processes.js'

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}
const TOPIC = 'bulk'
const RECORD_BYTES = 100
const wallMs = () => performance.timeOrigin + performance.now()
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

/** A member process: subscribes, prints its assignment, reads once told the log ends, prints when done. */
async function member(url: string, groupId: string): Promise<void> {
  const print = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`)
  const client = createClient({ brokers: [url], clientId: `perf-${groupId}` })
  const consumer = await client.consumer({ autoOffsetReset: 'earliest' })
  const owned = new Set<number>()
  consumer.subscribe([TOPIC], {
    groupId, sessionTimeoutMs: 30_000,
    onAssigned: (ps) => {
      for (const p of ps) owned.add(p.partition)
      print({ owned: [...owned] })
    },
    onRevoked: (ps) => {
      for (const p of ps) owned.delete(p.partition)
      print({ owned: [...owned] })
    },
  })
  const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]()
  const ends = JSON.parse((await lines.next()).value as string) as Record<number, number>
  const cpu = process.cpuUsage()
  let records = 0
  let bytes = 0
  const done = () => [...owned].every((p) => (consumer.position(TOPIC, p) ?? 0) >= ends[p])
  if (!done()) {
    for await (const batch of consumer.batches()) {
      records += batch.count
      for (let i = 0; i < batch.count; i++) bytes += batch.valueLength(i)
      if (done()) break
    }
  }
  const used = process.cpuUsage(cpu)
  print({ done: wallMs(), records, bytes, cpuUs: used.user + used.system })
  await client.close()
  process.exit(0)
}

async function produce(url: string, records: number, partitions: number): Promise<void> {
  const client = createClient({ brokers: [url], clientId: 'perf-groups-producer' })
  const [created] = await client.admin().createTopics([{ topic: TOPIC, partitions, replicationFactor: 1 }])
  if (created.error) throw created.error
  const producer = await client.producer({ acks: 1, lingerMs: 5 })
  const value = new Uint8Array(RECORD_BYTES).map((_, i) => 32 + (i % 90))
  let failed: Error | null = null
  for (let i = 0; i < records; i++) {
    producer.send({ topic: TOPIC, partition: i % partitions, value }, (err) => (failed ??= err))
    if (i % 100_000 === 99_999) await producer.flush()
  }
  await producer.flush()
  if (failed) throw failed
  await client.close()
}

async function run(url: string, brokerPid: number, groupId: string, members: number, partitions: number, records: number) {
  const children: Array<{ child: Child; owned: number[]; done?: { done: number; records: number; bytes: number; cpuUs: number } }> = []
  for (let m = 0; m < members; m++) {
    const entry: (typeof children)[number] = {
      owned: [],
      child: startChild(process.execPath, [...NODE_FLAGS, '--import', 'tsx', new URL(import.meta.url).pathname, '--member', url, groupId], {
        stdio: ['pipe', 'pipe', 'pipe'],
        echo: (line) => {
          if (!line.startsWith('{')) return
          const o = JSON.parse(line)
          if (o.owned) entry.owned = o.owned
          if (o.done) entry.done = o
        },
      }),
    }
    children.push(entry)
  }
  const share = Math.floor(partitions / members)
  const stable = () => children.every((c) => c.owned.length >= share && c.owned.length <= share + 1) && new Set(children.flatMap((c) => c.owned)).size === partitions
  for (const c of children) await waitFor(c.child, 'a member', () => stable(), 60_000)
  const client = createClient({ brokers: [url], clientId: 'perf-groups-ends' })
  const ends = Object.fromEntries((await client.admin().listOffsets(TOPIC, 'latest')).map((o) => [o.partition, o.offset]))
  await client.close()
  const brokerCpu = cpuSeconds(brokerPid)
  const go = wallMs()
  for (const c of children) c.child.process.stdin!.write(`${JSON.stringify(ends)}\n`)
  for (const c of children) await waitFor(c.child, 'a member', () => c.done !== undefined, 600_000)
  const brokerCpuS = cpuSeconds(brokerPid) - brokerCpu
  const seconds = (Math.max(...children.map((c) => c.done!.done)) - go) / 1000
  const read = children.reduce((s, c) => s + c.done!.records, 0)
  if (read !== records) throw new Error(`the group read ${read} records, not ${records}`)
  for (const c of children) await c.child.exited
  return {
    rate: records / seconds, seconds,
    brokerUsPerRecord: (brokerCpuS * 1e6) / records,
    memberUsPerRecord: children.map((c) => c.done!.cpuUs / c.done!.records),
    perMember: children.map((c) => c.done!.records),
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === '--member') return member(process.argv[3], process.argv[4])
  const RECORDS = arg('records', 3_000_000)
  const RUNS = arg('runs', 3)
  const MEMBERS = arg('members', 3)
  const PARTITIONS = arg('partitions', 6)
  installCleanupHandlers()
  const dataDir = tempDir('bitacora-groups-throughput-')
  const broker = startChild(process.execPath, [...NODE_FLAGS, new URL('../dist/cli/main.js', import.meta.url).pathname, 'broker', '--port', '0', '--data-dir', dataDir])
  await waitFor(broker, 'broker', (o) => /listening on ws:\/\/\S+/.test(o))
  const url = /listening on (ws:\/\/\S+)/.exec(broker.output())![1]
  const producedAt = performance.now()
  await produce(url, RECORDS, PARTITIONS)
  console.log(`produced ${RECORDS} records of ${RECORD_BYTES} B to ${PARTITIONS} partitions in ${((performance.now() - producedAt) / 1000).toFixed(1)} s`)
  const rates: number[] = []
  for (let r = 0; r < RUNS; r++) {
    const res = await run(url, broker.process.pid!, `throughput-${r}`, MEMBERS, PARTITIONS, RECORDS)
    rates.push(res.rate)
    console.log(`run ${r + 1}: ${Math.round(res.rate).toLocaleString('en')} records/s (${res.seconds.toFixed(2)} s; records per member ${res.perMember.join(' / ')}); ` +
      `CPU µs/record: broker ${res.brokerUsPerRecord.toFixed(2)}, members ${res.memberUsPerRecord.map((u) => u.toFixed(2)).join(' / ')}`)
  }
  console.log(`${MEMBERS}-member group, ${RECORDS} records: median ${Math.round(median(rates)).toLocaleString('en')} records/s (min ${Math.round(Math.min(...rates)).toLocaleString('en')}, max ${Math.round(Math.max(...rates)).toLocaleString('en')}) over ${RUNS} runs`)
  await broker.stop()
  removeDir(dataDir)
}

main()
  .catch((err: unknown) => {
    console.error(err)
    process.exitCode = 1
  })
  .finally(() => (process.argv[2] === '--member' ? undefined : cleanupAll()))
