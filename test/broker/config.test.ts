// One name per broker setting: the flag `--NAME` and the config file key `"NAME"` set the same
// field; flags override the file; mistakes name the setting as the user wrote it.
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BROKER_USAGE, ConfigError, DEFAULT_CONFIG, parseBrokerArgs, SETTINGS } from '../../src/broker/config.js'

const dir = mkdtempSync(join(tmpdir(), 'bitacora-config-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
let files = 0
const file = (body: unknown) => {
  const path = join(dir, `c${files++}.json`)
  writeFileSync(path, typeof body === 'string' ? body : JSON.stringify(body))
  return path
}

t.test('every setting: the same name as flag and as file key, listed in --help', async (t) => {
  for (const s of SETTINGS) {
    t.match(BROKER_USAGE, `--${s.name}`, `--${s.name} is in the help`)
    const value = s.kind.type === 'int' ? String(s.name === 'max-frame-bytes' ? 4 << 20 : Math.min(Math.max(s.kind.min, 4096), s.kind.max ?? Infinity))
      : s.kind.type === 'list' ? 'http://a.example'
      : s.kind.type === 'voters' ? '1@ws://127.0.0.1:9092'
      : s.kind.type === 'route' ? '2=ws://127.0.0.1:19092'
      : 'x'
    const id = s.kind.type === 'voters' ? ['--id', '1'] : [] // a voter list needs --id
    const fromFlag = s.kind.type === 'flag' ? parseBrokerArgs([`--${s.name}`]) : parseBrokerArgs([`--${s.name}`, value, ...id])
    const fileValue = s.kind.type === 'int' ? Number(value) : s.kind.type === 'list' || s.kind.type === 'route' ? [value] : s.kind.type === 'flag' ? true : value
    const fromFile = parseBrokerArgs(['--config', file({ [s.name]: fileValue }), ...id])
    t.same(fromFile, fromFlag, `--${s.name} and "${s.name}" set the same thing`)
    t.notSame(fromFlag, DEFAULT_CONFIG, `--${s.name} changes something`)
  }
})

t.test('flags override the file; the file overrides defaults', async (t) => {
  const c = parseBrokerArgs(['--config', file({ port: 9100, 'max-connections': 10, 'allow-origin': ['http://a.example'] }), '--port', '9200'])
  t.equal(c.port, 9200)
  t.equal(c.limits.connectionsMax, 10)
  t.same(c.allowedOrigins, ['http://a.example'])
  t.equal(c.limits.frameBytesMax, DEFAULT_CONFIG.limits.frameBytesMax)
})

t.test('--default-replication-factor: replicas of a topic created without a factor (as Kafka, 1 unless set)', async (t) => {
  t.equal(parseBrokerArgs([]).defaultReplicationFactor, 1)
  t.equal(parseBrokerArgs(['--default-replication-factor', '3']).defaultReplicationFactor, 3)
  t.throws(() => parseBrokerArgs(['--default-replication-factor', '0']), { message: /--default-replication-factor: expected an integer in \[1, 7\], got '0'/ })
})

t.test('--offsets-topic-partitions / --offsets-topic-replication-factor: __consumer_offsets at creation (defaults 12 / 3, as documented)', async (t) => {
  t.match(parseBrokerArgs([]), { offsetsTopicPartitions: 12, offsetsTopicReplicationFactor: 3 })
  t.match(parseBrokerArgs(['--offsets-topic-partitions', '50', '--offsets-topic-replication-factor', '2']), { offsetsTopicPartitions: 50, offsetsTopicReplicationFactor: 2 })
  t.throws(() => parseBrokerArgs(['--offsets-topic-partitions', '0']), { message: /--offsets-topic-partitions: expected an integer in \[1, 1000\], got '0'/ })
  t.throws(() => parseBrokerArgs(['--offsets-topic-replication-factor', '8']), { message: /--offsets-topic-replication-factor: expected an integer in \[1, 7\], got '8'/ })
})

t.test('--rack: where this broker is, sent with its registration', async (t) => {
  t.equal(parseBrokerArgs([]).rack, '', 'none by default')
  t.equal(parseBrokerArgs(['--rack', 'eu-west-1a']).rack, 'eu-west-1a')
  t.equal(parseBrokerArgs(['--config', file({ rack: 'r2' })]).rack, 'r2')
})

t.test('mistakes say what is wrong, in the names the user knows', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['--config', file({ maxConnections: 5 })], /unknown setting 'maxConnections'; did you mean 'max-connections'\?/],
    [['--config', file({ connectionsMax: 5 })], /did you mean 'max-connections'\?/],
    [['--config', file({ allowedOrigins: [] })], /did you mean 'allow-origin'\?/],
    [['--config', file({ limits: {} })], /unknown setting 'limits' \(see 'bitacora broker --help'\)/],
    [['--config', file({ port: 'high' })], /"port": expected an integer in \[0, 65535\], got '"high"'/],
    [['--config', file({ port: 1.5 })], /expected an integer/],
    [['--config', file({ 'no-localhost-origins': 'yes' })], /must be true or false/],
    [['--config', file('{nope')], /not JSON/],
    [['--config', file([1])], /expected a JSON object/],
    [['--config', join(dir, 'missing.json')], /cannot read it \(ENOENT\)/],
    [['--port', '70000'], /--port: expected an integer in \[0, 65535\], got '70000'/],
    [['--port'], /--port needs a value/],
    [['--no-localhost-origins=1'], /takes no value/],
    [['--max-conections', '3'], /unknown option '--max-conections'/],
    [['stray'], /unexpected argument 'stray'/],
    [['--max-batch-bytes', '20000000'], /--max-batch-bytes \(20000000\) must leave 1024 bytes of room in --max-frame-bytes/],
    // Membership times: not below what 2 shared cores hold, and a lease that outlasts a lost heartbeat.
    [['--broker-heartbeat-interval-ms', '499'], /--broker-heartbeat-interval-ms: expected an integer >= 500, got '499'/],
    [['--broker-session-timeout-ms', '2999'], /--broker-session-timeout-ms: expected an integer >= 3000, got '2999'/],
    [['--broker-session-timeout-ms', '4000'], /--broker-session-timeout-ms \(4000\) must be over twice --broker-heartbeat-interval-ms \(2000\)/],
    [['--broker-heartbeat-interval-ms', '5000'], /--broker-session-timeout-ms \(9000\) must be over twice --broker-heartbeat-interval-ms \(5000\)/],
    [['--rack', 'us east'], /--rack "us east": a rack name must be printable ASCII without spaces/],
    [['--rack', 'r'.repeat(256)], /a rack name must be at most 255 characters, got 256/],
    [['--config', file({ rack: 3 })], /"rack" must be a string/],
  ]
  for (const [argv, pattern] of cases) t.throws(() => parseBrokerArgs(argv), { name: 'ConfigError', message: pattern }, argv.join(' '))
  t.type(new ConfigError('x'), Error)
})

