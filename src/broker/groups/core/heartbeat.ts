// ConsumerGroupHeartbeat (KIP-848) as a pure step: the group and a heartbeat in, the records to
// write (already replayed onto the returned group) and the answer out. A member joins with epoch
// 0, heartbeats with the epoch it was given, leaves with -1 (or -2: a static member that will be
// back, keeping its partitions until its session times out).
import {
  ASSIGNORS,
  CLIENT_FIELD_CHARS_MAX,
  GROUP_ID_CHARS_MAX,
  HEARTBEAT_INTERVALS_PER_SESSION,
  HEARTBEAT_INTERVAL_MS_DEFAULT,
  INSTANCE_ID_CHARS_MAX,
  MEMBERS_PER_GROUP_MAX,
  MEMBER_ID_CHARS_MAX,
  PARTITIONS_PER_REQUEST_MAX,
  REBALANCE_TIMEOUT_MS_DEFAULT,
  REBALANCE_TIMEOUT_MS_MAX,
  REBALANCE_TIMEOUT_MS_MIN,
  RECONCILING_HEARTBEAT_INTERVAL_MS,
  SESSION_TIMEOUT_MS_DEFAULT,
  SESSION_TIMEOUT_MS_MAX,
  SESSION_TIMEOUT_MS_MIN,
} from '../limits.js'
import { groupError, type GroupError } from './errors.js'
import { memberRemoval, replayAll, type GroupRecord } from './records.js'
import { reconcile } from './reconcile.js'
import type { GroupState, MemberAssignment, MemberMetadata } from './state.js'
import { computeTarget, groupEpochBump } from './target.js'
import { subscriptionProblem } from './subscription.js'
import { EMPTY, equal, has, size, type TopicPartitions } from './topic-partitions.js'

export const JOIN_EPOCH = 0
export const LEAVE_EPOCH = -1
export const STATIC_LEAVE_EPOCH = -2

export interface Subscription {
  readonly topicNames: readonly string[]
  /** An RE2 pattern (whole names); null to subscribe by names. */
  readonly topicRegex: string | null
}

export interface HeartbeatRequest {
  readonly groupId: string
  /** Drawn by the member (a UUID) when it first joins, kept across its rejoins. */
  readonly memberId: string
  readonly memberEpoch: number
  readonly instanceId: string | null
  readonly rackId: string | null
  /** Null: unchanged (required when joining). */
  readonly subscription: Subscription | null
  readonly serverAssignor: string | null
  readonly sessionTimeoutMs: number | null
  readonly rebalanceTimeoutMs: number | null
  /** What the member owns now; null: unchanged since its last heartbeat. */
  readonly owned: TopicPartitions | null
  readonly clientId: string
  readonly clientHost: string
}

export interface HeartbeatResponse {
  readonly error: GroupError | null
  readonly memberId: string
  readonly memberEpoch: number
  readonly heartbeatIntervalMs: number
  /** The partitions the member may consume now (the whole set); null with an error. */
  readonly assignment: TopicPartitions | null
}

export interface HeartbeatContext {
  readonly nowMs: number
  /** Partition count of every topic of the cluster. */
  readonly topics: ReadonlyMap<string, number>
}

export interface Step<R> {
  readonly group: GroupState
  readonly records: readonly GroupRecord[]
  readonly response: R
  /**
   * False: the records may go in several batches, in order, because every prefix of them leaves
   * a group the log may hold (DeleteGroups' tombstones, the group's own last). Otherwise (the
   * default) they are one batch or nothing, and a step too large for one batch is refused whole.
   */
  readonly atomic?: boolean
}

function refuse(group: GroupState, request: HeartbeatRequest, error: GroupError): Step<HeartbeatResponse> {
  return { group, records: [], response: { error, memberId: request.memberId, memberEpoch: -1, heartbeatIntervalMs: 0, assignment: null } }
}

