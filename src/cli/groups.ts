// `bitacora groups list|describe|delete|reset-offsets`: consumer group administration over the
// client's Admin, in the shape of Kafka's kafka-consumer-groups (its columns, its refusals).
// Results go to stdout; notes (a group with no active members) to stderr.
import type { Client, GroupDescription, GroupListing } from '../client/node.js'
import { positionals } from './args.js'
import { CLIENT_FLAGS, parseClientFlags } from './client-config.js'
import { bootstrapServers, withClient } from './connect.js'
import { OperationalError, UsageError } from './errors.js'
import { GROUPS_USAGE, checkGroupId, found, help, type Print } from './groups-args.js'
import { RESET_FLAGS, resetOffsets } from './groups-reset.js'
import { table } from './table.js'

/** Each subcommand's flags (completion.ts reads them too). */
export const GROUPS_SPECS = {
  list: { ...CLIENT_FLAGS, json: 'boolean' },
  describe: { ...CLIENT_FLAGS, 'all-groups': 'boolean', members: 'boolean', state: 'boolean', json: 'boolean' },
  delete: { ...CLIENT_FLAGS },
  'reset-offsets': RESET_FLAGS,
} as const

const stdout: Print = (line) => process.stdout.write(`${line}\n`)
const stderr: Print = (line) => process.stderr.write(`${line}\n`)

export async function groupsCommand(argv: string[], print: Print = stdout, note: Print = stderr): Promise<number> {
  const [sub, ...rest] = argv
  switch (sub) {
    case 'list': return list(rest, print)
    case 'describe': return describe(rest, print, note)
    case 'delete': return remove(rest, print)
    case 'reset-offsets': return resetOffsets(rest, print, note)
    case undefined:
      console.error(GROUPS_USAGE)
      return 2
    case 'help':
    case '--help':
    case '-h':
      print(GROUPS_USAGE)
      return 0
    default:
      throw new UsageError(`groups: unknown subcommand '${sub}' (list, describe, delete, reset-offsets)`)
  }
}

async function list(argv: string[], print: Print): Promise<number> {
  const { flags, positionals: args } = parseClientFlags('groups list', argv, GROUPS_SPECS.list)
  if (help(flags, print)) return 0
  positionals('groups list', args, [])
  return withClient(bootstrapServers(flags['bootstrap-server']), async (client) => {
    const groups = await client.admin().listGroups()
    if (flags.json) for (const g of groups) print(JSON.stringify({ group: g.groupId, state: g.state, members: g.members, assignor: g.assignor }))
    else if (groups.length > 0) for (const line of listText(groups)) print(line)
    return 0
  })
}

export function listText(groups: readonly GroupListing[]): string[] {
  return table([['GROUP', 'STATE', 'MEMBERS', 'ASSIGNOR'], ...groups.map((g) => [g.groupId, g.state, String(g.members), g.assignor])])
}

async function describe(argv: string[], print: Print, note: Print): Promise<number> {
  const { flags, positionals: names } = parseClientFlags('groups describe', argv, GROUPS_SPECS.describe)
  if (help(flags, print)) return 0
  if (flags['all-groups'] && names.length > 0) throw new UsageError('groups describe: give GROUP... or --all-groups, not both')
  if (!flags['all-groups'] && names.length === 0) throw new UsageError('groups describe: missing GROUP (or --all-groups)')
  if (flags.members && flags.state) throw new UsageError('groups describe: give --members or --state, not both')
  for (const id of names) checkGroupId('groups describe', id)
  return withClient(bootstrapServers(flags['bootstrap-server']), async (client) => {
    const ids = flags['all-groups'] ? (await client.admin().listGroups()).map((g) => g.groupId) : names
    const groups = (await client.admin().describeGroups(ids)).map(found)
    const views = await Promise.all(groups.map((g) => groupView(client, g)))
    views.forEach((v, i) => {
      if (flags.json) return print(JSON.stringify(describeJson(v)))
      if (i > 0) print('')
      if (v.group.members.length === 0 && !flags.state) note(`Consumer group '${v.group.groupId}' has no active members.`)
      for (const line of flags.state ? stateText(v.group) : flags.members ? membersText(v.group) : offsetsText(v)) print(line)
    })
    return 0
  })
}

async function remove(argv: string[], print: Print): Promise<number> {
  const { flags, positionals: names } = parseClientFlags('groups delete', argv, GROUPS_SPECS.delete)
  if (help(flags, print)) return 0
  if (names.length === 0) throw new UsageError('groups delete: missing GROUP')
  for (const id of names) checkGroupId('groups delete', id)
  return withClient(bootstrapServers(flags['bootstrap-server']), async (client) => {
    const results = await client.admin().deleteGroups(names)
    let failed = 0
    for (const r of results) {
      if (r.error === null) print(`deleted group ${r.groupId}`)
      else {
        failed++
        if (r.error.code === 'GROUP_ID_NOT_FOUND') print(`group ${r.groupId}: not deleted: unknown group`)
        else print(`group ${r.groupId}: not deleted: ${r.error.message}`) // the message starts with its code
      }
    }
    if (failed > 0) throw new OperationalError(`${failed} of ${results.length} groups were not deleted (above: why)`)
    return 0
  })
}

