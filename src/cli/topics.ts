// `bitacora topics create|list|describe|delete|alter|rebalance-leaders|reassign`: topic administration over the
// client's Admin. Results go to stdout; a per-topic refusal from the broker is an error.
import type { Client, ConfigEntry, PartitionInfo, PartitionReplicas, TopicDescription } from '../client/node.js'
import { intFlag, keyValues, positionals } from './args.js'
import { CLIENT_FLAGS, parseClientFlags } from './client-config.js'
import { CLIENT_HELP, bootstrapServers, withClient } from './connect.js'
import { OperationalError, UsageError } from './errors.js'
import { REASSIGN_FLAGS, reassign } from './topics-reassign.js'

export const TOPICS_USAGE = `usage: bitacora topics <create|list|describe|delete|alter|rebalance-leaders|reassign> [options]

  bitacora topics create TOPIC [--partitions N] [--replication-factor N] [--config K=V]... [--if-not-exists]
  bitacora topics list [--exclude-internal] [--json]
  bitacora topics describe [TOPIC...] [--all-configs] [--under-replicated] [--json]
  bitacora topics delete TOPIC [--if-exists]
  bitacora topics alter TOPIC [--set K=V]... [--reset K]...
  bitacora topics rebalance-leaders [TOPIC...]   hand leaderships back to preferred replicas (all topics by default)
  bitacora topics reassign TOPIC --partition P --replicas ID,ID,... [--no-wait] [--timeout-ms N]   move a partition (--cancel: reverse the move)

options:
  --partitions N           partition count (default: the broker's --default-partitions)
  --replication-factor N   replicas per partition (default: the broker's default)
  --config K=V             a topic config, e.g. retention.ms=86400000 (repeatable)
  --if-not-exists          create: succeed quietly if the topic exists
  --if-exists              delete: succeed quietly if the topic does not exist
  --exclude-internal       list: leave out internal topics
  --all-configs            describe: every config, not only those set on the topic
  --under-replicated       describe: only partitions whose ISR is smaller than their replicas
  -J, --json               list, describe: one JSON object per topic
  --set K=V                alter: set a config (repeatable)
  --reset K                alter: return a config to its default (repeatable)
${CLIENT_HELP}`

/** Each subcommand's flags (completion.ts reads them too). */
export const TOPICS_SPECS = {
  create: { ...CLIENT_FLAGS, partitions: 'string', 'replication-factor': 'string', config: 'list', 'if-not-exists': 'boolean' },
  list: { ...CLIENT_FLAGS, 'exclude-internal': 'boolean', json: 'boolean' },
  describe: { ...CLIENT_FLAGS, 'all-configs': 'boolean', 'under-replicated': 'boolean', json: 'boolean' },
  delete: { ...CLIENT_FLAGS, 'if-exists': 'boolean' },
  alter: { ...CLIENT_FLAGS, set: 'list', reset: 'list' },
  'rebalance-leaders': { ...CLIENT_FLAGS },
  reassign: REASSIGN_FLAGS,
} as const

type Print = (line: string) => void
const stdout: Print = (line) => process.stdout.write(`${line}\n`)

export async function topicsCommand(argv: string[], print: Print = stdout): Promise<number> {
  const [sub, ...rest] = argv
  switch (sub) {
    case 'create': return create(rest, print)
    case 'list': return list(rest, print)
    case 'describe': return describe(rest, print)
    case 'delete': return remove(rest, print)
    case 'alter': return alter(rest, print)
    case 'rebalance-leaders': return rebalanceLeaders(rest, print)
    case 'reassign': return reassign(rest, print)
    case undefined:
      console.error(TOPICS_USAGE)
      return 2
    case 'help':
    case '--help':
    case '-h':
      print(TOPICS_USAGE)
      return 0
    default:
      throw new UsageError(`topics: unknown subcommand '${sub}' (create, list, describe, delete, alter, rebalance-leaders, reassign)`)
  }
}

function help(flags: { help?: boolean }, print: Print): boolean {
  if (flags.help) print(TOPICS_USAGE)
  return flags.help === true
}

