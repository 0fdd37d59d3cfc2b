// Partition reassignment, decided by the active controller (Kafka's AlterPartitionReassignments).
// A move is recorded in the partition's metadata: `replicas` holds the new replicas and the old
// ones together (the target first, in its order, as Kafka does), with the replicas
// being added and those being removed; the target is replicas less removing. Every broker named
// hosts a replica meanwhile (new ones catch up as observers). The partition's leader changes its
// Raft group's voters one at a time toward the target (reassignment-steps.ts) and, once its
// committed voters are the target, asks the controller to complete the move: the final replicas
// are recorded and the removed brokers delete their replicas. A cancel reverses the move in
// progress: what was being added is now being removed and the other way round, so the group
// goes back, one voter at a time, to the replicas it started from. Pure (state.ts).
import { targetReplicas, type MetadataImage, type MetadataRecord, type PartitionImage } from '../../../metadata/image.js'
import { REPLICAS_PER_PARTITION_MAX } from '../../../metadata/limits.js'
import { ErrorCode } from '../../../protocol/index.js'
import { VOTERS_MAX } from '../../../raft/limits.js'
import { ADMIN_ITEMS_PER_REQUEST_MAX } from './limits.js'
import { refused, type ControllerError, type ControllerState, type Decision, type DecisionContext } from './state.js'

export interface ReassignPartition {
  readonly topic: string
  readonly partition: number
  /** The target replicas in preferred order, or null: cancel the move in progress. */
  readonly replicas: readonly number[] | null
}

export interface ReassignOutcome {
  readonly topic: string
  readonly partition: number
  readonly error: ControllerError | null
}

/** Records each valid move (or cancel); the others are refused one by one. */
export function alterPartitionReassignments(state: ControllerState, req: readonly ReassignPartition[], ctx: DecisionContext): Decision<readonly ReassignOutcome[]> {
  if (req.length > ADMIN_ITEMS_PER_REQUEST_MAX) return refused(ErrorCode.INVALID_REQUEST, `a request may reassign at most ${ADMIN_ITEMS_PER_REQUEST_MAX} partitions, got ${req.length}`)
  const outcomes: ReassignOutcome[] = []
  const records: MetadataRecord[] = []
  const seen = new Set<string>()
  let image = state.latest
  for (const r of req) {
    const key = `${r.topic}/${r.partition}`
    const decided = seen.has(key)
      ? { code: ErrorCode.INVALID_REQUEST, message: `partition ${key} appears twice in the request` }
      : reassignmentRecord(image, r)
    seen.add(key)
    if ('code' in decided) {
      outcomes.push({ topic: r.topic, partition: r.partition, error: decided })
      continue
    }
    if (decided.record !== null) {
      image = image.apply([decided.record])
      records.push(decided.record)
    }
    outcomes.push({ topic: r.topic, partition: r.partition, error: null })
  }
  return state.decided(outcomes, records, ctx)
}