t.test('--peer-route: where this node dials another (repeatable); mistakes name the entry', async (t) => {
  t.same(parseBrokerArgs([]).peerRoutes, [], 'none by default')
  t.same(parseBrokerArgs(['--peer-route', '2=ws://127.0.0.1:19092', '--peer-route=3=ws://[::1]:19093/']).peerRoutes, [
    { id: 2, url: 'ws://127.0.0.1:19092/' }, { id: 3, url: 'ws://[::1]:19093/' },
  ])
  t.same(parseBrokerArgs(['--config', file({ 'peer-route': ['2=ws://127.0.0.1:19092'] })]).peerRoutes, [{ id: 2, url: 'ws://127.0.0.1:19092/' }])
  const cases: Array<[string[], RegExp]> = [
    [['--peer-route', 'ws://127.0.0.1:19092'], /--peer-route: 'ws:\/\/127.0.0.1:19092' is not ID=URL/],
    [['--peer-route', '2=ws://127.0.0.1:1,3=ws://127.0.0.1:2'], /is not ID=URL \(.*one route per flag\)/],
    [['--peer-route', 'two=ws://127.0.0.1:19092'], /--peer-route: 'two=ws:\/\/127.0.0.1:19092': the node id 'two' is not an integer/],
    [['--peer-route', '2=http://127.0.0.1:19092'], /--peer-route: '2=http:\/\/127.0.0.1:19092': the scheme is http, not ws or wss/],
    [['--peer-route', '2=nowhere'], /--peer-route: '2=nowhere': 'nowhere' is not a URL/],
    [['--peer-route', '2=ws://127.0.0.1:1', '--peer-route', '2=ws://127.0.0.1:2'], /--peer-route: node 2 is routed twice/],
    [['--config', file({ 'peer-route': '2=ws://127.0.0.1:1' })], /"peer-route" must be an array of "ID=URL" strings/],
  ]
  for (const [args, message] of cases) t.throws(() => parseBrokerArgs(args), { name: 'ConfigError', message }, args.join(' '))
})