async function create(argv: string[], print: Print): Promise<number> {
  const { flags, positionals: args } = parseClientFlags('topics create', argv, TOPICS_SPECS.create)
  if (help(flags, print)) return 0
  const [topic] = positionals('topics create', args, ['topic'])
  const partitions = intFlag('partitions', flags.partitions, 1)
  const replicationFactor = intFlag('replication-factor', flags['replication-factor'], 1)
  const configs = Object.fromEntries(keyValues('config', flags.config))
  return withClient(bootstrapServers(flags['bootstrap-server']), async (client) => {
    const [result] = await client.admin().createTopics([{ topic, partitions, replicationFactor, configs }])
    if (result?.error?.code === 'TOPIC_ALREADY_EXISTS') {
      if (flags['if-not-exists']) return 0
      throw new OperationalError(`topic '${topic}' already exists`)
    }
    if (result?.error) throw result.error
    print(`created topic ${topic}`)
    return 0
  })
}

async function list(argv: string[], print: Print): Promise<number> {
  const { flags, positionals: args } = parseClientFlags('topics list', argv, TOPICS_SPECS.list)
  if (help(flags, print)) return 0
  positionals('topics list', args, [])
  return withClient(bootstrapServers(flags['bootstrap-server']), async (client) => {
    const topics = await client.admin().describeTopics()
    const shown = topics.filter((t) => !(flags['exclude-internal'] && t.internal)).sort((a, b) => a.topic.localeCompare(b.topic))
    for (const t of shown) print(flags.json ? JSON.stringify(listJson(t)) : t.topic)
    return 0
  })
}

async function describe(argv: string[], print: Print): Promise<number> {
  const { flags, positionals: names } = parseClientFlags('topics describe', argv, TOPICS_SPECS.describe)
  if (help(flags, print)) return 0
  return withClient(bootstrapServers(flags['bootstrap-server']), async (client) => {
    const topics = (await client.admin().describeTopics(names)).sort((a, b) => a.topic.localeCompare(b.topic))
    for (const t of topics) {
      if (t.error?.code === 'UNKNOWN_TOPIC_OR_PARTITION') throw new OperationalError(`unknown topic '${t.topic}'`)
      if (t.error) throw t.error
    }
    if (flags['under-replicated']) {
      // As kafka-topics.sh --under-replicated-partitions: only those partitions, without topic lines.
      const shown = topics.map((t) => ({ ...t, partitions: t.partitions.filter(underReplicated) })).filter((t) => t.partitions.length > 0)
      const [offsets, states] = await Promise.all([
        Promise.all(shown.map((t) => partitionOffsets(client, t))),
        Promise.all(shown.map((t) => replicaStates(client, t))),
      ])
      shown.forEach((t, i) => {
        if (flags.json) print(JSON.stringify(describeJson(t, [], offsets[i], states[i])))
        else for (const line of describeText(t, [], offsets[i], states[i]).slice(1)) print(line)
      })
      return 0
    }
    const [configs, offsets, states] = await Promise.all([
      topicConfigs(client, topics.filter((t) => !t.internal).map((t) => t.topic)),
      Promise.all(topics.map((t) => partitionOffsets(client, t))),
      Promise.all(topics.map((t) => replicaStates(client, t))),
    ])
    topics.forEach((t, i) => {
      const entries = configs.get(t.topic) ?? []
      if (flags.json) print(JSON.stringify(describeJson(t, entries, offsets[i], states[i])))
      else for (const line of describeText(t, flags['all-configs'] ? entries : entries.filter((e) => !e.isDefault), offsets[i], states[i])) print(line)
    })
    return 0
  })
}

async function remove(argv: string[], print: Print): Promise<number> {
  const { flags, positionals: args } = parseClientFlags('topics delete', argv, TOPICS_SPECS.delete)
  if (help(flags, print)) return 0
  const [topic] = positionals('topics delete', args, ['topic'])
  return withClient(bootstrapServers(flags['bootstrap-server']), async (client) => {
    const [result] = await client.admin().deleteTopics([topic])
    if (result?.error?.code === 'UNKNOWN_TOPIC_OR_PARTITION') {
      if (flags['if-exists']) return 0
      throw new OperationalError(`unknown topic '${topic}'`)
    }
    if (result?.error) throw result.error
    print(`deleted topic ${topic}`)
    return 0
  })
}

