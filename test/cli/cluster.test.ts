// `bitacora cluster describe|add-voter|remove-voter` in process, against real nodes (listener,
// sessions, API table, WebSockets) whose quorum is the stand-in until the real one runs in a
// broker: what each prints, its usage errors (exit 2) and operational ones (exit 1).
// `bitacora cluster describe|add-voter|remove-voter` in process, against real brokers sharing one
// metadata quorum (in this process, over real WebSockets: test/client/broker-quorum.ts): voters
// 1-3 and node 4, a broker only. What each prints, its usage errors (exit 2) and operational
// ones (exit 1). One cluster for the file, its tests in order: the last shrinks it to one voter.
import t from 'tap'
import { clusterCommand, describeText } from '../../src/cli/cluster.js'
import { failureOf, UsageError } from '../../src/cli/errors.js'
import type { QuorumDescription } from '../../src/client/node.js'
import { BrokerQuorum, until } from '../client/broker-quorum.js'
import { freePort } from '../integration/cli-process.js'

async function run(argv: string[]): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = []
  const code = await clusterCommand(argv, (line) => lines.push(line))
  return { code, lines }
}

const q = await BrokerQuorum.create(t, [1, 2, 3, 4], [1, 2, 3])
await q.startAll()
const L = (await q.ready()).leaderId
const [F, G] = [1, 2, 3].filter((id) => id !== L) // followers

t.test('describe: status, then replicas leader first, then brokers', async (t) => {
  const { code, lines } = await run(['describe', '-b', q.url(F)])
  t.equal(code, 0)
  const w = q.url(1).length // every URL has a five-digit port
  // Each replica's directory id (meta.properties), as the leader learned it from its fetches.
  const row = (id: number, status: string) => new RegExp(`^${id}       \\S+ +${q.url(id)}  \\d+ +\\d+ +\\d+ +${status}$`)
  const expected: Array<string | RegExp> = [
    `ClusterId:        ${q.clusterId}`,
    `LeaderId:         ${L}`,
    /^LeaderEpoch:      [1-9]\d*$/,
    /^HighWatermark:    [1-9]\d*$/,
    /^MaxFollowerLag:   \d+$/,
    'CurrentVoters:    [1,2,3]',
    'CurrentObservers: [4]',
    '',
    new RegExp(`^NodeId  DirectoryId +${'Url'.padEnd(w)}  LogEndOffset  Lag  LastFetchMsAgo  Status$`),
    row(L, 'Leader'),
    row(F, 'Follower'),
    row(G, 'Follower'),
    row(4, 'Observer'),
    '',
    `BrokerId  ${'Url'.padEnd(w)}  Rack  Fenced`,
    ...[1, 2, 3, 4].map((id) => `${id}         ${q.url(id)}  -     false`),
  ]
  t.equal(lines.length, expected.length, 'as many lines as expected')
  expected.forEach((e, i) => (typeof e === 'string' ? t.equal(lines[i], e) : t.match(lines[i], e)))
})

t.test('describe --json: the whole description, as the client gives it, from the leader', async (t) => {
  const { code, lines } = await run(['describe', '--json', '-b', q.url(G)])
  t.equal(code, 0)
  t.equal(lines.length, 1)
  const d = JSON.parse(lines[0]) as QuorumDescription
  t.match(d, { clusterId: q.clusterId, leaderId: L, answeredBy: L })
  t.strictSame(d.voters.map((v) => [v.nodeId, v.url]), [1, 2, 3].map((id) => [id, q.url(id)]))
  t.strictSame(d.observers.map((v) => [v.nodeId, v.url]), [[4, q.url(4)]])
  t.ok([...d.voters, ...d.observers].every((r) => r.logEndOffset >= 0 && r.lag >= 0), 'every position known')
  t.strictSame(d.brokers, [1, 2, 3, 4].map((id) => ({ id, url: q.url(id), rack: '', fenced: false })))
})

