// `bitacora cluster describe|add-voter|remove-voter` in process, against real nodes (listener,
// sessions, API table, WebSockets) whose quorum is the stand-in until the real one runs in a
// broker: what each prints, its usage errors (exit 2) and operational ones (exit 1).
import t, { type Test } from 'tap'
import { clusterCommand, describeText } from '../../src/cli/cluster.js'
import { failureOf, UsageError } from '../../src/cli/errors.js'
import type { QuorumDescription } from '../../src/client/node.js'
import { QuorumStandIn } from '../broker/api/quorum-stand-in.js'
import { listenNode, type QuorumNode } from '../client/quorum-node.js'

async function cluster(t: Test, n: number, leaderId: number | null) {
  const nodes: QuorumNode[] = []
  for (let id = 1; id <= n; id++) {
    const node = await listenNode(id, 'c-test')
    t.teardown(() => node.stop())
    nodes.push(node)
  }
  const voters = new Map(nodes.map((node, i) => [i + 1, node.url]))
  const quorums = nodes.map((_, i) => new QuorumStandIn({ nodeId: i + 1, voters, leaderId, leaderEpoch: 3, highWatermark: 57 }))
  for (const [i, node] of nodes.entries()) await node.serve(quorums[i])
  return { nodes, quorums }
}

async function run(argv: string[]): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = []
  const code = await clusterCommand(argv, (line) => lines.push(line))
  return { code, lines }
}

t.test('describe: status, then replicas leader first, then brokers', async (t) => {
  const { nodes, quorums } = await cluster(t, 3, 2)
  quorums[1].observe(4, 'ws://127.0.0.1:9/', 7)
  const { code, lines } = await run(['describe', '-b', nodes[0].url])
  t.equal(code, 0)
  const [u1, u2, u3] = nodes.map((n) => n.url)
  const w = u1.length
  t.strictSame(lines, [
    'ClusterId:        c-test',
    'LeaderId:         2',
    'LeaderEpoch:      3',
    'HighWatermark:    57',
    'MaxFollowerLag:   7',
    'CurrentVoters:    [1,2,3]',
    'CurrentObservers: [4]',
    '',
    `NodeId  DirectoryId  ${'Url'.padEnd(w)}  LogEndOffset  Lag  LastFetchMsAgo  Status`,
    `2       unknown      ${u2.padEnd(w)}  57            0    0               Leader`,
    `1       unknown      ${u1.padEnd(w)}  57            0    120             Follower`,
    `3       unknown      ${u3.padEnd(w)}  57            0    120             Follower`,
    `4       unknown      ${'ws://127.0.0.1:9/'.padEnd(w)}  50            7    120             Observer`,
    '',
    'Brokers: none registered',
  ])
})

t.test('describe --json: the whole description, as the client gives it', async (t) => {
  const { nodes } = await cluster(t, 2, 1)
  const { code, lines } = await run(['describe', '--json', '-b', nodes[1].url])
  t.equal(code, 0)
  t.equal(lines.length, 1)
  const d = JSON.parse(lines[0]) as QuorumDescription
  t.match(d, { clusterId: 'c-test', leaderId: 1, leaderEpoch: 3, highWatermark: 57, answeredBy: 1, observers: [], brokers: [] })
  t.strictSame(d.voters.map((v) => [v.nodeId, v.url, v.logEndOffset, v.lag]), [[1, nodes[0].url, 57, 0], [2, nodes[1].url, 57, 0]])
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

t.test('add-voter asked of a follower: made at the controller; remove-voter likewise', async (t) => {
  const { nodes, quorums } = await cluster(t, 3, 3)
  quorums[2].observe(4, 'ws://127.0.0.1:9/', 0)
  t.strictSame(await run(['add-voter', '4', '127.0.0.1:9', '--timeout-ms', '2000', '-b', nodes[0].url]), {
    code: 0, lines: ['node 4 is a voter now; voters: 1, 2, 3, 4'],
  })
  t.strictSame(quorums[2].addVoterCalls, [{ nodeId: 4, url: 'ws://127.0.0.1:9/', timeoutMs: 2000 }], 'host:port became the ws:// URL')
  t.strictSame(await run(['remove-voter', '1', '-b', nodes[1].url]), { code: 0, lines: ['node 1 is no longer a voter; voters: 2, 3, 4'] })
})

t.test('the controller\'s refusals are operational errors (exit 1) with its message', async (t) => {
  const { nodes } = await cluster(t, 1, 1)
  const cases: Array<[string[], RegExp]> = [
    [['remove-voter', '1'], /INVALID_REQUEST: .*node 1 is the last voter; a quorum needs one/],
    [['remove-voter', '7'], /node 7 is not a voter/],
    [['add-voter', '1', 'ws://127.0.0.1:9/'], /node 1 is already a voter/],
    [['add-voter', '5', 'ws://127.0.0.1:9/', '--timeout-ms', '30'], /REQUEST_TIMED_OUT: .*node 5 did not catch up within 30 ms; it stays an observer/],
  ]
  for (const [argv, message] of cases) {
    const err = await run([...argv, '-b', nodes[0].url]).catch((e: unknown) => e)
    t.match(failureOf(err), { exitCode: 1, message }, argv.join(' '))
  }
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
