// LeaderReports (Request 33): a broker tells the active controller which data partitions it
// leads, in which epochs (elected inside each partition's Raft group); the controller records the
// reports that are news, so every node's Metadata names the leader. Peer connections only, and
// only about the node the connection proved: a broker reports its own leaderships, never
// another's (broker-registration.ts refuses the same way).
import { uuidHex } from '../../metadata/uuid.js'
import { wireError, type bitacora, type ResponseProps } from '../../protocol/index.js'
import type { Decided } from '../controller/active/membership-service.js'
import type { LeaderReport, LeaderReportsAnswer } from '../controller/decisions/reports.js'
import { membershipRefusal, uuidRefusal } from './broker-registration.js'

/** What the API uses of the controller: the reports decided (controller/decisions/reports.ts), answered once committed. */
export interface LeaderReports {
  report(reports: readonly LeaderReport[]): Promise<Decided<LeaderReportsAnswer>>
}

export async function leaderReports(leaders: LeaderReports, req: bitacora.ILeaderReportsRequest, peer: number | null): Promise<ResponseProps> {
  const brokerId = req.brokerId ?? 0
  const refusal = membershipRefusal('report leaders', brokerId, peer)
  if (refusal !== null) return refusal
  const reports: LeaderReport[] = []
  for (const [i, r] of (req.reports ?? []).entries()) {
    const badId = uuidRefusal(`reports[${i}].topic_id`, r.topicId)
    if (badId !== null) return badId
    const isr = r.isr !== null && r.isr !== undefined && r.isr.length > 0 ? { isr: r.isr } : {}
    reports.push({ topicId: uuidHex(r.topicId!), partition: r.partition ?? 0, leader: brokerId, leaderEpoch: r.leaderEpoch ?? 0, ...isr })
  }
  const result = await leaders.report(reports)
  if (!result.ok) return { error: wireError(result.error.code, result.error.message) }
  return { leaderReports: { recorded: result.answer.recorded, ignored: result.answer.ignored.length } }
}