t.test('describe, formatted: columns padded to the widest cell, the leader first', async (t) => {
  const d: QuorumDescription = {
    clusterId: 'c-test', leaderId: 2, leaderEpoch: 3, highWatermark: 57, answeredBy: 2,
    voters: [1, 2, 3].map((id) => ({ nodeId: id, url: `ws://127.0.0.1:909${id + 1}/`, logEndOffset: 57, lastFetchMsAgo: id === 2 ? 0 : 120, lag: 0, directoryId: '' })),
    observers: [{ nodeId: 4, url: 'ws://127.0.0.1:9/', logEndOffset: 50, lastFetchMsAgo: 120, lag: 7, directoryId: '' }],
    brokers: [],
  }
  t.strictSame(describeText(d), [
    'ClusterId:        c-test',
    'LeaderId:         2',
    'LeaderEpoch:      3',
    'HighWatermark:    57',
    'MaxFollowerLag:   7',
    'CurrentVoters:    [1,2,3]',
    'CurrentObservers: [4]',
    '',
    'NodeId  DirectoryId  Url                   LogEndOffset  Lag  LastFetchMsAgo  Status',
    '2       unknown      ws://127.0.0.1:9093/  57            0    0               Leader',
    '1       unknown      ws://127.0.0.1:9092/  57            0    120             Follower',
    '3       unknown      ws://127.0.0.1:9094/  57            0    120             Follower',
    '4       unknown      ws://127.0.0.1:9/     50            7    120             Observer',
    '',
    'Brokers: none registered',
  ])
  const unreachable = describeText({ ...d, answeredBy: 1, voters: d.voters.map((v) => ({ ...v, lag: -1 })) })
  t.equal(unreachable[7], "(answered by node 1: the leader could not be reached; only the leader knows the replicas' positions)")
})

t.test('describe of a quorum without a leader, from a follower, says so', async (t) => {
  const d: QuorumDescription = {
    clusterId: 'c', leaderId: -1, leaderEpoch: 2, highWatermark: 9, answeredBy: 3,
    voters: [{ nodeId: 3, url: 'ws://h:1/', logEndOffset: -1, lastFetchMsAgo: -1, lag: -1, directoryId: 'Zx4rCQ' }], observers: [],
    brokers: [{ id: 3, url: 'ws://h:1/', rack: '', fenced: true }],
  }
  const lines = describeText(d)
  t.equal(lines[1], 'LeaderId:         none (no controller elected)')
  t.equal(lines[4], 'MaxFollowerLag:   unknown')
  t.equal(lines[7], "(answered by node 3; only the leader knows the replicas' positions)")
  t.equal(lines[9], 'NodeId  DirectoryId  Url        LogEndOffset  Lag      LastFetchMsAgo  Status')
  t.equal(lines[10], '3       Zx4rCQ       ws://h:1/  unknown       unknown  unknown         Follower', 'the voter\'s directory id as recorded')
  t.strictSame(lines.slice(-2), ['BrokerId  Url        Rack  Fenced', '3         ws://h:1/  -     true'])
})

t.test('add-voter asked of a follower: made at the controller, HOST:PORT taken as ws://HOST:PORT/; remove-voter likewise', async (t) => {
  t.strictSame(await run(['add-voter', '4', q.url(4).slice('ws://'.length, -1), '--timeout-ms', '5000', '-b', q.url(F)]), {
    code: 0, lines: ['node 4 is a voter now; voters: 1, 2, 3, 4'],
  })
  t.strictSame(await run(['remove-voter', '4', '-b', q.url(G)]), { code: 0, lines: ['node 4 is no longer a voter; voters: 1, 2, 3'] })
})

