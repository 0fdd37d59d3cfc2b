// `bitacora groups reset-offsets GROUP`: Kafka's kafka-consumer-groups --reset-offsets. The group
// must have no active members (checked first, and again by the coordinator, which refuses an
// admin's commit to a group with members: a consumer joining meanwhile gets no half-applied
// plan). A dry run (the default) prints the plan; --execute commits it in one write.
import type { Client, TopicDescription } from '../client/node.js'
import { positionals } from './args.js'
import { CLIENT_FLAGS, parseClientFlags } from './client-config.js'
import { bootstrapServers, describeTopic, withClient } from './connect.js'
import { OperationalError, UsageError } from './errors.js'
import { checkGroupId, found, help, type Print } from './groups-args.js'
import { clampNote, parseResetMode, parseScope, planReset, type PartitionFacts, type PlannedOffset, type ResetMode, type ScopeEntry } from './groups-plan.js'
import { table } from './table.js'

export const RESET_FLAGS = {
  ...CLIENT_FLAGS, 'to-earliest': 'boolean', 'to-latest': 'boolean', 'to-offset': 'string', 'to-datetime': 'string', 'by-duration': 'string', 'shift-by': 'string',
  topic: 'list', 'all-topics': 'boolean', 'dry-run': 'boolean', execute: 'boolean', json: 'boolean',
} as const

export async function resetOffsets(argv: string[], print: Print, note: Print, nowMs = Date.now()): Promise<number> {
  const { flags, positionals: args } = parseClientFlags('groups reset-offsets', argv, RESET_FLAGS)
  if (help(flags, print)) return 0
  const [groupId] = positionals('groups reset-offsets', args, ['group'])
  checkGroupId('groups reset-offsets', groupId)
  const mode = parseResetMode(flags, nowMs)
  if (flags['dry-run'] && flags.execute) throw new UsageError('groups reset-offsets: give --dry-run or --execute, not both')
  const topics = flags.topic ?? []
  if (topics.length > 0 && flags['all-topics']) throw new UsageError('groups reset-offsets: give --topic or --all-topics, not both')
  if (topics.length === 0 && !flags['all-topics']) throw new UsageError('groups reset-offsets: give the scope: --topic TOPIC[:P,P...] (repeatable) or --all-topics')
  const scope = flags['all-topics'] ? null : parseScope(topics)
  return withClient(bootstrapServers(flags['bootstrap-server']), async (client) => {
    await refuseActive(client, groupId)
    const plan = planReset(mode, await facts(client, groupId, scope, mode))
    for (const p of plan) {
      const n = clampNote(p)
      if (n !== null) note(n)
    }
    if (flags.execute) await client.admin().alterGroupOffsets(groupId, plan.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.newOffset })))
    if (flags.json) for (const p of plan) print(JSON.stringify(planJson(groupId, p)))
    else for (const line of planText(groupId, plan)) print(line)
    note(flags.execute ? `reset ${plan.length} partition(s) of group ${groupId}` : 'dry run: nothing changed (--execute applies the plan)')
    return 0
  })
}

/** As Kafka: offsets are reset only while the group is inactive (an unknown group is: the reset creates it). */
async function refuseActive(client: Client, groupId: string): Promise<void> {
  const [g] = await client.admin().describeGroups([groupId])
  if (g.error?.code === 'GROUP_ID_NOT_FOUND') return
  const members = found(g).members.length
  if (members > 0) {
    throw new OperationalError(`group ${groupId} has ${members} active member(s) (state ${g.state}): offsets can be reset only while it has none; stop its consumers first`)
  }
}

/** The partitions in scope with their log start and end, committed offset and (time modes) offset at the time. */
async function facts(client: Client, groupId: string, scope: readonly ScopeEntry[] | null, mode: ResetMode): Promise<PartitionFacts[]> {
  const committed = await client.admin().fetchGroupOffsets(groupId)
  const chosen = scope ?? committedScope(groupId, committed)
  const committedOf = new Map(committed.map((c) => [`${c.topic}:${c.partition}`, c.offset]))
  const perTopic = await Promise.all(chosen.map(async (s) => {
    const partitions = partitionsIn(s, await describeTopic(client, s.topic))
    const admin = client.admin()
    const [starts, ends, atTime] = await Promise.all([
      admin.listOffsets(s.topic, 'earliest', partitions),
      admin.listOffsets(s.topic, 'latest', partitions),
      mode.kind === 'time' ? admin.listOffsets(s.topic, { timestamp: mode.timestamp }, partitions) : null,
    ])
    return partitions.map((partition, i): PartitionFacts => ({
      topic: s.topic, partition, logStart: starts[i].offset, logEnd: ends[i].offset,
      committed: committedOf.get(`${s.topic}:${partition}`) ?? -1, ...(atTime ? { atTime: atTime[i].offset } : {}),
    }))
  }))
  return perTopic.flat()
}

/** --all-topics: the topics the group has committed offsets for, each whole (as Kafka). */
function committedScope(groupId: string, committed: readonly { topic: string; offset: number }[]): ScopeEntry[] {
  const topics = [...new Set(committed.filter((c) => c.offset >= 0).map((c) => c.topic))].sort()
  if (topics.length === 0) throw new OperationalError(`group ${groupId} has no committed offsets, so --all-topics names no topic: name them with --topic`)
  return topics.map((topic) => ({ topic, partitions: null }))
}

function partitionsIn(s: ScopeEntry, t: TopicDescription): number[] {
  const count = t.partitions.length
  if (s.partitions === null) return [...Array(count).keys()]
  const missing = s.partitions.find((p) => p >= count)
  if (missing !== undefined) throw new OperationalError(`topic '${s.topic}' has no partition ${missing} (it has ${count}: 0 to ${count - 1})`)
  return [...s.partitions]
}

/** Kafka's columns. */
export function planText(groupId: string, plan: readonly PlannedOffset[]): string[] {
  return table([['GROUP', 'TOPIC', 'PARTITION', 'NEW-OFFSET'], ...plan.map((p) => [groupId, p.topic, String(p.partition), String(p.newOffset)])])
}

export function planJson(groupId: string, p: PlannedOffset) {
  return { group: groupId, topic: p.topic, partition: p.partition, newOffset: p.newOffset, previousOffset: p.previousOffset >= 0 ? p.previousOffset : null, clamped: p.clamped }
}
