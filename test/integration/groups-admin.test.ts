// `bitacora groups list|describe|delete|reset-offsets` against one real broker process, run as a
// user runs them (the built CLI as a child process): every reset mode, dry run then execute, the
// printed plan checked against the partitions' offsets, and the offsets read back by a consumer
// in the group; describe's lag after producing more; each bad input; and the broker's side (the
// internal topic refused at produce, an unset leader epoch, the offsets topic's partition count).
import t, { type Test } from 'tap'
import { createClient, type Client, type ConsumerRecord } from '../../src/client/node.js'
import { ErrorCode } from '../../src/protocol/index.js'
import { connect, startBroker } from './broker-process.js'
import { failsWith, runCli, type CliRun } from './cli-process.js'

const WAIT_MS = 30_000
const PARTITIONS = 3
const OFFSETS_TOPIC_PARTITIONS = 5
const HOUR_MS = 3_600_000

async function waitFor<T>(what: string, get: () => Promise<T> | T, ok: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + WAIT_MS
  for (;;) {
    const v = await get()
    if (ok(v)) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** A text table's rows (header dropped), split on runs of spaces. */
const rows = (r: CliRun) => r.stdout.trimEnd().split('\n').slice(1).map((l) => l.trim().split(/ {2,}/))

t.test('groups', async (t) => {
  const broker = await startBroker(t, { args: ['--offsets-topic-partitions', String(OFFSETS_TOPIC_PARTITIONS)] })
  const cli = (...args: string[]) => runCli([...args, '--bootstrap-server', broker.url])
  const client = createClient({ brokers: [broker.url], clientId: 'groups-admin-test' })
  t.teardown(() => client.close())
  const admin = client.admin()
  t.equal((await admin.createTopics([{ topic: 'orders', partitions: PARTITIONS, replicationFactor: 1 }]))[0].error, null)
  const producer = await client.producer({ acks: 'all' })
  t.teardown(() => producer.close())

  // Per partition: 4 records stamped three hours ago, then 4 stamped an hour ahead (the log's first
  // batch, the leader's LeaderChange, is stamped at its creation, before `now`: a time between now
  // and an hour ahead finds the second four); their offsets as the broker gave them.
  const sent = async (timestamp: number) => {
    const metas = await Promise.all(Array.from({ length: 4 * PARTITIONS }, (_, i) => producer.send({ topic: 'orders', partition: i % PARTITIONS, value: `v${i}`, timestamp })))
    return Array.from({ length: PARTITIONS }, (_, p) => Math.min(...metas.filter((m) => m.partition === p).map((m) => m.offset)))
  }
  const oldStart = await sent(Date.now() - 3 * HOUR_MS)
  const now = Date.now() // after the first records were acknowledged: after each partition's LeaderChange
  const newStart = await sent(now + HOUR_MS)
  const ends = async () => (await admin.listOffsets('orders', 'latest')).map((a) => a.offset)
  const starts = async () => (await admin.listOffsets('orders', 'earliest')).map((a) => a.offset)
  const committed = async (group: string) => new Map((await admin.fetchGroupOffsets(group)).map((o) => [o.partition, o.offset]))

  /** The plan the command printed, partition -> new offset, for group `group` on orders. */
  const plan = (r: CliRun, group: string) => {
    t.equal(r.stdout.split('\n')[0].trim().split(/ {2,}/).join(' '), 'GROUP TOPIC PARTITION NEW-OFFSET', 'Kafka\'s columns')
    const body = rows(r)
    t.ok(body.every((row) => row[0] === group && row[1] === 'orders'), r.stdout)
    return new Map(body.map((row) => [Number(row[2]), Number(row[3])]))
  }

  /** A consumer in the group reads from the committed offsets: the first record of each partition given is at the offset expected. */
  async function readBack(t: Test, client: Client, group: string, expected: Map<number, number>): Promise<void> {
    const consumer = await client.consumer({ autoOffsetReset: 'latest', maxWaitMs: 100 })
    const first = new Map<number, number>()
    consumer.subscribe(['orders'], { groupId: group, clientId: 'reader', sessionTimeoutMs: 10_000 })
    const reading = (async () => {
      for await (const r of consumer.records() as AsyncGenerator<ConsumerRecord>) {
        if (!first.has(r.partition)) first.set(r.partition, r.offset)
        if ([...expected.keys()].every((p) => first.has(p))) break
      }
    })()
    await waitFor(`the first record of each partition of group ${group}`, () => first.size, () => [...expected.keys()].every((p) => first.has(p)))
    await reading
    await consumer.close() // commits its positions and leaves: the group is empty again
    t.strictSame(new Map([...first].filter(([p]) => expected.has(p))), expected, `group ${group} read from the reset offsets`)
  }

  /** Dry run, then execute; both print the same plan; the dry run changes nothing. */
  async function reset(t: Test, group: string, ...mode: string[]): Promise<{ planned: Map<number, number>; dry: CliRun; run: CliRun }> {
    const before = await committed(group)
    const dry = await cli('groups', 'reset-offsets', group, ...mode)
    t.equal(dry.status, 0, dry.stderr)
    t.match(dry.stderr, /dry run: nothing changed/)
    t.strictSame(await committed(group), before, 'a dry run changes nothing')
    const run = await cli('groups', 'reset-offsets', group, ...mode, '--execute')
    t.equal(run.status, 0, run.stderr)
    const planned = plan(run, group)
    t.strictSame(plan(dry, group), planned, 'the dry run printed the plan --execute applied')
    t.strictSame(await committed(group), new Map([...before, ...planned]), 'the plan is what the group has committed now')
    return { planned, dry, run }
  }

  t.test('--to-earliest on a new group, then read back', async (t) => {
    const { planned } = await reset(t, 'g-earliest', '--topic', 'orders', '--to-earliest')
    t.strictSame(planned, new Map((await starts()).map((o, p) => [p, o])), 'the log start of each partition')
    await readBack(t, client, 'g-earliest', new Map(oldStart.map((o, p) => [p, o])))
  })

  t.test('--to-datetime and --by-duration: the first record at or after the time', async (t) => {
    const viaDate = await reset(t, 'g-time', '--topic', 'orders', '--to-datetime', new Date(now + HOUR_MS / 2).toISOString())
    t.strictSame(viaDate.planned, new Map(newStart.map((o, p) => [p, o])), 'the records stamped an hour ahead, not the older ones before them')
    await readBack(t, client, 'g-time', viaDate.planned)
    const beforeAll = await reset(t, 'g-time', '--all-topics', '--to-datetime', String(now - 4 * HOUR_MS))
    t.strictSame(beforeAll.planned, new Map((await starts()).map((o, p) => [p, o])), 'epoch ms before every batch: the log start')
    const after = await reset(t, 'g-time', '--all-topics', '--to-datetime', new Date(now + 2 * HOUR_MS).toISOString())
    t.strictSame(after.planned, new Map((await ends()).map((o, p) => [p, o])), 'a time after every record: the log end, as Kafka')
    // A second back from the command's now: past the LeaderChange batches (stamped before `now`), before the records ahead.
    await waitFor('a second and a half to pass since the topic was made', () => Date.now(), (ms) => ms > now + 1_500)
    const viaDuration = await reset(t, 'g-time', '--all-topics', '--by-duration', 'PT1S')
    t.strictSame(viaDuration.planned, viaDate.planned, 'PT1S back lands on the same records')
    const dayBack = await reset(t, 'g-time', '--all-topics', '--by-duration', 'P1DT1H')
    t.strictSame(dayBack.planned, beforeAll.planned, 'a day and an hour back: the log start')
  })

  t.test('--to-offset, --shift-by, --to-latest; clamped offsets said', async (t) => {
    const logEnds = await ends()
    const atFive = await reset(t, 'g-offsets', '--topic', 'orders', '--to-offset', '5')
    t.strictSame(atFive.planned, new Map(logEnds.map((e, p) => [p, Math.min(5, e)])))
    await readBack(t, client, 'g-offsets', new Map(logEnds.map((_, p) => [p, 5])))
    // The reader committed where it stopped; a shift moves from there.
    const from = await committed('g-offsets')
    const back = await reset(t, 'g-offsets', '--all-topics', '--shift-by', '-3')
    t.strictSame(back.planned, new Map([...from].map(([p, o]) => [p, o - 3])), 'the committed offset minus 3')
    const tooFar = await reset(t, 'g-offsets', '--topic', 'orders', '--to-offset', '1000')
    t.strictSame(tooFar.planned, new Map(logEnds.map((e, p) => [p, e])), 'beyond the log end: the log end')
    for (const p of [0, 1, 2]) t.match(tooFar.run.stderr, new RegExp(`new offset 1000 of orders:${p} is higher than the latest offset: set to ${logEnds[p]}`))
    const tooEarly = await reset(t, 'g-offsets', '--all-topics', '--shift-by', '-1000')
    t.strictSame(tooEarly.planned, new Map((await starts()).map((o, p) => [p, o])), 'before the log start: the log start')
    t.match(tooEarly.dry.stderr, /new offset -\d+ of orders:0 is lower than the earliest offset: set to 0/)
    const latest = await reset(t, 'g-offsets', '--topic', 'orders:0,2', '--to-latest')
    t.strictSame(latest.planned, new Map([[0, logEnds[0]], [2, logEnds[2]]]), '--topic orders:0,2: only those partitions')
    // One new record in each: the reader gets exactly those in 0 and 2.
    const fresh = await Promise.all([0, 2].map((partition) => producer.send({ topic: 'orders', partition, value: 'fresh' })))
    await readBack(t, client, 'g-offsets', new Map(fresh.map((m) => [m.partition, m.offset])))
    const json = await cli('groups', 'reset-offsets', 'g-offsets', '--topic', 'orders:1', '--to-offset', '2', '--json')
    t.equal(json.status, 0, json.stderr)
    t.strictSame(JSON.parse(json.stdout), { group: 'g-offsets', topic: 'orders', partition: 1, newOffset: 2, previousOffset: (await committed('g-offsets')).get(1), clamped: null })
  })

  t.test('list and describe: members, lag after producing more, delete', async (t) => {
    await reset(t, 'g-lag', '--topic', 'orders', '--to-latest')
    const described = await cli('groups', 'describe', 'g-lag')
    t.equal(described.status, 0, described.stderr)
    t.match(described.stderr, /Consumer group 'g-lag' has no active members\./)
    t.equal(described.stdout.split('\n')[0].trim().split(/ {2,}/).join(' '), 'GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID')
    const logEnds = await ends()
    t.strictSame(rows(described), logEnds.map((e, p) => ['g-lag', 'orders', String(p), String(e), String(e), '0', '-', '-', '-']), 'caught up: lag 0')
    await Promise.all(Array.from({ length: 4 }, () => producer.send({ topic: 'orders', partition: 1, value: 'more' })))
    const lagging = await cli('groups', 'describe', 'g-lag', '--json')
    t.equal(lagging.status, 0, lagging.stderr)
    t.match(JSON.parse(lagging.stdout), {
      group: 'g-lag', state: 'empty', members: [],
      offsets: [
        { topic: 'orders', partition: 0, currentOffset: logEnds[0], logEndOffset: logEnds[0], lag: 0, memberId: null },
        { topic: 'orders', partition: 1, currentOffset: logEnds[1], logEndOffset: logEnds[1] + 4, lag: 4, memberId: null },
        { topic: 'orders', partition: 2, currentOffset: logEnds[2], logEndOffset: logEnds[2], lag: 0, memberId: null },
      ],
    }, 'four more records in partition 1: lag 4 there')

    // A live member: describe shows its partitions, client id and host; list its state; a reset and a delete are refused.
    const member = createClient({ brokers: [broker.url], clientId: 'live-client' })
    t.teardown(() => member.close())
    const consumer = await member.consumer({ autoOffsetReset: 'earliest', maxWaitMs: 100 })
    consumer.subscribe(['orders'], { groupId: 'g-live', clientId: 'live-client', sessionTimeoutMs: 10_000, autoCommit: false })
    void (async () => {
      for await (const _ of consumer.records()) { /* drained */ }
    })().catch(() => undefined)
    const live = await waitFor('the member to own all three partitions', () => cli('groups', 'describe', 'g-live'), (r) => r.status === 0 && rows(r).filter((row) => row[6] !== '-').length === PARTITIONS)
    const [memberId] = new Set(rows(live).map((row) => row[6]))
    t.ok(rows(live).every((row) => row[6] === memberId && row[7] !== '-' && row[8] === 'live-client'), live.stdout)
    const members = await cli('groups', 'describe', 'g-live', '--members')
    t.strictSame(rows(members), [['g-live', memberId, rows(live)[0][7], 'live-client', '3', 'orders(0,1,2)']])
    const state = await waitFor('the group to be stable', () => cli('groups', 'describe', 'g-live', '--state'), (r) => rows(r)[0]?.[3] === 'stable')
    t.match(rows(state), [['g-live', /^ws:\/\/127\.0\.0\.1:\d+\/ \(0\)$/, 'uniform', 'stable', '1']])
    t.equal(rows(state).length, 1)
    const listed = await cli('groups', 'list')
    t.equal(listed.status, 0, listed.stderr)
    t.strictSame(rows(listed).find((row) => row[0] === 'g-live'), ['g-live', 'stable', '1', 'uniform'])
    t.strictSame(rows(listed).find((row) => row[0] === 'g-lag'), ['g-lag', 'empty', '0', 'uniform'])
    const listedJson = (await cli('groups', 'list', '--json')).stdout.trim().split('\n').map((l) => JSON.parse(l))
    t.strictSame(listedJson.find((g) => g.group === 'g-live'), { group: 'g-live', state: 'stable', members: 1, assignor: 'uniform' })

    const before = await committed('g-live')
    failsWith(t, await cli('groups', 'reset-offsets', 'g-live', '--topic', 'orders', '--to-earliest', '--execute'), 1, /group g-live has 1 active member\(s\) \(state \w+\): offsets can be reset only while it has none; stop its consumers first/)
    failsWith(t, await cli('groups', 'reset-offsets', 'g-live', '--topic', 'orders', '--to-earliest'), 1, /has 1 active member/)
    t.strictSame(await committed('g-live'), before, 'nothing changed')
    // The broker refuses an admin commit to a group with members on its own too (the CLI's check can race a join).
    await t.rejects(admin.alterGroupOffsets('g-live', [{ topic: 'orders', partition: 0, offset: 0 }]), { code: 'UNKNOWN_MEMBER_ID' })
    const refused = await cli('groups', 'delete', 'g-live')
    t.equal(refused.status, 1)
    t.match(refused.stdout, /group g-live: not deleted: NON_EMPTY_GROUP: .*has 1 members: stop them first/)
    await consumer.close()
    const deleted = await cli('groups', 'delete', 'g-live', 'g-lag')
    t.equal(deleted.status, 0, deleted.stderr)
    t.equal(deleted.stdout, 'deleted group g-live\ndeleted group g-lag\n')
    t.notOk(rows(await cli('groups', 'list')).some((row) => row[0] === 'g-live' || row[0] === 'g-lag'), 'gone from the list')
  })

  t.test('bad input: a clear error, the CLI\'s exit codes, nothing changed', async (t) => {
    failsWith(t, await cli('groups', 'describe', 'nope'), 1, /unknown group 'nope' \(GROUP_ID_NOT_FOUND/)
    const unknownDelete = await cli('groups', 'delete', 'nope')
    t.equal(unknownDelete.status, 1)
    t.equal(unknownDelete.stdout, 'group nope: not deleted: unknown group\n')
    // Each case is its own CLI process; they run side by side (about 25 processes of 0.5 s each).
    const cases: Array<[string[], number, RegExp]> = [
      [['describe', 'x'.repeat(256)], 2, /a group id is 1 to 255 characters \(the coordinator's limit\), not 256/],
      [['reset-offsets', 'y'.repeat(300), '--topic', 'orders', '--to-latest'], 2, /not 300/],
      [['reset-offsets', 'g-bad', '--topic', 'nope', '--to-latest'], 1, /unknown topic 'nope'/],
      [['reset-offsets', 'g-bad', '--topic', 'orders:0,7', '--to-latest'], 1, /topic 'orders' has no partition 7 \(it has 3: 0 to 2\)/],
      [['reset-offsets', 'g-bad', '--topic', 'orders:x', '--to-latest'], 2, /--topic orders:x: 'x' is not a partition number/],
      [['reset-offsets', 'g-bad', '--topic', 'orders', '--to-latest', '--to-offset', '3'], 2, /give one reset mode, not --to-latest and --to-offset/],
      [['reset-offsets', 'g-bad', '--topic', 'orders'], 2, /give one reset mode: --to-earliest, --to-latest, --to-offset, --to-datetime, --by-duration, --shift-by/],
      [['reset-offsets', 'g-bad', '--to-latest'], 2, /give the scope: --topic TOPIC\[:P,P...\] \(repeatable\) or --all-topics/],
      [['reset-offsets', 'g-bad', '--topic', 'orders', '--all-topics', '--to-latest'], 2, /--topic or --all-topics, not both/],
      [['reset-offsets', 'g-bad', '--topic', 'orders', '--to-latest', '--dry-run', '--execute'], 2, /--dry-run or --execute, not both/],
      [['reset-offsets', 'g-bad', '--topic', 'orders', '--to-datetime', '2026-13-45'], 2, /--to-datetime: expected an ISO 8601 date/],
      [['reset-offsets', 'g-bad', '--topic', 'orders', '--to-datetime', 'yesterday'], 2, /--to-datetime: expected an ISO 8601 date/],
      ...['P', 'PT', 'P1DT', '1D', 'P1H', '-P1D', 'PT1.5555S'].map((d): [string[], number, RegExp] =>
        [['reset-offsets', 'g-bad', '--topic', 'orders', '--by-duration', d], 2, new RegExp(`--by-duration: expected an ISO 8601 duration PnDTnHnMnS .*got '${d.replace('.', '\\.')}'`)]),
      ...['1.5', 'ten', '--', ''].map((s): [string[], number, RegExp] =>
        [['reset-offsets', 'g-bad', '--topic', 'orders', `--shift-by=${s}`], 2, /--shift-by: expected a signed integer/]),
      [['reset-offsets', 'g-bad', '--topic', 'orders', '--to-offset', '-1'], 2, /--to-offset: expected an offset/],
      [['reset-offsets', 'g-bad', '--topic', 'orders', '--shift-by', '1'], 1, /cannot shift the offset of orders:0: the group has no committed offset there/],
      [['reset-offsets', 'g-bad', '--all-topics', '--to-latest'], 1, /group g-bad has no committed offsets, so --all-topics names no topic: name them with --topic/],
      [['describe'], 2, /missing GROUP \(or --all-groups\)/],
      [['frobnicate'], 2, /groups: unknown subcommand 'frobnicate'/],
    ]
    const runs = await Promise.all(cases.map(([args]) => cli('groups', ...args)))
    cases.forEach(([, code, pattern], i) => failsWith(t, runs[i], code, pattern))
    t.notOk(rows(await cli('groups', 'list')).some((row) => row[0] === 'g-bad'), 'no refused reset left a group behind')

    // A member with an invalid subscription pattern: refused with a typed error, and no group made.
    const raw = await connect(broker.url)
    t.teardown(() => raw.close())
    const heartbeat = await waitFor('an answer from the coordinator', () => raw.call({
      consumerGroupHeartbeat: { groupId: 'g-pattern', memberId: 'm-1', memberEpoch: 0, sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, subscription: { topicRegex: 'orders(' } },
    }), (r) => r.consumerGroupHeartbeat?.error?.code !== ErrorCode.COORDINATOR_LOAD_IN_PROGRESS && r.consumerGroupHeartbeat?.error?.code !== ErrorCode.NOT_COORDINATOR)
    t.equal(heartbeat.consumerGroupHeartbeat?.error?.code, ErrorCode.INVALID_REGULAR_EXPRESSION)
    failsWith(t, await cli('groups', 'describe', 'g-pattern'), 1, /unknown group 'g-pattern'/)
  })

  t.test('broker: __consumer_offsets refused at produce; an unset leader epoch; the offsets topic settings', async (t) => {
    const raw = await connect(broker.url)
    t.teardown(() => raw.close())
    // No leader epoch in the commit: the group keeps -1 (unknown), not 0. (Retried while the coordinator is still being made.)
    const retriable = [ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, ErrorCode.NOT_COORDINATOR]
    const commit = await waitFor('the coordinator to take a commit', () => raw.call({
      offsetCommit: { groupId: 'g-epoch', memberId: '', memberEpoch: -1, topics: [{ name: 'orders', partitions: [{ index: 0, offset: 3 }] }] },
    }), (r) => !retriable.includes(r.offsetCommit?.error?.code ?? 0))
    t.notOk(commit.offsetCommit?.error?.code, JSON.stringify(commit.offsetCommit?.error))
    const fetched = await raw.call({ offsetFetch: { groupId: 'g-epoch' } })
    t.match(fetched.offsetFetch?.topics, [{ name: 'orders', partitions: [{ index: 0, offset: 3, leaderEpoch: -1 }] }])
    const produced = await runCli(['produce', '__consumer_offsets', '-b', broker.url], { input: 'x\n' })
    t.equal(produced.status, 1)
    t.match(produced.stderr, /INVALID_TOPIC_EXCEPTION: .*cannot produce to the internal topic __consumer_offsets: the group coordinator writes it/)
    const topic = await cli('topics', 'describe', '__consumer_offsets', '--json')
    t.equal(topic.status, 0, topic.stderr)
    t.equal(JSON.parse(topic.stdout).partitions.length, OFFSETS_TOPIC_PARTITIONS, '--offsets-topic-partitions took effect at creation')
  })
})