t.test('--controller-voters: the bootstrap voters, each ID@URL; mistakes name the entry and what is wrong', async (t) => {
  const c = parseBrokerArgs(['--id', '2', '--controller-voters', '1@ws://127.0.0.1:9092, 2@ws://localhost:9093/,3@wss://[::1]:9094'])
  t.same(c.controllerVoters, [
    { id: 1, url: 'ws://127.0.0.1:9092/' },
    { id: 2, url: 'ws://localhost:9093/' },
    { id: 3, url: 'wss://[::1]:9094/' },
  ], 'URLs normalized to ws://host:port/')
  t.equal(c.brokerId, 2)
  t.equal(parseBrokerArgs([]).controllerVoters, undefined, 'absent: this node alone')
  t.same(parseBrokerArgs(['--config', file({ id: 4, 'controller-voters': '1@ws://127.0.0.1:9092' })]).controllerVoters, [{ id: 1, url: 'ws://127.0.0.1:9092/' }],
    'from the config file, where --id may come from too')
  const cases: Array<[string[], RegExp]> = [
    [['--controller-voters', '1@ws://127.0.0.1:9092'], /--controller-voters needs --id: which of the nodes 1 \(or another, to follow as a broker only\) is this one\?/],
    [['--id', '1', '--controller-voters', ''], /expected ID@URL,ID@URL/],
    [['--id', '1', '--controller-voters', 'ws://127.0.0.1:9092'], /'ws:\/\/127.0.0.1:9092' is not ID@URL/],
    [['--id', '1', '--controller-voters', 'one@ws://127.0.0.1:9092'], /the node id 'one' is not an integer in \[0, 2147483647\]/],
    [['--id', '1', '--controller-voters', '-1@ws://127.0.0.1:9092'], /the node id '-1' is not an integer/],
    [['--id', '1', '--controller-voters', '1@ws://127.0.0.1:9092,1@ws://127.0.0.1:9093'], /node 1 is listed twice \(ws:\/\/127.0.0.1:9092\/ and ws:\/\/127.0.0.1:9093\/\)/],
    [['--id', '1', '--controller-voters', '1@ws://127.0.0.1:9092,2@ws://127.0.0.1:9092/'], /nodes 1 and 2 have the same URL ws:\/\/127.0.0.1:9092\//],
    [['--id', '1', '--controller-voters', '1@http://127.0.0.1:9092'], /'1@http:\/\/127.0.0.1:9092': the scheme is http, not ws or wss/],
    [['--id', '1', '--controller-voters', '1@ws//127.0.0.1:9092'], /'ws\/\/127.0.0.1:9092' is not a URL/],
    [['--id', '1', '--controller-voters', '1@ws://127.0.0.1:9092/kafka'], /has a path, query or fragment/],
    [['--id', '1', '--controller-voters', '1@ws://u:p@127.0.0.1:9092'], /carries credentials/],
    [['--id', '1', '--controller-voters', Array.from({ length: 8 }, (_, i) => `${i}@ws://127.0.0.1:${9000 + i}`).join(',')], /at most 7 voters, got 8/],
    [['--config', file({ id: 1, 'controller-voters': ['1@ws://127.0.0.1:9092'] })], /"controller-voters" must be a string: "ID@URL,ID@URL,…"/],
    [['--config', file({ id: 1, 'controller-voters': '1@ftp://x:1' })], /"controller-voters": '1@ftp:\/\/x:1': the scheme is ftp/],
  ]
  for (const [argv, pattern] of cases) t.throws(() => parseBrokerArgs(argv), { name: 'ConfigError', message: pattern }, argv.join(' '))
})