/** The record that starts (or cancels) the move `r` (null: nothing to change), or why it is refused. */
function reassignmentRecord(image: MetadataImage, r: ReassignPartition): { record: MetadataRecord | null } | ControllerError {
  const topic = image.topic(r.topic)
  const p = topic?.partitionStates[r.partition]
  if (topic === undefined || p === undefined) {
    const message = topic === undefined ? `no topic named "${r.topic}"` : `topic "${r.topic}" has no partition ${r.partition} (it has ${topic.partitions})`
    return { code: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, message }
  }
  const base = { type: 'partitionReassignment', topicId: topic.id, partition: r.partition } as const
  if (r.replicas === null) {
    if (p.reassignment === undefined) return { code: ErrorCode.NO_REASSIGNMENT_IN_PROGRESS, message: `${r.topic}/${r.partition} is not being reassigned: nothing to cancel` }
    // Reversed: the group goes back to the replicas the move started from.
    return { record: { ...base, replicas: p.replicas, adding: p.reassignment.removing, removing: p.reassignment.adding } }
  }
  if (p.reassignment !== undefined) {
    return { code: ErrorCode.REASSIGNMENT_IN_PROGRESS, message: `${r.topic}/${r.partition} is being moved to ${targetReplicas(p).join(',')} already; wait for it to finish, or cancel it first` }
  }
  const problem = targetProblem(image, p, r.replicas)
  if (problem !== null) return { code: ErrorCode.INVALID_REPLICA_ASSIGNMENT, message: `${r.topic}/${r.partition}: ${problem}` }
  const adding = r.replicas.filter((id) => !p.replicas.includes(id))
  const removing = p.replicas.filter((id) => !r.replicas!.includes(id))
  if (adding.length === 0 && removing.length === 0) {
    // The same brokers: only the preferred order may change, and no voter has to.
    return { record: r.replicas.join() === p.replicas.join() ? null : { ...base, replicas: r.replicas, adding: [], removing: [] } }
  }
  // Kafka's order: the target first (its first is the preferred leader from now on), then those leaving.
  return { record: { ...base, replicas: [...r.replicas, ...removing], adding, removing } }
}

/** Why `target` cannot be a partition's replicas (it now has `p.replicas`), or null. */
function targetProblem(image: MetadataImage, p: PartitionImage, target: readonly number[]): string | null {
  if (target.length === 0 || target.length > REPLICAS_PER_PARTITION_MAX) return `a partition has 1..${REPLICAS_PER_PARTITION_MAX} replicas, ${target.length} were given`
  if (new Set(target).size !== target.length) return `replicas [${target.join(', ')}] name a broker twice`
  const unknown = target.filter((id) => image.broker(id) === undefined)
  if (unknown.length > 0) return `broker${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} ${unknown.length > 1 ? 'are' : 'is'} not registered`
  // Every new replica is a voter before any old one leaves: old and new together must fit a Raft group.
  const union = new Set([...p.replicas, ...target]).size
  if (union > VOTERS_MAX) return `old and new replicas together (${union}) would exceed ${VOTERS_MAX}, the most voters a partition's Raft group holds during the move; move in two steps`
  return null
}

export interface CompleteReassignmentRequest {
  readonly topicId: string
  readonly partition: number
  /** The broker that leads the partition (the one asking). */
  readonly leader: number
  readonly leaderEpoch: number
  /** Its Raft group's committed voters. */
  readonly voters: readonly number[]
}

/**
 * The partition's leader says its group's committed voters are `voters`: when those are the
 * target, the move is over and the target becomes the partition's replicas.
 */
export function completeReassignment(state: ControllerState, req: CompleteReassignmentRequest, ctx: DecisionContext): Decision<{ readonly replicas: readonly number[] }> {
  const topic = state.latest.topicById(req.topicId)
  const p = topic?.partitionStates[req.partition]
  if (topic === undefined || p === undefined) return refused(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `no partition ${req.partition} of topic id ${req.topicId} (deleted?)`)
  const where = `${topic.name}/${req.partition}`
  if (p.reassignment === undefined) return refused(ErrorCode.NO_REASSIGNMENT_IN_PROGRESS, `${where} is not being reassigned (completed already?)`)
  const target = targetReplicas(p)
  const same = req.voters.length === target.length && target.every((id) => req.voters.includes(id))
  if (!same) return refused(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `${where} moves to ${target.join(',')}, but its voters are ${req.voters.join(',')}: the move is not over`)
  if (!req.voters.includes(req.leader)) return refused(ErrorCode.INVALID_REQUEST, `broker ${req.leader} is not among the voters ${req.voters.join(',')} it reports`)
  const record: MetadataRecord = { type: 'partitionReassignment', topicId: topic.id, partition: req.partition, replicas: target, adding: [], removing: [] }
  return state.decided({ replicas: target }, [record], ctx)
}