t.test('the controller\'s refusals are operational errors (exit 1) with its message; the leader can go, the last voter cannot', async (t) => {
  const unreachable = `ws://127.0.0.1:${await freePort()}/`
  const cases: Array<[string[], RegExp]> = [
    [['remove-voter', '7'], /^INVALID_REQUEST: .*: cannot remove node 7: node 7 is not a voter \(voters: 1, 2, 3\)$/],
    [['add-voter', String(L), q.url(L)], new RegExp(`^INVALID_REQUEST: .*: cannot add node ${L} \\(${q.url(L)}\\): node ${L} is a voter already$`)],
    [['add-voter', '5', unreachable, '--timeout-ms', '30'], new RegExp(`^REQUEST_TIMED_OUT: .*: cannot add node 5 \\(${unreachable}\\) within 30 ms: node 5 has not fetched from this leader: is it running at ${unreachable}, started with --id 5 and this cluster's --controller-voters\\? It stays an observer; nothing was changed$`)],
  ]
  for (const [argv, message] of cases) {
    const err = await run([...argv, '-b', q.url(F)]).catch((e: unknown) => e)
    t.match(failureOf(err), { exitCode: 1, message }, argv.join(' '))
  }
  // Down to one voter: the leader itself goes first (it resigns once its removal commits and
  // another leads), then a follower; the last one cannot go. Each removed node follows on as an observer.
  t.strictSame(await run(['remove-voter', String(L), '-b', q.url(F)]), { code: 0, lines: [`node ${L} is no longer a voter; voters: ${F}, ${G}`] })
  const next = (await until('another leader', async () => {
    const d = await q.describe(F)
    return d.leaderId === F || d.leaderId === G ? d : null
  })).leaderId
  const other = next === F ? G : F
  t.strictSame(await run(['remove-voter', String(other), '-b', q.url(L)]), { code: 0, lines: [`node ${other} is no longer a voter; voters: ${next}`] })
  const err = await run(['remove-voter', String(next), '-b', q.url(other)]).catch((e: unknown) => e)
  t.match(failureOf(err), { exitCode: 1, message: new RegExp(`^INVALID_REQUEST: .*: cannot remove node ${next}: node ${next} is the last voter: a quorum cannot be left without one$`) })
  const d = await until('the removed voters to fetch as observers', async () => {
    const d = await q.describe(next)
    return [L, other, 4].every((id) => d.observers.some((o) => o.nodeId === id && o.lag === 0)) ? d : null
  })
  t.strictSame(d.voters.map((v) => v.nodeId), [next])
})

t.test('usage errors exit 2 before any connection', async (t) => {
  const bs = ['-b', 'ws://127.0.0.1:9/'] // nothing listens: reaching it would be another error
  const cases: Array<[string[], RegExp]> = [
    [['resize'], /cluster: unknown subcommand 'resize' \(describe, add-voter, remove-voter\)/],
    [['describe', 'x', ...bs], /cluster describe: unexpected argument 'x'/],
    [['describe', '--timeout-ms', '5', ...bs], /cluster describe: unknown option '--timeout-ms'/],
    [['add-voter', '4', ...bs], /cluster add-voter: missing URL/],
    [['add-voter', ...bs], /cluster add-voter: missing ID URL/],
    [['add-voter', 'four', 'ws://h:1/', ...bs], /node ID must be an integer >= 0, got 'four'/],
    [['add-voter', '-1', 'ws://h:1/', ...bs], /unknown option '-1'/],
    [['add-voter', '4', 'http://h:1/', ...bs], /'http:\/\/h:1\/' must be a ws:\/\/ or wss:\/\/ URL/],
    [['add-voter', '4', 'ws://h:1/', '--timeout-ms', '0', ...bs], /--timeout-ms: expected an integer in \[1, 2147483647\], got '0'/],
    [['remove-voter', ...bs], /cluster remove-voter: missing ID/],
    [['remove-voter', '3', '4', ...bs], /unexpected argument '4'/],
    [['remove-voter', '99999999999', ...bs], /node ID must be an integer >= 0/],
  ]
  for (const [argv, message] of cases) {
    const err = await run(argv).catch((e: unknown) => e)
    t.type(err, UsageError, argv.join(' '))
    t.match((err as Error).message, message)
    t.equal(failureOf(err)?.exitCode, 2)
  }
})

t.test('help, and no subcommand', async (t) => {
  const help = await run(['--help'])
  t.equal(help.code, 0)
  t.match(help.lines[0], /^usage: bitacora cluster <describe\|add-voter\|remove-voter>/)
  t.strictSame(await run(['describe', '--help']), help)
  const errors: string[] = []
  const original = console.error
  console.error = (line: string) => void errors.push(line)
  try {
    t.equal((await run([])).code, 2)
  } finally {
    console.error = original
  }
  t.match(errors[0], /^usage: bitacora cluster/)
})

t.test('an unreachable cluster is one operational error naming the URL', async (t) => {
  const err = await run(['describe', '-b', 'ws://127.0.0.1:9/']).catch((e: unknown) => e)
  t.match(failureOf(err), { exitCode: 1, message: /cannot reach broker ws:\/\/127.0.0.1:9\// })
})
