// `bitacora format`: prepares a node's data directory before its first start, as Kafka's
// `kafka-storage format`: writes its meta.properties (cluster id, node id, a new directory id)
// through the broker's own data-dir.ts, so a cluster id made once is shared by every node.
// A directory that already belongs to this node of this cluster is left as it is; one that
// belongs to another node or cluster is refused, having written nothing. `--random-cluster-id`
// prints a new cluster id (as `kafka-storage random-uuid`).
import { randomUUID } from 'node:crypto'
import { openDataDir } from '../broker/data-dir.js'
import { StartupError } from '../broker/startup-error.js'
import { NodeFileLayer } from '../storage/index.js'
import { intFlag, parseFlags, positionals } from './args.js'
import { OperationalError, UsageError } from './errors.js'

export const FORMAT_USAGE = `usage: bitacora format --data-dir DIR --id N --cluster-id ID
       bitacora format --random-cluster-id

Prepares a node's data directory: writes the cluster id, the node id and a new directory id
(meta.properties). A directory already formatted for this node and cluster is left as it is;
one that belongs to another node or cluster is refused. Start the node with the same --id and
--cluster-id (or none: it reads them from the directory).

options:
  --data-dir DIR           the node's data directory (created if missing)
  --id N                   the node id (>= 0)
  --cluster-id ID          the cluster's id: ${'`'}bitacora format --random-cluster-id${'`'} makes one;
                           letters, digits, '-' and '_', at most 64
  --random-cluster-id      print a new cluster id and exit`

export const FORMAT_SPEC = { help: 'boolean', 'data-dir': 'string', id: 'string', 'cluster-id': 'string', 'random-cluster-id': 'boolean' } as const

/** A cluster id goes into meta.properties and log lines as it is: a short, plain token. */
const CLUSTER_ID = /^[A-Za-z0-9_-]{1,64}$/

/** Why `id` cannot be a cluster id, or null. */
export function clusterIdProblem(id: string): string | null {
  return CLUSTER_ID.test(id) ? null : `'${id}' is not a cluster id: use letters, digits, '-' and '_', at most 64 (bitacora format --random-cluster-id makes one)`
}

type Print = (line: string) => void
const stdout: Print = (line) => process.stdout.write(`${line}\n`)

export async function formatCommand(argv: string[], print: Print = stdout): Promise<number> {
  const { flags, positionals: args } = parseFlags('format', argv, FORMAT_SPEC)
  if (flags.help) {
    print(FORMAT_USAGE)
    return 0
  }
  positionals('format', args, [])
  if (flags['random-cluster-id']) {
    const others = (['data-dir', 'id', 'cluster-id'] as const).filter((f) => flags[f] !== undefined)
    if (others.length > 0) throw new UsageError(`format: give --random-cluster-id alone (not with --${others[0]})`)
    print(randomUUID())
    return 0
  }
  const missing = (['data-dir', 'id', 'cluster-id'] as const).filter((f) => flags[f] === undefined)
  if (missing.length > 0) throw new UsageError(`format: missing ${missing.map((f) => `--${f}`).join(', ')} (see bitacora format --help)`)
  const dir = flags['data-dir']!
  if (dir === '') throw new UsageError('format: --data-dir must not be empty')
  const nodeId = intFlag('id', flags.id, 0, 0x7fffffff)!
  const clusterId = flags['cluster-id']!
  const problem = clusterIdProblem(clusterId)
  if (problem) throw new UsageError(`format: --cluster-id ${problem}`)
  let identity
  try {
    const dataDir = await openDataDir(new NodeFileLayer(), dir, { nodeId, clusterId })
    identity = dataDir.identity
    await dataDir.release()
  } catch (err) {
    if (err instanceof StartupError) throw new OperationalError(`format: ${err.message}`)
    throw err
  }
  print(`data directory ${dir}: node ${identity.nodeId} of cluster ${identity.clusterId} (directory id ${identity.directoryId})`)
  return 0
}