/** Why the request is malformed, or null. */
export function heartbeatProblem(request: HeartbeatRequest): GroupError | null {
  const invalid = (message: string) => groupError('INVALID_REQUEST', message)
  if (request.groupId.length === 0 || request.groupId.length > GROUP_ID_CHARS_MAX) return groupError('INVALID_GROUP_ID', `a group id is 1 to ${GROUP_ID_CHARS_MAX} characters`)
  if (request.memberId.length === 0 || request.memberId.length > MEMBER_ID_CHARS_MAX) return invalid(`a member id is 1 to ${MEMBER_ID_CHARS_MAX} characters (the member draws a UUID)`)
  if (!Number.isInteger(request.memberEpoch) || request.memberEpoch < STATIC_LEAVE_EPOCH) return invalid(`member epoch ${request.memberEpoch} is not an epoch (0 joins, -1 leaves, -2 leaves for now with an instance id)`)
  if (request.memberEpoch === STATIC_LEAVE_EPOCH && request.instanceId === null) return invalid('member epoch -2 (leave and come back) needs an instance id')
  if (request.instanceId !== null && (request.instanceId.length === 0 || request.instanceId.length > INSTANCE_ID_CHARS_MAX)) return invalid(`an instance id is 1 to ${INSTANCE_ID_CHARS_MAX} characters`)
  for (const [name, v] of [['rack id', request.rackId ?? ''], ['client id', request.clientId], ['client host', request.clientHost]] as const) {
    if (v.length > CLIENT_FIELD_CHARS_MAX) return invalid(`the ${name} is longer than ${CLIENT_FIELD_CHARS_MAX} characters`)
  }
  if (request.memberEpoch === JOIN_EPOCH && request.subscription === null) return invalid('a member joining (epoch 0) must send its subscription')
  if (request.subscription) {
    const problem = subscriptionProblem(request.subscription.topicNames, request.subscription.topicRegex)
    if (problem) return groupError(request.subscription.topicRegex !== null ? 'INVALID_REGULAR_EXPRESSION' : 'INVALID_REQUEST', problem)
  }
  if (request.serverAssignor !== null && !(ASSIGNORS as readonly string[]).includes(request.serverAssignor)) {
    return groupError('UNSUPPORTED_ASSIGNOR', `no server-side assignor "${request.serverAssignor}": use one of ${ASSIGNORS.join(', ')}`)
  }
  const bounded = (name: string, v: number | null, min: number, max: number) =>
    v !== null && (!Number.isInteger(v) || v < min || v > max) ? invalid(`the ${name} ${v} ms is outside ${min}..${max} ms`) : null
  const timeouts =
    bounded('session timeout', request.sessionTimeoutMs, SESSION_TIMEOUT_MS_MIN, SESSION_TIMEOUT_MS_MAX) ??
    bounded('rebalance timeout', request.rebalanceTimeoutMs, REBALANCE_TIMEOUT_MS_MIN, REBALANCE_TIMEOUT_MS_MAX)
  if (timeouts) return timeouts
  if (request.owned && size(request.owned) > PARTITIONS_PER_REQUEST_MAX) return invalid(`a member owns at most ${PARTITIONS_PER_REQUEST_MAX} partitions`)
  return null
}