/** Preferred leader election (Kafka's kafka-leader-election --election-type preferred): one line per partition; exit 1 if any could not move. */
async function rebalanceLeaders(argv: string[], print: Print): Promise<number> {
  const { flags, positionals: names } = parseClientFlags('topics rebalance-leaders', argv, TOPICS_SPECS['rebalance-leaders'])
  if (help(flags, print)) return 0
  return withClient(bootstrapServers(flags['bootstrap-server']), async (client) => {
    const results = await client.admin().electPreferredLeaders(names.map((topic) => ({ topic })))
    let failed = 0
    for (const r of results) {
      const where = `${r.topic}/${r.partition}`
      if (r.error === null) print(`${where}: moved to its preferred replica`)
      else if (r.error.code === 'ELECTION_NOT_NEEDED') print(`${where}: its preferred replica leads already`)
      else {
        failed++
        print(`${where}: not moved: ${r.error.message}`) // the message starts with its code
      }
    }
    if (failed > 0) throw new OperationalError(`${failed} of ${results.length} partitions were not moved (above: why)`)
    return 0
  })
}

async function alter(argv: string[], print: Print): Promise<number> {
  const { flags, positionals: args } = parseClientFlags('topics alter', argv, TOPICS_SPECS.alter)
  if (help(flags, print)) return 0
  const [topic] = positionals('topics alter', args, ['topic'])
  const set = Object.fromEntries(keyValues('set', flags.set))
  const reset = flags.reset ?? []
  if (Object.keys(set).length === 0 && reset.length === 0) throw new UsageError('topics alter: give at least one --set K=V or --reset K')
  const both = reset.find((k) => Object.hasOwn(set, k))
  if (both !== undefined) throw new UsageError(`topics alter: '${both}' is both set and reset`)
  return withClient(bootstrapServers(flags['bootstrap-server']), async (client) => {
    const [result] = await client.admin().alterConfigs([{ type: 'topic', name: topic, set, reset }])
    if (result?.error?.code === 'UNKNOWN_TOPIC_OR_PARTITION') throw new OperationalError(`unknown topic '${topic}'`)
    if (result?.error) throw result.error
    print(`altered configs of topic ${topic}`)
    return 0
  })
}

/** Config entries per topic name (sorted by config name). */
async function topicConfigs(client: Client, topics: string[]): Promise<Map<string, ConfigEntry[]>> {
  if (topics.length === 0) return new Map()
  const results = await client.admin().describeConfigs(topics.map((name) => ({ type: 'topic' as const, name })))
  const out = new Map<string, ConfigEntry[]>()
  for (const r of results) {
    if (r.error) throw r.error
    out.set(r.resource.name, [...r.entries].sort((a, b) => a.name.localeCompare(b.name)))
  }
  return out
}

/** A partition's log start offset and high watermark (the latest offset). */
export interface PartitionOffsets {
  logStart: number
  highWatermark: number
}

/** Offsets of the partitions that have a leader to ask (others are left out). */
async function partitionOffsets(client: Client, t: TopicDescription): Promise<Map<number, PartitionOffsets>> {
  const led = t.partitions.filter((p) => p.leader >= 0 && !p.error).map((p) => p.partition)
  if (led.length === 0) return new Map()
  const [starts, ends] = await Promise.all([client.admin().listOffsets(t.topic, 'earliest', led), client.admin().listOffsets(t.topic, 'latest', led)])
  return new Map(led.map((p, i) => [p, { logStart: starts[i].offset, highWatermark: ends[i].offset }]))
}

/** The ISR Metadata shows (the controller's record of the leader's report) is smaller than the replicas. */
function underReplicated(p: TopicDescription['partitions'][number]): boolean {
  return p.inSyncReplicas.length < p.replicas.length
}

/** Each led partition's replicas as its leader knows them (others are left out: their lines say unknown). */
async function replicaStates(client: Client, t: TopicDescription): Promise<Map<number, PartitionReplicas>> {
  const led = t.partitions.filter((p) => p.leader >= 0 && !p.error).map((p) => p.partition)
  if (led.length === 0) return new Map()
  const answers = await client.admin().describeReplicas(t.topic, led)
  return new Map(answers.filter((a) => a.error === null).map((a) => [a.partition, a]))
}

/** Per replica, in replica order: `id=value` where the leader heard from it this epoch, else `id=unknown`. */
function perReplica(p: TopicDescription['partitions'][number], state: PartitionReplicas | undefined, value: (r: PartitionReplicas['replicas'][number]) => number): string {
  return p.replicas.map((id) => {
    const r = state?.replicas.find((x) => x.nodeId === id) ?? state?.observers.find((x) => x.nodeId === id)
    return `${id}=${r === undefined || value(r) < 0 ? 'unknown' : value(r)}`
  }).join(',')
}

