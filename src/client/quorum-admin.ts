// The controller quorum's admin calls: describe it, add and remove voters. Any node describes
// the quorum, but only the active controller knows every replica's position, so the answer
// comes from the leader when the node asked names one it can reach. Voter changes go to the
// active controller: a node that is not it answers NOT_CONTROLLER, and the call asks that node
// which node leads (DescribeQuorum) and sends the change there, once; a controller that moved
// again meanwhile is a retriable failure like any other, retried with back-off. Each call is
// bounded (apiTimeoutMs; add-voter at least its catch-up time plus requestTimeoutMs).
// A voter change whose answer was lost (connection closed, request timed out) may have been
// made, and the controller's own REQUEST_TIMED_OUT (the node did not catch up) is its verdict:
// neither is retried.
import type { bitacora } from '../protocol/index.js'
import type { RetryPolicy } from './backoff.js'
import type { Broker } from './broker.js'
import type { Cluster } from './cluster.js'
import { Deadline } from './deadline.js'
import { BitacoraError, ClientError, isErrorCode, isRetriableError } from './errors.js'
import { ADD_VOTER_TIMEOUT_MS_DEFAULT, intOption } from './limits.js'
import { retryUntil } from './retry-until.js'
import type { Sleeper } from './sleep.js'

export interface QuorumReplica {
  nodeId: number
  /** '' when the answering node does not know it. */
  url: string
  /** -1: not known to the node that answered (only the leader knows). */
  logEndOffset: number
  /** -1: never fetched from this leader (or not known). */
  lastFetchMsAgo: number
  /** The leader's log end minus this replica's; 0 for the leader; -1: not known. */
  lag: number
  /** KIP-853: a voter's as recorded, an observer's as its fetches carry it; '' when not known. */
  directoryId: string
}

export interface QuorumBroker {
  id: number
  url: string
  rack: string
  fenced: boolean
}

export interface QuorumDescription {
  clusterId: string
  /** -1: no leader known. */
  leaderId: number
  leaderEpoch: number
  highWatermark: number
  voters: QuorumReplica[]
  observers: QuorumReplica[]
  /** Registered brokers with their fenced state. */
  brokers: QuorumBroker[]
  /** The node that answered: the leader, unless it could not be reached (then lags are -1). */
  answeredBy: number
}

export class QuorumAdmin {
  constructor(
    private readonly cluster: Cluster,
    private readonly retry: RetryPolicy,
    private readonly sleeper: Sleeper,
    private readonly isClosed: () => boolean,
    private readonly apiTimeoutMs: number,
    private readonly requestTimeoutMs: number,
  ) {}

  async describeQuorum(): Promise<QuorumDescription> {
    const deadline = Deadline.after(this.apiTimeoutMs, 'apiTimeoutMs', this.cluster.now())
    return this.run('describe quorum', deadline, isRetriableError, async () => {
      const broker = await this.cluster.anyBroker()
      const ask = async () => description(await broker.request('describeQuorum', {}), broker)
      let answer = await ask()
      // Each leader named is tried once (so at most one per voter). One out of reach is asked
      // again of the node: a stalled leader holds the call for up to connectTimeoutMs, long enough
      // for the quorum to elect another, and the first answer would be that old.
      for (const tried = new Set<number>(); ;) {
        const leader = answer.leaderId === answer.answeredBy || tried.has(answer.leaderId) ? null : this.leaderOf(answer)
        if (leader === null) return answer // no other leader to ask: what this node knows is the truth it has
        tried.add(answer.leaderId)
        try {
          return description(await leader.request('describeQuorum', {}), leader)
        } catch (err) {
          if (!isRetriableError(err)) throw err
          answer = await ask()
        }
      }
    })
  }

