// ElectLeaders (Request 22, Kafka's with election type PREFERRED): hands each named partition's
// leadership — every partition's when none is named — back to its preferred replica, through
// this node (controller/node/preferred-leaders.ts). Any node serves it, from its own image.
import { ErrorCode, wireError, type bitacora } from '../../protocol/index.js'
import type { ElectionSelection } from '../controller/decisions/leader-balance.js'
import { ELECT_LEADERS_TIMEOUT_MS_DEFAULT } from '../controller/decisions/limits.js'
import type { PreferredLeaders } from '../controller/node/preferred-leaders.js'
import { adminTimeoutMs } from './create-topics.js'

export async function electLeaders(leaders: Pick<PreferredLeaders, 'elect'>, req: bitacora.IElectLeadersRequest): Promise<bitacora.IElectLeadersResponse> {
  const topics = req.topics ?? []
  const selection: ElectionSelection = topics.length === 0 ? null : topics.map((t) => ({ topic: t.name ?? '', partitions: t.partitions?.length ? t.partitions : null }))
  const results = await leaders.elect(selection, adminTimeoutMs(req.timeoutMs, ELECT_LEADERS_TIMEOUT_MS_DEFAULT))
  return {
    results: results.map((r) => ({ topic: r.topic, partition: r.partition, error: r.code === ErrorCode.NONE ? null : wireError(r.code, r.message) })),
  }
}
