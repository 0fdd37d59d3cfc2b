// `bitacora consume --group` against one real broker process, run as a user runs it: two runs of
// one group share the work — the second prints exactly what the first did not (it starts at the
// group's commits, which cover what the first printed, not what it fetched) — `groups describe`
// then shows lag 0; and the flags that make no sense for a group member are refused.
import t from 'tap'
import { createClient } from '../../src/client/node.js'
import { startBroker } from './broker-process.js'
import { failsWith, runCli } from './cli-process.js'

const RECORDS = 10
const FIRST_RUN = 4

t.test('consume --group', async (t) => {
  const broker = await startBroker(t, { args: ['--offsets-topic-partitions', '1'] })
  const cli = (...args: string[]) => runCli([...args, '--bootstrap-server', broker.url], { timeoutMs: 60_000 })
  const client = createClient({ brokers: [broker.url], clientId: 'cli-consume-group-test' })
  t.teardown(() => client.close())
  t.equal((await client.admin().createTopics([{ topic: 'events', partitions: 2, replicationFactor: 1 }]))[0].error, null)
  const producer = await client.producer({ acks: 'all' })
  t.teardown(() => producer.close())
  await Promise.all(Array.from({ length: RECORDS }, (_, i) => producer.send({ topic: 'events', partition: i % 2, value: `e${i}` })))

  const printed = (stdout: string) => stdout.trimEnd().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { partition: number; offset: number; value: string })
  // -c stops mid-answer: the rest of what was fetched is not printed, so it must not be committed.
  const first = await cli('consume', 'events', '--group', 'g1', '-o', 'beginning', '-c', String(FIRST_RUN), '-J', '--timeout-ms', '30000')
  t.equal(first.status, 0, first.stderr)
  t.match(first.stderr, new RegExp(`consumed ${FIRST_RUN} records from events as group g1`))
  const a = printed(first.stdout)
  t.equal(a.length, FIRST_RUN)
  const committed = new Map((await client.admin().fetchGroupOffsets('g1')).map((o) => [o.partition, o.offset]))
  for (const p of [0, 1]) {
    const mine = a.filter((r) => r.partition === p)
    if (mine.length > 0) t.equal(committed.get(p), Math.max(...mine.map((r) => r.offset)) + 1, `partition ${p}: committed just past the last printed record`)
  }

  const second = await cli('consume', 'events', '--group', 'g1', '-o', 'beginning', '-c', String(RECORDS - FIRST_RUN), '-J', '--timeout-ms', '30000')
  t.equal(second.status, 0, second.stderr)
  const b = printed(second.stdout)
  const values = [...a, ...b].map((r) => r.value).sort()
  t.same(values, Array.from({ length: RECORDS }, (_, i) => `e${i}`).sort(), 'the two runs printed every record once between them')

  const describe = await cli('groups', 'describe', 'g1', '--json')
  t.equal(describe.status, 0, describe.stderr)
  const lags = (JSON.parse(describe.stdout) as { offsets: Array<{ partition: number; lag: number }> }).offsets.sort((x, y) => x.partition - y.partition).map((o) => o.lag)
  t.same(lags, [0, 0], 'groups describe: lag 0 on both partitions')

  failsWith(t, await cli('consume', 'events', '--group', 'g1', '-p', '0'), 2, /--partition with --group: the group assigns the partitions/)
  failsWith(t, await cli('consume', 'events', '--group', 'g1', '-e'), 2, /--exit-at-end with --group/)
  failsWith(t, await cli('consume', 'events', '--group', 'g1', '-o', '5'), 2, /--offset 5 with --group: a group member starts at the group's committed offsets/)
  failsWith(t, await cli('consume', 'events', '--group', 'g1', '--from-time', '2026-01-01'), 2, /--from-time with --group/)
  failsWith(t, await cli('consume', 'events', '-o', 'stored'), 2, /--offset stored: .* give --group GROUP/)
  failsWith(t, await cli('consume', 'events', '--group', 'g'.repeat(256)), 2, /a group id is 1 to 255 characters/)
  failsWith(t, await cli('consume', 'nope', '--group', 'g1', '--timeout-ms', '1000'), 1, /nope/)
})
