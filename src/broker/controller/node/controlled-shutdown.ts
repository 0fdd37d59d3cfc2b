// Controlled shutdown (as Kafka's): before a broker of a cluster closes anything, it hands the
// metadata log's leadership to a caught-up voter (when it leads it), then tells the active
// controller it is going, which fences it at once: clients and peers move away now rather than
// after a fetch timeout and a 9 s lease. One deadline bounds it all (the caller's, e.g.
// CONTROLLED_SHUTDOWN_TIMEOUT_MS); a step that cannot succeed (no live voter to hand over to,
// no controller to tell) is skipped rather than waited out. Data partitions' leaders resign as
// they close, after this (PartitionReplica.close). A one-node cluster has no one to tell.
import type { NodeId } from '../../../raft/types.js'
import { RAFT_TIMING } from '../../limits.js'
import type { Logger } from '../../log.js'
import type { BrokerLifecycle } from './lifecycle.js'
import type { MetadataNode } from './metadata-node.js'

export interface ControlledShutdownParts {
  readonly metadata: MetadataNode
  readonly lifecycle: BrokerLifecycle
  readonly log: Logger
  /** Whether this node's peer link to `node` is open now (a peer that exited closed it). */
  readonly linkOpen: (node: NodeId) => boolean
}

/** Hands over the metadata leadership and has the controller fence this broker, within `timeoutMs`. Never rejects. */
export async function controlledShutdown(o: ControlledShutdownParts, timeoutMs: number): Promise<void> {
  const m = o.metadata
  if (m.standalone) return o.lifecycle.stop()
  const deadline = Date.now() + timeoutMs
  if (m.controllerId === m.nodeId) await handOver(o, deadline)
  if (noQuorum(o)) {
    o.log.info('no controller can fence this broker for its shutdown; its lease will', { controller: m.controllerId })
    return o.lifecycle.stop()
  }
  // Every node stopping at once (./cluster.sh down): the quorum goes with them, so stop waiting
  // for the controller's answer as soon as it cannot come, not at the deadline.
  const told = o.lifecycle.shutDown(Math.max(1, deadline - Date.now()))
  const gone = onTickUntil(m, () => noQuorum(o), deadline)
  await Promise.race([told, gone.then((hopeless) => hopeless && o.log.info('the metadata quorum went away during the shutdown; its lease will fence this broker'))])
  gone.cancel()
}

/** No controller known or reachable, or this node leads without a live majority: nothing it asks can commit. */
function noQuorum(o: ControlledShutdownParts): boolean {
  const m = o.metadata
  const controller = m.controllerId
  if (controller === null) return true
  if (controller !== m.nodeId) return !o.linkOpen(controller)
  return liveFollowers(o).length + 1 < Math.floor(m.voters.length / 2) + 1
}

/** Transfers the metadata log's leadership to the best caught-up live voter, and waits for another controller to be known. */
async function handOver(o: ControlledShutdownParts, deadline: number): Promise<void> {
  const { metadata: m, log } = o
  const [target] = liveFollowers(o)
  if (target === undefined) return log.warn('no live voter to hand the metadata leadership to: the next controller is elected after this one is gone')
  const result = await m.replica.transferLeadership(target).catch((err: unknown) => ({ ok: false, reason: (err as Error).message }))
  if (!result.ok) return log.warn('handing the metadata leadership over failed', { target, reason: result.reason })
  const movedOn = () => m.controllerId !== null && m.controllerId !== m.nodeId
  // The target may be stopping too (./cluster.sh down): stop waiting once its link closed.
  await onTickUntil(m, () => movedOn() || !o.linkOpen(target), deadline)
  log[movedOn() ? 'info' : 'warn'](movedOn() ? 'metadata leadership handed over' : 'the metadata leadership was not handed over', { target, controller: m.controllerId })
}

/** Voters other than this node that fetched from it lately and are still linked (alive), furthest fetched first; none unless it leads. */
function liveFollowers(o: ControlledShutdownParts): NodeId[] {
  const m = o.metadata
  let progress
  try {
    progress = m.replica.status().progress ?? []
  } catch {
    return [] // offline after a storage failure
  }
  // A live follower's parked fetch comes back within fetchMaxWaitMs, and it fetches again at once.
  const recentTicks = RAFT_TIMING.metadata.fetchRetryMs / m.tickIntervalMs
  return progress
    .filter((p) => p.voter && p.id !== m.nodeId && p.ticksSinceFetch >= 0 && p.ticksSinceFetch <= recentTicks && o.linkOpen(p.id))
    .sort((a, b) => b.fetchOffset - a.fetchOffset)
    .map((p) => p.id)
}

/** Resolves true once `done()` holds (checked on each tick of the metadata node), false at `deadline` or when cancelled. */
function onTickUntil(m: MetadataNode, done: () => boolean, deadline: number): Promise<boolean> & { cancel(): void } {
  let finish: (ok: boolean) => void = () => undefined
  const promise = new Promise<boolean>((resolve) => {
    if (done()) return resolve(true)
    finish = (ok) => {
      off()
      clearTimeout(timer)
      resolve(ok)
    }
    const off = m.onTick(() => done() && finish(true))
    const timer = setTimeout(() => finish(false), Math.max(0, deadline - Date.now()))
  })
  return Object.assign(promise, { cancel: () => finish(false) })
}
