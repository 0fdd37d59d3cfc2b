// `bitacora cluster describe|add-voter|remove-voter`: the controller quorum, as Kafka's
// `kafka-metadata-quorum describe --status --replication` and `add-controller` /
// `remove-controller` show and change it, over the client's Admin.
import { ClientError, type QuorumDescription, type QuorumReplica } from '../client/node.js'
import { intFlag, positionals } from './args.js'
import { CLIENT_FLAGS, parseClientFlags } from './client-config.js'
import { CLIENT_HELP, bootstrapServers, withClient } from './connect.js'
import { OperationalError, UsageError } from './errors.js'
import { table } from './table.js'

export const CLUSTER_USAGE = `usage: bitacora cluster <describe|add-voter|remove-voter> [options]

  bitacora cluster describe [--json]
  bitacora cluster add-voter ID URL [--timeout-ms N]
  bitacora cluster remove-voter ID

  describe      the controller quorum: cluster id, leader, epoch, high watermark; each voter's and
                observer's log end offset, lag and last fetch (known to the leader only: the answer
                comes from the leader when it can be reached); the brokers and whether each is fenced
  add-voter     make node ID, listening at URL (ws://HOST:PORT/), a controller voter once it has
                caught up with the metadata log as an observer (one voter change at a time)
  remove-voter  take node ID out of the controller voters (the last voter cannot go)

options:
  -J, --json               describe: one JSON object
  --timeout-ms N           add-voter: how long the node may take to catch up (default 60000)
${CLIENT_HELP}`

/** Each subcommand's flags (completion.ts reads them too). */
export const CLUSTER_SPECS = {
  describe: { ...CLIENT_FLAGS, json: 'boolean' },
  'add-voter': { ...CLIENT_FLAGS, 'timeout-ms': 'string' },
  'remove-voter': { ...CLIENT_FLAGS },
} as const

type Print = (line: string) => void
const stdout: Print = (line) => process.stdout.write(`${line}\n`)

export async function clusterCommand(argv: string[], print: Print = stdout): Promise<number> {
  const [sub, ...rest] = argv
  switch (sub) {
    case 'describe': return describe(rest, print)
    case 'add-voter': return addVoter(rest, print)
    case 'remove-voter': return removeVoter(rest, print)
    case undefined:
      console.error(CLUSTER_USAGE)
      return 2
    case 'help':
    case '--help':
    case '-h':
      print(CLUSTER_USAGE)
      return 0
    default:
      throw new UsageError(`cluster: unknown subcommand '${sub}' (describe, add-voter, remove-voter)`)
  }
}

async function describe(argv: string[], print: Print): Promise<number> {
  const { flags, positionals: args } = parseClientFlags('cluster describe', argv, CLUSTER_SPECS.describe)
  if (flags.help) return help(print)
  positionals('cluster describe', args, [])
  return withClient(bootstrapServers(flags['bootstrap-server']), async (client) => {
    const d = await client.admin().describeQuorum()
    if (flags.json) print(JSON.stringify(d))
    else for (const line of describeText(d)) print(line)
    return 0
  })
}

async function addVoter(argv: string[], print: Print): Promise<number> {
  const { flags, positionals: args } = parseClientFlags('cluster add-voter', argv, CLUSTER_SPECS['add-voter'])
  if (flags.help) return help(print)
  const [idArg, urlArg] = positionals('cluster add-voter', args, ['id', 'url'])
  const id = nodeIdArg(idArg)
  const url = nodeUrlArg(urlArg)
  const timeoutMs = intFlag('timeout-ms', flags['timeout-ms'], 1, 0x7fffffff)
  return withClient(bootstrapServers(flags['bootstrap-server']), async (client) => {
    const voters = await change(`add-voter ${id}`, client.admin().addVoter(id, url, { timeoutMs }))
    print(`node ${id} is a voter now; voters: ${voters.join(', ')}`)
    return 0
  })
}