export function heartbeat(group: GroupState, request: HeartbeatRequest, ctx: HeartbeatContext): Step<HeartbeatResponse> {
  const problem = heartbeatProblem(request)
  if (problem) return refuse(group, request, problem)
  if (request.groupId !== group.groupId) throw new Error(`heartbeat of group ${request.groupId} given group ${group.groupId}`)
  if (request.memberEpoch === LEAVE_EPOCH || request.memberEpoch === STATIC_LEAVE_EPOCH) return leave(group, request, ctx)
  const records: GroupRecord[] = []
  let next = group
  const write = (rs: readonly GroupRecord[]) => {
    records.push(...rs)
    next = replayAll(next, rs)
  }
  // Static membership: a member joining under the instance id of one that left for now takes its place.
  let tookOver = false
  if (request.memberEpoch === JOIN_EPOCH && request.instanceId !== null) {
    const holder = [...group.members.values()].find((m) => m.instanceId === request.instanceId)
    const held = holder && group.current.get(holder.memberId)
    if (holder && held && held.memberEpoch === STATIC_LEAVE_EPOCH) {
      write(takeOver(group, holder.memberId, request.memberId))
      tookOver = true
    } else if (holder && holder.memberId !== request.memberId) {
      return refuse(group, request, groupError('UNRELEASED_INSTANCE_ID', `instance id ${request.instanceId} is held by live member ${holder.memberId}: stop that one first, or use another instance id`))
    }
  }
  if (!tookOver && request.memberEpoch === JOIN_EPOCH && next.members.has(request.memberId)) {
    // A member joining again under its id (it was fenced, or its first answer was lost) has
    // released everything it had: it starts afresh.
    write(memberRemoval(group.groupId, request.memberId))
  }
  const existing = next.members.get(request.memberId)
  if (!existing) {
    if (request.memberEpoch !== JOIN_EPOCH) return refuse(group, request, groupError('UNKNOWN_MEMBER_ID', `member ${request.memberId} is not in group ${group.groupId} (removed after its session timed out?): join again with epoch 0`))
    if (next.members.size >= MEMBERS_PER_GROUP_MAX) return refuse(group, request, groupError('GROUP_MAX_SIZE_REACHED', `group ${group.groupId} has ${MEMBERS_PER_GROUP_MAX} members, the most it may have`))
  } else if (!tookOver) {
    const fenced = epochFence(next.current.get(request.memberId)!, request)
    if (fenced) return refuse(group, request, fenced)
  }
  const metadata = memberMetadata(existing, request)
  const joined = !existing
  if (joined || !sameMetadata(existing, metadata)) write([{ kind: 'member', groupId: group.groupId, memberId: request.memberId, value: metadata }])
  if (joined && !next.current.has(request.memberId)) {
    write([{ kind: 'current', groupId: group.groupId, memberId: request.memberId, value: { memberEpoch: 0, previousMemberEpoch: -1, state: 'stable', assigned: EMPTY, pendingRevocation: EMPTY } }])
  }
  write(groupEpochBump(next, ctx.topics, joined || subscriptionChanged(existing, metadata)))
  write(computeTarget(next))
  const current = next.current.get(request.memberId)!
  const reconciled = reconcile({
    current,
    targetEpoch: next.assignmentEpoch,
    target: next.target.get(request.memberId) ?? EMPTY,
    reported: request.owned,
    ownedByOthers: ownedByOthers(next, request.memberId),
  })
  if (!sameAssignment(current, reconciled)) write([{ kind: 'current', groupId: group.groupId, memberId: request.memberId, value: reconciled }])
  next = withDeadlines(next, request.memberId, current, reconciled, ctx.nowMs)
  const interval = Math.min(HEARTBEAT_INTERVAL_MS_DEFAULT, Math.floor(metadata.sessionTimeoutMs / HEARTBEAT_INTERVALS_PER_SESSION))
  return {
    group: next,
    records,
    response: {
      error: null,
      memberId: request.memberId,
      memberEpoch: reconciled.memberEpoch,
      heartbeatIntervalMs: reconciled.state === 'stable' ? interval : Math.min(interval, RECONCILING_HEARTBEAT_INTERVAL_MS),
      assignment: reconciled.assigned,
    },
  }
}

/**
 * A heartbeat's epoch must be the member's, or its previous one when the member owns nothing it
 * was not given since (the answer that moved its epoch was lost): anything else is a zombie.
 */
function epochFence(current: MemberAssignment, request: HeartbeatRequest): GroupError | null {
  if (request.memberEpoch === current.memberEpoch) return null
  const ownsOnlyAssigned = request.owned !== null && [...request.owned].every(([t, ps]) => ps.every((p) => has(current.assigned, t, p)))
  if (request.memberEpoch === current.previousMemberEpoch && ownsOnlyAssigned) return null
  return groupError('FENCED_MEMBER_EPOCH', `member ${request.memberId} sent epoch ${request.memberEpoch} but is at ${current.memberEpoch}: it lost its partitions; stop consuming them and join again with epoch 0`)
}

function leave(group: GroupState, request: HeartbeatRequest, ctx: HeartbeatContext): Step<HeartbeatResponse> {
  const current = group.current.get(request.memberId)
  const answer = (g: GroupState, records: GroupRecord[]): Step<HeartbeatResponse> => ({
    group: g,
    records,
    response: { error: null, memberId: request.memberId, memberEpoch: request.memberEpoch, heartbeatIntervalMs: 0, assignment: EMPTY },
  })
  if (!current) return refuse(group, request, groupError('UNKNOWN_MEMBER_ID', `member ${request.memberId} is not in group ${group.groupId}`))
  if (request.memberEpoch === STATIC_LEAVE_EPOCH) {
    // It stopped consuming, so it owns nothing now; it keeps its place in the target until it is
    // back (and takes its partitions again at once) or its session times out.
    const away: MemberAssignment = { memberEpoch: STATIC_LEAVE_EPOCH, previousMemberEpoch: current.memberEpoch, state: 'stable', assigned: EMPTY, pendingRevocation: EMPTY }
    const records: GroupRecord[] = [{ kind: 'current', groupId: group.groupId, memberId: request.memberId, value: away }]
    return answer(replayAll(group, records), records)
  }
  const records: GroupRecord[] = memberRemoval(group.groupId, request.memberId)
  const removed = replayAll(group, records)
  const bump = groupEpochBump(removed, ctx.topics, true)
  return answer(replayAll(removed, bump), [...records, ...bump])
}

