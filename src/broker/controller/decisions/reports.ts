// What brokers report to the active controller and ask of it besides membership and topics:
// partition leaders (elected inside each partition's Raft group; recorded so every node can
// answer Metadata) and blocks of producer ids. Pure (state.ts).
import { isrProblemOf, leaderIsNews, type MetadataRecord } from '../../../metadata/image.js'
import { PRODUCER_ID_MAX } from '../../../metadata/limits.js'
import { ErrorCode } from '../../../protocol/index.js'
import { LEADER_REPORTS_PER_REQUEST_MAX } from './limits.js'
import { refused, type ControllerState, type Decision, type DecisionContext } from './state.js'

export interface LeaderReport {
  readonly topicId: string
  readonly partition: number
  /** -1: no leader known in that epoch. */
  readonly leader: number
  readonly leaderEpoch: number
  /** The leader's in-sync replicas (it among them); absent or empty: not said. */
  readonly isr?: readonly number[]
}

export interface LeaderReportsAnswer {
  /** Partitions whose leader was news, now recorded. */
  readonly recorded: number
  /** Reports ignored, and why: stale (an equal or newer epoch is recorded or reported), or not about a partition of the image. */
  readonly ignored: ReadonlyArray<{ readonly report: LeaderReport; readonly reason: string }>
}

/**
 * Records the reports that are news. Reports come batched (a restart reports every partition at
 * once) and are re-sent in full to each new controller, so most are stale; and a lagging broker
 * may report a partition of a topic deleted since. Neither is an error. A report of the recorded
 * epoch and leader with another ISR is news (Kafka's AlterPartition): the leader's ISR shrank or
 * grew; one of an older epoch is stale, its ISR with it.
 */
export function reportLeaders(state: ControllerState, reports: readonly LeaderReport[], ctx: DecisionContext): Decision<LeaderReportsAnswer> {
  if (reports.length > LEADER_REPORTS_PER_REQUEST_MAX) {
    return refused(ErrorCode.INVALID_REQUEST, `a request may carry at most ${LEADER_REPORTS_PER_REQUEST_MAX} leader reports, got ${reports.length}; send several`)
  }
  const ignored: Array<{ report: LeaderReport; reason: string }> = []
  /** The newest report of this request per partition (reports compare against it too): one record each. */
  const newest = new Map<string, LeaderReport>()
  for (const report of reports) {
    const { topicId, partition, leader, leaderEpoch } = report
    const topic = state.latest.topicById(topicId)
    const p = topic?.partitionStates[partition]
    if (!topic || !p) {
      const reason = topic ? `topic "${topic.name}" has no partition ${partition}` : `no topic has id ${topicId} (deleted, or never created)`
      ignored.push({ report, reason })
      continue
    }
    if (!Number.isSafeInteger(leaderEpoch) || leaderEpoch < 0 || (leader !== -1 && !p.replicas.includes(leader))) {
      ignored.push({ report, reason: `leader ${leader} in epoch ${leaderEpoch} cannot be: the replicas are ${p.replicas.join(', ')}` })
      continue
    }
    const isrProblem = isrProblemOf(report.isr ?? [], leader, p.replicas)
    if (isrProblem !== null) {
      ignored.push({ report, reason: isrProblem })
      continue
    }
    const key = `${topicId}/${partition}`
    const current = newest.get(key) ?? p
    if (!leaderIsNews(current, report)) {
      const isrSaid = current === p ? p.isrReported : current.isr !== undefined && current.isr.length > 0
      const isr = isrSaid ? ` with ISR ${[...current.isr!].sort((a, b) => a - b).join(',')}` : ''
      ignored.push({ report, reason: `stale: epoch ${current.leaderEpoch} (leader ${current.leader})${isr} is ${current === p ? 'recorded' : 'reported in this request'}` })
      continue
    }
    newest.set(key, report)
  }
  const records = [...newest.values()].map((r): MetadataRecord => ({
    type: 'partitionLeader', topicId: r.topicId, partition: r.partition, leader: r.leader, leaderEpoch: r.leaderEpoch,
    ...(r.isr !== undefined && r.isr.length > 0 ? { isr: [...r.isr].sort((a, b) => a - b) } : {}),
  }))
  return state.decided({ recorded: records.length, ignored }, records, ctx)
}

export interface ProducerIdsRequest {
  readonly brokerId: number
  readonly incarnationId: string
}

/** Hands the broker the next block of producer ids, never handed out before. */
export function allocateProducerIds(state: ControllerState, req: ProducerIdsRequest, ctx: DecisionContext): Decision<{ readonly firstId: number; readonly size: number }> {
  const broker = state.latest.broker(req.brokerId)
  if (!broker || broker.incarnationId !== req.incarnationId) {
    return refused(ErrorCode.BROKER_ID_NOT_REGISTERED, `broker ${req.brokerId} with incarnation ${req.incarnationId} is not registered; register before asking for producer ids`)
  }
  const firstId = state.latest.nextProducerId
  const size = state.config.producerIdBlockSize
  if (firstId + size - 1 > PRODUCER_ID_MAX) return refused(ErrorCode.UNKNOWN_SERVER_ERROR, `the cluster has handed out every producer id up to ${PRODUCER_ID_MAX}`)
  return state.decided({ firstId, size }, [{ type: 'producerIdBlock', brokerId: req.brokerId, firstId, size }], ctx)
}
