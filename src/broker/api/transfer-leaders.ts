// TransferLeaders (Request 34): a node carrying out a preferred election asks this broker to hand
// leaderships of its replicas to other replicas (partition/leadership-transfer.ts). Peer
// connections only: a client moves leaders with ElectLeaders, which checks what it asks.
import { uuidHex } from '../../metadata/uuid.js'
import { wireError, type bitacora, type ResponseProps } from '../../protocol/index.js'
import { transferLeaderships, type LeadershipTransfer } from '../partition/leadership-transfer.js'
import type { PartitionReplica } from '../partition/replica.js'
import { ELECT_LEADERS_TIMEOUT_MS_DEFAULT } from '../controller/decisions/limits.js'
import { ErrorCode } from '../../protocol/index.js'
import { uuidRefusal } from './broker-registration.js'
import { adminTimeoutMs } from './create-topics.js'

export async function transferLeaders(
  replicas: { replica(topicId: string, partition: number): PartitionReplica | undefined }, req: bitacora.ITransferLeadersRequest, peer: number | null,
): Promise<ResponseProps> {
  if (peer === null) return { error: wireError(ErrorCode.POLICY_VIOLATION, 'only a broker of this cluster may transfer leaderships; clients use ElectLeaders') }
  const transfers: LeadershipTransfer[] = []
  for (const [i, t] of (req.transfers ?? []).entries()) {
    const badId = uuidRefusal(`transfers[${i}].topic_id`, t.topicId)
    if (badId !== null) return badId
    transfers.push({ topicId: uuidHex(t.topicId!), partition: t.partition ?? 0, target: t.target ?? 0 })
  }
  const outcomes = await transferLeaderships(replicas, transfers, adminTimeoutMs(req.timeoutMs, ELECT_LEADERS_TIMEOUT_MS_DEFAULT))
  return { transferLeaders: { errors: outcomes.map((o) => ({ code: o.code, message: o.message })) } }
}