  /** Makes `nodeId` (listening at `url`) a voter once it has caught up; resolves with the voters then. */
  async addVoter(nodeId: number, url: string, options: { timeoutMs?: number } = {}): Promise<number[]> {
    checkNodeId(nodeId)
    if (typeof url !== 'string' || !/^wss?:\/\//.test(url)) throw new ClientError('INVALID_ARGUMENT', `addVoter: url must be the node's ws:// or wss:// URL, not ${JSON.stringify(url)}`)
    const catchUpMs = intOption('timeoutMs', options.timeoutMs, ADD_VOTER_TIMEOUT_MS_DEFAULT, 1)
    const callMs = Math.max(this.apiTimeoutMs, catchUpMs + this.requestTimeoutMs)
    const deadline = Deadline.after(callMs, callMs === this.apiTimeoutMs ? 'apiTimeoutMs' : 'timeoutMs + requestTimeoutMs', this.cluster.now())
    const request = { timeoutMs: catchUpMs + this.requestTimeoutMs }
    return this.run(`add voter ${nodeId}`, deadline, isRetriableChange, async () => {
      const answer = await this.atController((b) => b.request('addVoter', { nodeId, url, timeoutMs: catchUpMs }, request))
      return answer.voters ?? []
    })
  }

  /** Takes `nodeId` out of the voters; resolves with the voters then. */
  async removeVoter(nodeId: number): Promise<number[]> {
    checkNodeId(nodeId)
    const deadline = Deadline.after(this.apiTimeoutMs, 'apiTimeoutMs', this.cluster.now())
    return this.run(`remove voter ${nodeId}`, deadline, isRetriableChange, async () => {
      const answer = await this.atController((b) => b.request('removeVoter', { nodeId }))
      return answer.voters ?? []
    })
  }

  /** `send` to any node; on NOT_CONTROLLER, once more to the controller that node names. */
  private async atController<T>(send: (broker: Broker) => Promise<T>): Promise<T> {
    const broker = await this.cluster.anyBroker()
    try {
      return await send(broker)
    } catch (err) {
      if (!isErrorCode(err, 'NOT_CONTROLLER')) throw err
      const quorum = description(await broker.request('describeQuorum', {}), broker)
      const controller = quorum.leaderId === quorum.answeredBy ? null : this.leaderOf(quorum)
      if (controller === null) throw err // none elected yet (or it just moved here): back off and retry
      return send(controller)
    }
  }

  /** The leader's Broker, if the answer names a leader and where it listens. */
  private leaderOf(d: QuorumDescription): Broker | null {
    if (d.leaderId < 0) return null
    const url = d.voters.find((v) => v.nodeId === d.leaderId)?.url
    if (!url) return null
    try {
      return this.cluster.brokerAt(new URL(url).href) // one connection per node, however its URL was written
    } catch {
      return null // not a URL: nowhere to go
    }
  }

  private run<T>(what: string, deadline: Deadline, retriable: (err: unknown) => boolean, attempt: () => Promise<T>): Promise<T> {
    const loop = { now: () => this.cluster.now(), retry: this.retry, sleeper: this.sleeper, isClosed: this.isClosed }
    return retryUntil(loop, what, deadline, retriable, attempt)
  }
}

/** Retriable, and certainly not made: the request never reached a controller that acted on it. */
function isRetriableChange(err: unknown): boolean {
  if (!isRetriableError(err)) return false
  if (err instanceof BitacoraError) return err.code !== 'REQUEST_TIMED_OUT'
  return !(err instanceof ClientError && (err.code === 'CONNECTION_CLOSED' || err.code === 'REQUEST_TIMEOUT'))
}

function checkNodeId(nodeId: number): void {
  if (!Number.isInteger(nodeId) || nodeId < 0 || nodeId > 0x7fffffff) {
    throw new ClientError('INVALID_ARGUMENT', `node id must be an integer from 0 to ${0x7fffffff}, not ${String(nodeId)}`)
  }
}

function description(r: bitacora.IDescribeQuorumResponse, answeredBy: Broker): QuorumDescription {
  const replica = (q: bitacora.IQuorumReplica): QuorumReplica => ({
    nodeId: q.nodeId ?? 0, url: q.url ?? '', logEndOffset: q.logEndOffset ?? -1, lastFetchMsAgo: q.lastFetchMsAgo ?? -1, lag: q.lag ?? -1,
    directoryId: q.directoryId ?? '',
  })
  return {
    clusterId: r.clusterId ?? '',
    leaderId: r.leaderId ?? -1,
    leaderEpoch: r.leaderEpoch ?? 0,
    highWatermark: r.highWatermark ?? 0,
    voters: (r.voters ?? []).map(replica),
    observers: (r.observers ?? []).map(replica),
    brokers: (r.brokers ?? []).map((b) => ({ id: b.id ?? 0, url: b.url ?? '', rack: b.rack ?? '', fenced: b.fenced ?? false })),
    answeredBy: answeredBy.handshake?.brokerId ?? -1,
  }
}