/**
 * Kafka-style: a topic line, then one tab-indented line per partition with its offsets, and each
 * replica's log end and lag as the leader knows them (`states`, from DescribeQuorum).
 */
export function describeText(
  t: TopicDescription, configs: readonly ConfigEntry[], offsets: ReadonlyMap<number, PartitionOffsets> = new Map(), states: ReadonlyMap<number, PartitionReplicas> = new Map(),
): string[] {
  const rf = t.partitions[0]?.replicas.length ?? 0
  const cfg = configs.map((c) => `${c.name}=${c.value}`).join(',')
  const lines = [`Topic: ${t.topic}\tTopicId: ${t.topicId}\tPartitionCount: ${t.partitions.length}\tReplicationFactor: ${rf}\tConfigs: ${cfg}`]
  for (const p of t.partitions) {
    const leader = p.leader >= 0 ? String(p.leader) : 'none'
    const o = offsets.get(p.partition)
    const error = p.error ? `\tError: ${p.error.code}` : ''
    lines.push(`\tTopic: ${t.topic}\tPartition: ${p.partition}\tLeader: ${leader}\tLeaderEpoch: ${p.leaderEpoch}\tReplicas: ${p.replicas.join(',')}`
      + `\tIsr: ${p.inSyncReplicas.join(',')}\tLogStartOffset: ${o?.logStart ?? 'unknown'}\tHighWatermark: ${o?.highWatermark ?? 'unknown'}`
      + `\tLogEnd: ${perReplica(p, states.get(p.partition), (r) => r.logEndOffset)}\tLag: ${perReplica(p, states.get(p.partition), (r) => r.lag)}${movingText(p)}${error}`)
  }
  return lines
}

/** A move in progress as Kafka's describe shows it ("\tAdding Replicas: 4\tRemoving Replicas: 1"); nothing when none is. */
function movingText(p: PartitionInfo): string {
  if (p.addingReplicas === undefined && p.removingReplicas === undefined) return ''
  return `\tAdding Replicas: ${(p.addingReplicas ?? []).join(',')}\tRemoving Replicas: ${(p.removingReplicas ?? []).join(',')}`
}

/** The same in --json: addingReplicas / removingReplicas, only while a move is under way. */
function movingJson(p: PartitionInfo): { addingReplicas?: number[]; removingReplicas?: number[] } {
  if (p.addingReplicas === undefined && p.removingReplicas === undefined) return {}
  return { addingReplicas: p.addingReplicas ?? [], removingReplicas: p.removingReplicas ?? [] }
}

export function describeJson(
  t: TopicDescription, configs: readonly ConfigEntry[], offsets: ReadonlyMap<number, PartitionOffsets> = new Map(), states: ReadonlyMap<number, PartitionReplicas> = new Map(),
) {
  return {
    topic: t.topic,
    topicId: t.topicId,
    internal: t.internal,
    partitions: t.partitions.map((p) => ({
      partition: p.partition, leader: p.leader, leaderEpoch: p.leaderEpoch, replicas: p.replicas, isr: p.inSyncReplicas,
      logStartOffset: offsets.get(p.partition)?.logStart ?? null, highWatermark: offsets.get(p.partition)?.highWatermark ?? null,
      // Each replica as the leader knows it (null: the leader could not be asked; -1: not heard from this epoch).
      replicaStates: states.get(p.partition)?.replicas.map((r) => ({
        id: r.nodeId, logEndOffset: r.logEndOffset, flushedOffset: r.flushedOffset, lag: r.lag, lastFetchMsAgo: r.lastFetchMsAgo,
      })) ?? null,
      error: p.error?.code ?? null,
      ...movingJson(p),
    })),
    configs: Object.fromEntries(configs.map((c) => [c.name, c.value])),
    overrides: configs.filter((c) => !c.isDefault).map((c) => c.name),
  }
}

export function listJson(t: TopicDescription) {
  return { topic: t.topic, topicId: t.topicId, internal: t.internal, partitions: t.partitions.length, replicationFactor: t.partitions[0]?.replicas.length ?? 0 }
}