async function removeVoter(argv: string[], print: Print): Promise<number> {
  const { flags, positionals: args } = parseClientFlags('cluster remove-voter', argv, CLUSTER_SPECS['remove-voter'])
  if (flags.help) return help(print)
  const [idArg] = positionals('cluster remove-voter', args, ['id'])
  const id = nodeIdArg(idArg)
  return withClient(bootstrapServers(flags['bootstrap-server']), async (client) => {
    const voters = await change(`remove-voter ${id}`, client.admin().removeVoter(id))
    print(`node ${id} is no longer a voter; voters: ${voters.join(', ')}`)
    return 0
  })
}

function help(print: Print): number {
  print(CLUSTER_USAGE)
  return 0
}

/** A voter change; an answer lost on the way may hide a change that was made: say so. */
async function change(what: string, made: Promise<number[]>): Promise<number[]> {
  try {
    return await made
  } catch (err) {
    if (err instanceof ClientError && (err.code === 'CONNECTION_CLOSED' || err.code === 'REQUEST_TIMEOUT')) {
      throw new OperationalError(`${what}: ${err.message}; the change may have been made: see bitacora cluster describe`)
    }
    throw err
  }
}

function nodeIdArg(given: string): number {
  if (!/^\d+$/.test(given) || Number(given) > 0x7fffffff) throw new UsageError(`cluster: node ID must be an integer >= 0, got '${given}'`)
  return Number(given)
}

/** The node's listener URL; `host:port` means `ws://host:port/`. */
function nodeUrlArg(given: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(given) ? given : `ws://${given}`
  let url: URL
  try {
    url = new URL(withScheme)
  } catch {
    throw new UsageError(`cluster add-voter: '${given}' is not a URL (give the node's ws://HOST:PORT/)`)
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new UsageError(`cluster add-voter: '${given}' must be a ws:// or wss:// URL`)
  return url.href
}

/** Kafka's describe --status, then --replication as a table, then the brokers. */
export function describeText(d: QuorumDescription): string[] {
  const lags = [...d.voters, ...d.observers].filter((r) => r.nodeId !== d.leaderId).map((r) => r.lag)
  const maxLag = lags.length === 0 ? 0 : lags.includes(-1) ? -1 : Math.max(...lags)
  const lines = [
    `ClusterId:        ${d.clusterId}`,
    `LeaderId:         ${d.leaderId >= 0 ? d.leaderId : 'none (no controller elected)'}`,
    `LeaderEpoch:      ${d.leaderEpoch}`,
    `HighWatermark:    ${d.highWatermark}`,
    `MaxFollowerLag:   ${known(maxLag)}`,
    `CurrentVoters:    [${d.voters.map((v) => v.nodeId).join(',')}]`,
    `CurrentObservers: [${d.observers.map((o) => o.nodeId).join(',')}]`,
  ]
  if (d.answeredBy !== d.leaderId) {
    lines.push(`(answered by node ${d.answeredBy}${d.leaderId >= 0 ? `: the leader could not be reached` : ''}; only the leader knows the replicas' positions)`)
  }
  const role = (r: QuorumReplica, voter: boolean) => (r.nodeId === d.leaderId ? 'Leader' : voter ? 'Follower' : 'Observer')
  const replicas = [
    ...d.voters.map((r) => [r, role(r, true)] as const),
    ...d.observers.map((r) => [r, role(r, false)] as const),
  ].sort(([a, ra], [b, rb]) => rank(ra) - rank(rb) || a.nodeId - b.nodeId)
  lines.push('', ...table([
    ['NodeId', 'DirectoryId', 'Url', 'LogEndOffset', 'Lag', 'LastFetchMsAgo', 'Status'],
    ...replicas.map(([r, status]) => [
      String(r.nodeId), r.directoryId || 'unknown', r.url || 'unknown', known(r.logEndOffset), known(r.lag), known(r.lastFetchMsAgo), status,
    ]),
  ]))
  lines.push('')
  if (d.brokers.length === 0) lines.push('Brokers: none registered')
  else lines.push(...table([['BrokerId', 'Url', 'Rack', 'Fenced'], ...d.brokers.map((b) => [String(b.id), b.url, b.rack || '-', String(b.fenced)])]))
  return lines
}

const rank = (status: string) => ['Leader', 'Follower', 'Observer'].indexOf(status)

function known(n: number): string {
  return n < 0 ? 'unknown' : String(n)
}