/** One partition as describe shows it: owned by a member, or only committed. */
export interface PartitionRow {
  topic: string
  partition: number
  /** -1: nothing committed. */
  committed: number
  /** null: the partition's leader could not be asked (a deleted topic, no leader). */
  logEnd: number | null
  memberId: string | null
}

export interface GroupView {
  group: GroupDescription
  rows: PartitionRow[]
}

/** Every partition a member owns (assigned or being revoked) or the group committed, with its log end. */
async function groupView(client: Client, group: GroupDescription): Promise<GroupView> {
  const committed = await client.admin().fetchGroupOffsets(group.groupId)
  const rows = new Map<string, PartitionRow>()
  const row = (topic: string, partition: number): PartitionRow => {
    const key = `${topic}:${partition}`
    let r = rows.get(key)
    if (r === undefined) rows.set(key, (r = { topic, partition, committed: -1, logEnd: null, memberId: null }))
    return r
  }
  for (const m of group.members) for (const t of [...m.assignment, ...m.pendingRevocation]) for (const p of t.partitions) row(t.topic, p).memberId = m.memberId
  for (const c of committed) if (c.offset >= 0) row(c.topic, c.partition).committed = c.offset
  const byTopic = new Map<string, PartitionRow[]>()
  for (const r of rows.values()) byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), r])
  // A topic deleted since the group committed (or a partition it no longer has): its log end stays unknown.
  const existing = byTopic.size === 0 ? [] : (await client.admin().describeTopics([...byTopic.keys()])).filter((t) => t.error === null)
  await Promise.all(existing.map(async (t) => {
    const list = (byTopic.get(t.topic) ?? []).filter((r) => r.partition < t.partitions.length)
    if (list.length === 0) return
    const ends = await client.admin().listOffsets(t.topic, 'latest', list.map((r) => r.partition))
    ends.forEach((e, i) => (list[i].logEnd = e.offset))
  }))
  return { group, rows: [...rows.values()].sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition)) }
}

const lagOf = (r: PartitionRow): number | null => (r.committed >= 0 && r.logEnd !== null ? Math.max(0, r.logEnd - r.committed) : null)
const dash = (n: number | null) => (n === null || n < 0 ? '-' : String(n))

/** kafka-consumer-groups --describe: a row per partition, and a row for each member that owns none. */
export function offsetsText(v: GroupView): string[] {
  const g = v.group
  const member = (id: string | null) => g.members.find((m) => m.memberId === id)
  const rows = v.rows.map((r) => {
    const m = member(r.memberId)
    return [g.groupId, r.topic, String(r.partition), dash(r.committed), r.logEnd === null ? 'unknown' : String(r.logEnd), dash(lagOf(r)), m?.memberId ?? '-', m?.clientHost || '-', m?.clientId || '-']
  })
  const idle = g.members.filter((m) => !v.rows.some((r) => r.memberId === m.memberId))
  for (const m of idle) rows.push([g.groupId, '-', '-', '-', '-', '-', m.memberId, m.clientHost || '-', m.clientId || '-'])
  return table([['GROUP', 'TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID'], ...rows])
}

const assignmentText = (list: GroupDescription['members'][number]['assignment']) => list.map((t) => `${t.topic}(${t.partitions.join(',')})`).join(',') || '-'

/** kafka-consumer-groups --describe --members --verbose. */
export function membersText(g: GroupDescription): string[] {
  return table([
    ['GROUP', 'CONSUMER-ID', 'HOST', 'CLIENT-ID', '#PARTITIONS', 'ASSIGNMENT'],
    ...g.members.map((m) => [g.groupId, m.memberId, m.clientHost || '-', m.clientId || '-', String(m.assignment.reduce((n, t) => n + t.partitions.length, 0)), assignmentText(m.assignment)]),
  ])
}

/** kafka-consumer-groups --describe --state. */
export function stateText(g: GroupDescription): string[] {
  return table([
    ['GROUP', 'COORDINATOR (ID)', 'ASSIGNMENT-STRATEGY', 'STATE', '#MEMBERS'],
    [g.groupId, `${g.coordinator.url} (${g.coordinator.nodeId})`, g.assignor, g.state, String(g.members.length)],
  ])
}

export function describeJson(v: GroupView) {
  const g = v.group
  return {
    group: g.groupId, state: g.state, assignor: g.assignor, groupEpoch: g.groupEpoch, assignmentEpoch: g.assignmentEpoch,
    coordinator: { id: g.coordinator.nodeId, url: g.coordinator.url },
    members: g.members.map((m) => ({
      memberId: m.memberId, instanceId: m.instanceId, clientId: m.clientId, host: m.clientHost, memberEpoch: m.memberEpoch, state: m.state,
      subscribedTopics: m.subscribedTopicNames, subscribedTopicRegex: m.subscribedTopicRegex,
      assignment: m.assignment, pendingRevocation: m.pendingRevocation, target: m.target,
    })),
    // null where there is nothing to show: no committed offset, an unknown log end, no owner.
    offsets: v.rows.map((r) => ({
      topic: r.topic, partition: r.partition, currentOffset: r.committed >= 0 ? r.committed : null, logEndOffset: r.logEnd, lag: lagOf(r), memberId: r.memberId,
    })),
  }
}
