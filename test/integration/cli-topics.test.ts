// `bitacora topics ...` against one real broker process, run as a user would (the built CLI
// as a child process), plus the error paths every client command shares.
import t, { type Test } from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startBroker, tempDataDir } from './broker-process.js'
import { failsWith as failsWithOneLine, freePort, runCli, type CliRun } from './cli-process.js'
import { CONNECT_WAIT_MS } from '../../src/cli/limits.js'

const cli = (args: string[], env: Record<string, string> = {}, input = '') => runCli(args, { env, input })

/** As failsWith, and nothing on stdout. */
function failsWith(t: Test, r: CliRun, code: number, pattern: RegExp) {
  failsWithOneLine(t, r, code, pattern)
  t.equal(r.stdout, '', 'nothing on stdout')
}

t.test('topics', async (t) => {
  const broker = await startBroker(t)
  const run = (...args: string[]) => cli([...args, '--bootstrap-server', broker.url])

  t.test('lifecycle: create, list, describe, alter, delete', async (t) => {
    const created = await run('topics', 'create', 'orders', '--partitions', '3', '--replication-factor', '1', '--config', 'retention.ms=3600000', '--config', 'cleanup.policy=compact')
    t.equal(created.status, 0, created.stderr)
    t.equal(created.stdout, 'created topic orders\n')
    t.equal((await run('topics', 'create', 'audit')).status, 0)

    const list = await run('topics', 'list')
    t.equal(list.status, 0)
    t.strictSame(list.stdout.trim().split('\n').filter((n) => !n.startsWith('__')), ['audit', 'orders'], 'sorted names')
    const listJson = await run('topics', 'list', '--json')
    t.equal(listJson.status, 0, listJson.stderr)
    const listed = listJson.stdout.trim().split('\n').map((l) => JSON.parse(l)).filter((o) => !o.internal)
    t.match(listed, [
      { topic: 'audit', topicId: /^[0-9a-f]{32}$/, internal: false, partitions: 1, replicationFactor: 1 },
      { topic: 'orders', internal: false, partitions: 3, replicationFactor: 1 },
    ], '--json: one object per topic, sorted')
    t.equal(listed.length, 2)
    t.equal((await run('topics', 'list', '-J', '--exclude-internal')).stdout, listJson.stdout.split('\n').filter((l) => l && !JSON.parse(l).internal).map((l) => `${l}\n`).join(''), '-J is --json')

    const text = await run('topics', 'describe', 'orders')
    t.equal(text.status, 0, text.stderr)
    const [head, ...parts] = text.stdout.trimEnd().split('\n')
    t.match(head, /^Topic: orders\tTopicId: [0-9a-f]{32}\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: cleanup.policy=compact,retention.ms=3600000$/)
    t.equal(parts.length, 3)
    const row = /^\tTopic: orders\tPartition: (\d)\tLeader: 0\tLeaderEpoch: [1-9]\d*\tReplicas: 0\tIsr: 0\tLogStartOffset: (\d+)\tHighWatermark: (\d+)\tLogEnd: 0=(\d+)\tLag: 0=0$/
    const offsetsOf = (lines: string[]) => lines.map((line) => row.exec(line)).map((m) => m && { partition: Number(m[1]), logStart: Number(m[2]), hw: Number(m[3]), logEnd: Number(m[4]) })
    const before = offsetsOf(parts)
    t.ok(before.every(Boolean), parts.join('\n'))
    t.strictSame(before.map((p) => p!.partition), [0, 1, 2])
    // Three records into partition 1 move its high watermark, and only its, by three.
    const produced = await cli(['produce', 'orders', '-p', '1', '-b', broker.url], {}, 'a\nb\nc\n')
    t.equal(produced.status, 0, produced.stderr)
    const after = offsetsOf((await run('topics', 'describe', 'orders')).stdout.trimEnd().split('\n').slice(1))
    t.strictSame(after.map((p) => p!.hw - before[p!.partition]!.hw), [0, 3, 0], 'HighWatermark is the latest offset')
    t.strictSame(after.map((p) => p!.logStart), [0, 0, 0], 'LogStartOffset: nothing deleted yet')
    t.ok(after.every((p) => p!.logEnd >= p!.hw), 'LogEnd: the leader replica holds at least what is committed')
    const read = await cli(['consume', 'orders', '-p', '1', '-o', 'beginning', '-e', '-f', '%o', '-b', broker.url])
    t.equal(read.status, 0, read.stderr)
    t.equal(Number(read.stdout.trim().split('\n').pop()), after[1]!.hw - 1, 'the last record sits just below the high watermark')
    t.match((await run('topics', 'describe', 'orders', '--all-configs')).stdout, /segment\.bytes=\d+/, '--all-configs shows defaults too')

    const altered = await run('topics', 'alter', 'orders', '--set', 'retention.ms=60000', '--set', 'segment.ms=1000', '--reset', 'cleanup.policy')
    t.equal(altered.status, 0, altered.stderr)
    t.equal(altered.stdout, 'altered configs of topic orders\n')
    const json = await run('topics', 'describe', '--json')
    t.equal(json.status, 0, json.stderr)
    const described = json.stdout.trim().split('\n').map((l) => JSON.parse(l)).filter((d) => !d.internal)
    t.strictSame(described.map((d) => d.topic), ['audit', 'orders'], 'no names: every topic')
    const orders = described[1]
    t.equal(orders.partitions.length, 3)
    t.match(orders.partitions[0], { partition: 0, leader: 0, leaderEpoch: Number, replicas: [0], isr: [0], logStartOffset: 0, highWatermark: Number, error: null })
    t.equal(orders.partitions[1].highWatermark, after[1]!.hw, 'the same offsets in JSON')
    t.match(orders.configs, { 'retention.ms': '60000', 'segment.ms': '1000', 'cleanup.policy': 'delete' })
    t.strictSame(orders.overrides.sort(), ['retention.ms', 'segment.ms'])

    const deleted = await run('topics', 'delete', 'audit')
    t.equal(deleted.status, 0)
    t.equal(deleted.stdout, 'deleted topic audit\n')
    t.notMatch((await run('topics', 'list')).stdout, /audit/)
  })

  t.test('already exists / does not exist', async (t) => {
    t.equal((await run('topics', 'create', 'twice')).status, 0)
    const [again, quiet, del, delQuiet, describe, alter] = await Promise.all([
      run('topics', 'create', 'twice'),
      run('topics', 'create', 'twice', '--if-not-exists'),
      run('topics', 'delete', 'ghost'),
      run('topics', 'delete', 'ghost', '--if-exists'),
      run('topics', 'describe', 'twice', 'ghost'),
      run('topics', 'alter', 'ghost', '--set', 'retention.ms=1'),
    ])
    failsWith(t, again, 1, /topic 'twice' already exists/)
    t.equal(quiet.status, 0)
    t.equal(quiet.stdout, '')
    failsWith(t, del, 1, /unknown topic 'ghost'/)
    t.equal(delQuiet.status, 0)
    failsWith(t, describe, 1, /unknown topic 'ghost'/)
    failsWith(t, alter, 1, /unknown topic 'ghost'/)
  })

  t.test('broker refusals are operational errors', async (t) => {
    const [config, rf, alter, name] = await Promise.all([
      run('topics', 'create', 'bad-config', '--config', 'retention.ms=soon'),
      run('topics', 'create', 'bad-rf', '--replication-factor', '3'),
      run('topics', 'alter', 'orders', '--set', 'no.such.config=1'),
      run('topics', 'create', 'bad/name'),
    ])
    failsWith(t, config, 1, /INVALID_CONFIG.*retention\.ms/)
    failsWith(t, rf, 1, /INVALID_REPLICATION_FACTOR/)
    failsWith(t, alter, 1, /INVALID_CONFIG.*no\.such\.config/)
    failsWith(t, name, 1, /INVALID_TOPIC_EXCEPTION/)
  })

  t.test('usage errors exit 2 (the rest: cli-usage.test.ts, in process)', async (t) => {
    const [count, flag, sub] = await Promise.all([
      run('topics', 'create', 'x', '--partitions', 'many'),
      run('topics', 'create', 'x', '--frobnicate'),
      run('topics', 'rename', 'x'),
    ])
    failsWith(t, count, 2, /--partitions: expected an integer >= 1, got 'many'/)
    failsWith(t, flag, 2, /unknown option '--frobnicate'/)
    failsWith(t, sub, 2, /unknown subcommand 'rename'/)
  })

  t.test('help lists every flag, short forms included', async (t) => {
    const [top, topics, produce, consume, perf, completion] = await Promise.all([
      cli(['help']), cli(['topics', '--help']), cli(['produce', '--help']), cli(['consume', '-h']), cli(['perf', '--help']), cli(['completion', '--help']),
    ])
    t.match(top.stdout, /topics .*\n.*groups .*\n.*produce .*\n.*consume/)
    for (const flag of [/-b, --bootstrap-server/, /--client-config FILE/, /--profile NAME/, /completion /, /-V, --version/, /-o offset/, /-k key, -K key separator/]) t.match(top.stdout, flag)
    t.match(topics.stdout, /bitacora topics create TOPIC/)
    t.match(topics.stdout, /bitacora topics list \[--exclude-internal\] \[--json\]/)
    for (const flag of [/-K, --key-separator SEP/, /-k, --key KEY/, /--key-encoding ENC/, /--request-bytes-max N/, /max-batch-bytes/, /max\.message\.bytes/, /-t, --topic/, /-p, --partition/, /-b, --bootstrap-server/, /--client-config/]) {
      t.match(produce.stdout, flag)
    }
    for (const flag of [/--from-beginning/, /-o, --offset OFFSET/, /-N/, /--from-time TIME/, /-e, --exit-at-end/, /-J, --json/, /keyEncoding\/valueEncoding/, /U\+FFFD/, /-K, --key-separator/, /--profile/]) {
      t.match(consume.stdout, flag)
    }
    for (const flag of [/--request-bytes-max N/, /--timeout-ms N/, /-t, --topic/]) t.match(perf.stdout, flag)
    t.match(completion.stdout, /source <\(bitacora completion bash\)/)
    for (const r of [top, topics, produce, consume, perf, completion]) t.equal(r.status, 0)
  })

  t.test('a command without its subcommand is a usage error (exit 2), help on stderr', async (t) => {
    const [bare, topics, perf, completion] = await Promise.all([cli([]), cli(['topics']), cli(['perf']), cli(['completion'])])
    for (const [r, pattern] of [[bare, /^usage: bitacora <command>/], [topics, /^usage: bitacora topics/], [perf, /^usage: bitacora perf/], [completion, /^usage: bitacora completion/]] as const) {
      t.equal(r.status, 2)
      t.equal(r.stdout, '', 'nothing on stdout: a script piping it gets nothing')
      t.match(r.stderr, pattern)
    }
  })

  t.test('BITACORA_BROKERS is the default bootstrap server', async (t) => {
    const r = await cli(['topics', 'list'], { BITACORA_BROKERS: broker.url })
    t.equal(r.status, 0, r.stderr)
    t.match(r.stdout, /^orders$/m)
  })

  t.test('client config profiles: flag > environment > file > default', async (t) => {
    const dir = tempDataDir(t)
    const dead = `ws://127.0.0.1:${await freePort()}/`
    const config = join(dir, 'client.json')
    writeFileSync(config, JSON.stringify({ profiles: { default: { 'bootstrap-server': broker.url }, gone: { 'bootstrap-server': dead } } }))
    const [fromFile, fromEnvFile, named, envProfile, envBrokers, flag, unknown] = await Promise.all([
      cli(['topics', 'list', '--client-config', config]),
      cli(['topics', 'list'], { BITACORA_CLIENT_CONFIG: config }),
      cli(['topics', 'list', '--client-config', config, '--profile', 'gone']),
      cli(['topics', 'list', '--client-config', config], { BITACORA_PROFILE: 'gone' }),
      cli(['topics', 'list', '--client-config', config], { BITACORA_BROKERS: dead }),
      cli(['topics', 'list', '--client-config', config, '--profile', 'gone', '-b', broker.url], { BITACORA_BROKERS: dead }),
      cli(['topics', 'list', '--client-config', config, '--profile', 'prod']),
    ])
    for (const r of [fromFile, fromEnvFile, flag]) {
      t.equal(r.status, 0, r.stderr)
      t.match(r.stdout, /^orders$/m)
    }
    failsWith(t, named, 1, new RegExp(`cannot reach broker ${dead}`))
    failsWith(t, envProfile, 1, new RegExp(`cannot reach broker ${dead}`))
    failsWith(t, envBrokers, 1, new RegExp(`cannot reach broker ${dead}`))
    failsWith(t, unknown, 2, /--profile prod: no such profile .* \(it has: default, gone\)/)
  })
})

t.test('an unreachable broker is one line and exit 1, promptly, for every command', async (t) => {
  const url = `ws://127.0.0.1:${await freePort()}/`
  const started = Date.now()
  const runs = await Promise.all([
    cli(['topics', 'list', '--bootstrap-server', url]),
    cli(['topics', 'create', 'x'], { BITACORA_BROKERS: url }),
    cli(['produce', 'x', '--bootstrap-server', url]),
    cli(['consume', 'x', '--bootstrap-server', url]),
  ])
  for (const r of runs) failsWith(t, r, 1, new RegExp(`cannot reach broker ${url}`))
  t.ok(Date.now() - started < CONNECT_WAIT_MS + 8_000, `no minute of retries (${Date.now() - started} ms; each tries for ${CONNECT_WAIT_MS} ms)`)
})