/**
 * The records that give a static member's place (metadata, target, current assignment at the
 * epoch it had before it left) to the member now joining under its instance id.
 */
function takeOver(group: GroupState, fromId: string, toId: string): GroupRecord[] {
  const g = group.groupId
  const current = group.current.get(fromId)!
  const records: GroupRecord[] = []
  if (fromId !== toId) {
    const target = group.target.get(fromId)
    records.push(...memberRemoval(g, fromId), { kind: 'member', groupId: g, memberId: toId, value: { ...group.members.get(fromId)!, memberId: toId } })
    if (target) records.push({ kind: 'target', groupId: g, memberId: toId, value: target })
  }
  records.push({ kind: 'current', groupId: g, memberId: toId, value: { ...current, memberEpoch: current.previousMemberEpoch } })
  return records
}

function memberMetadata(existing: MemberMetadata | undefined, request: HeartbeatRequest): MemberMetadata {
  return {
    memberId: request.memberId,
    instanceId: request.instanceId ?? existing?.instanceId ?? null,
    rackId: request.rackId ?? existing?.rackId ?? null,
    clientId: request.clientId,
    clientHost: request.clientHost,
    subscribedTopicNames: request.subscription?.topicNames ?? existing?.subscribedTopicNames ?? [],
    subscribedTopicRegex: request.subscription ? request.subscription.topicRegex : (existing?.subscribedTopicRegex ?? null),
    serverAssignor: request.serverAssignor ?? existing?.serverAssignor ?? ASSIGNORS[0],
    sessionTimeoutMs: request.sessionTimeoutMs ?? existing?.sessionTimeoutMs ?? SESSION_TIMEOUT_MS_DEFAULT,
    rebalanceTimeoutMs: request.rebalanceTimeoutMs ?? existing?.rebalanceTimeoutMs ?? REBALANCE_TIMEOUT_MS_DEFAULT,
  }
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i])

function subscriptionChanged(a: MemberMetadata | undefined, b: MemberMetadata): boolean {
  return !a || !sameList(a.subscribedTopicNames, b.subscribedTopicNames) || a.subscribedTopicRegex !== b.subscribedTopicRegex || a.serverAssignor !== b.serverAssignor
}

function sameMetadata(a: MemberMetadata, b: MemberMetadata): boolean {
  return (
    !subscriptionChanged(a, b) &&
    a.instanceId === b.instanceId &&
    a.rackId === b.rackId &&
    a.clientId === b.clientId &&
    a.clientHost === b.clientHost &&
    a.sessionTimeoutMs === b.sessionTimeoutMs &&
    a.rebalanceTimeoutMs === b.rebalanceTimeoutMs
  )
}

function sameAssignment(a: MemberAssignment, b: MemberAssignment): boolean {
  return (
    a.memberEpoch === b.memberEpoch &&
    a.previousMemberEpoch === b.previousMemberEpoch &&
    a.state === b.state &&
    equal(a.assigned, b.assigned) &&
    equal(a.pendingRevocation, b.pendingRevocation)
  )
}

/** Whether a member other than `memberId` owns the partition (assigned, or revoked and not yet released). */
export function ownedByOthers(group: GroupState, memberId: string): (topic: string, partition: number) => boolean {
  const owned = new Set<string>()
  for (const [id, a] of group.current) {
    if (id === memberId) continue
    for (const tps of [a.assigned, a.pendingRevocation]) for (const [t, ps] of tps) for (const p of ps) owned.add(`${t}\u0000${p}`)
  }
  return (topic, partition) => owned.has(`${topic}\u0000${partition}`)
}

function withDeadlines(group: GroupState, memberId: string, before: MemberAssignment, after: MemberAssignment, nowMs: number): GroupState {
  const metadata = group.members.get(memberId)!
  const previous = group.deadlines.get(memberId)
  const revocationDeadlineMs =
    after.state !== 'unrevoked' ? null : before.state === 'unrevoked' && previous?.revocationDeadlineMs != null ? previous.revocationDeadlineMs : nowMs + metadata.rebalanceTimeoutMs
  const deadlines = new Map(group.deadlines)
  deadlines.set(memberId, { sessionDeadlineMs: nowMs + metadata.sessionTimeoutMs, revocationDeadlineMs })
  return { ...group, deadlines }
}
