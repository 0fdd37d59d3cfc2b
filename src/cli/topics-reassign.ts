// `bitacora topics reassign TOPIC --partition P --replicas 1,2,4` (Kafka's
// kafka-reassign-partitions, one partition at a time): records the move, then follows it in the
// metadata until the partition's replicas are the target — the cluster changes its voters one at
// a time, new replicas catching up first — or until --timeout-ms (exit 1, the move goes on);
// --no-wait returns once the move is recorded. `--cancel` reverses the move in progress.
import type { Client, PartitionInfo } from '../client/node.js'
import { intFlag, positionals } from './args.js'
import { CLIENT_FLAGS, parseClientFlags } from './client-config.js'
import { bootstrapServers, describeTopic, withClient } from './connect.js'
import { OperationalError, UsageError } from './errors.js'
import { REASSIGN_POLL_MS, REASSIGN_WAIT_MS_DEFAULT } from './limits.js'

export const REASSIGN_FLAGS = { ...CLIENT_FLAGS, partition: 'string', replicas: 'string', cancel: 'boolean', 'no-wait': 'boolean', 'timeout-ms': 'string' } as const

export const REASSIGN_USAGE = `usage: bitacora topics reassign TOPIC --partition P (--replicas ID,ID,... | --cancel) [--no-wait] [--timeout-ms N]

  --partition P            the partition to move
  --replicas ID,ID,...     its new replicas, the preferred leader first
  --cancel                 reverse the move in progress (back to the brokers it started on)
  --no-wait                return once the move is recorded (topics describe shows its progress)
  --timeout-ms N           how long to wait for the move to finish (default ${REASSIGN_WAIT_MS_DEFAULT}); past it the
                           command exits 1 and the move goes on`

type Print = (line: string) => void

export async function reassign(argv: string[], print: Print): Promise<number> {
  const { flags, positionals: args } = parseClientFlags('topics reassign', argv, REASSIGN_FLAGS)
  if (flags.help) {
    print(REASSIGN_USAGE)
    return 0
  }
  const [topic] = positionals('topics reassign', args, ['topic'])
  const partition = intFlag('partition', flags.partition, 0, 0x7fffffff)
  if (partition === undefined) throw new UsageError('topics reassign: give --partition P')
  if (flags.cancel === true && flags.replicas !== undefined) throw new UsageError('topics reassign: give --replicas or --cancel, not both')
  const replicas = flags.cancel === true ? null : replicaList(flags.replicas)
  const timeoutMs = intFlag('timeout-ms', flags['timeout-ms'], 1, 0x7fffffff) ?? REASSIGN_WAIT_MS_DEFAULT
  return withClient(bootstrapServers(flags['bootstrap-server']), async (client) => {
    const [result] = await client.admin().alterPartitionReassignments([{ topic, partition, replicas }])
    if (result?.error) throw new OperationalError(`${topic}/${partition}: ${result.error.message}`)
    print(replicas === null ? `${topic}/${partition}: cancelling the move (going back)` : `${topic}/${partition}: moving to ${replicas.join(',')}`)
    if (flags['no-wait'] === true) return 0
    const done = await follow(client, topic, partition, replicas, timeoutMs, print)
    print(`${topic}/${partition}: replicas ${done.replicas.join(',')}, leader ${done.leader >= 0 ? done.leader : 'none'}`)
    return 0
  })
}

/** The target replicas: distinct non-negative broker ids. */
function replicaList(flag: string | undefined): number[] {
  if (flag === undefined || flag.trim() === '') throw new UsageError('topics reassign: give --replicas ID,ID,... (or --cancel)')
  const ids = flag.split(',').map((id) => intFlag('replicas', id, 0, 0x7fffffff)!)
  const twice = ids.find((id, i) => ids.indexOf(id) !== i)
  if (twice !== undefined) throw new UsageError(`topics reassign: --replicas names broker ${twice} twice`)
  return ids
}

/** Polls the partition's metadata until no move is under way (and, for a move, the replicas are the target), printing each change. */
async function follow(client: Client, topic: string, partition: number, target: readonly number[] | null, timeoutMs: number, print: Print): Promise<PartitionInfo> {
  const deadline = Date.now() + timeoutMs
  let last = ''
  for (;;) {
    const p = (await describeTopic(client, topic)).partitions.find((x) => x.partition === partition)
    if (p === undefined) throw new OperationalError(`${topic}/${partition}: the partition is gone (topic deleted?)`)
    const moving = p.addingReplicas !== undefined || p.removingReplicas !== undefined
    const arrived = target === null || (p.replicas.length === target.length && target.every((id) => p.replicas.includes(id)))
    if (!moving && arrived) return p
    const state = moving ? `adding ${list(p.addingReplicas)}, removing ${list(p.removingReplicas)}` : 'recorded, not yet visible here'
    if (state !== last) print(`${topic}/${partition}: ${state} (replicas ${p.replicas.join(',')}, leader ${p.leader >= 0 ? p.leader : 'none'})`)
    last = state
    if (Date.now() >= deadline) {
      throw new OperationalError(`${topic}/${partition} is still moving after ${timeoutMs} ms (${state}): a new replica down or behind? It goes on; \`topics describe\` shows it, \`topics reassign ${topic} --partition ${partition} --cancel\` reverses it`)
    }
    await new Promise((resolve) => setTimeout(resolve, REASSIGN_POLL_MS))
  }
}

function list(ids: readonly number[] | undefined): string {
  return ids === undefined || ids.length === 0 ? 'none' : ids.join(',')
}
