// A small, complete ControllerQuorum for tests of what sits on the interface (the API handlers,
// the client's quorum calls) until the real quorum runs in a broker: KIP-853's rules without
// Raft underneath. A voter set, a leader, observers with their lag; add-voter waits for the
// node to catch up as an observer (`catchUp`) within its time; one change at a time; the last
// voter cannot go; a node that is not the leader refuses changes with NOT_CONTROLLER.
import { QuorumError, type ControllerQuorum, type QuorumReplicaStatus, type QuorumStatus } from '../../../src/broker/controller/node/quorum.js'
import type { NodeId } from '../../../src/raft/types.js'

export interface StandInOptions {
  readonly nodeId: NodeId
  /** Every voter's URL, by id. */
  readonly voters: ReadonlyMap<NodeId, string>
  readonly leaderId: NodeId | null
  readonly leaderEpoch?: number
  readonly highWatermark?: number
}

export class QuorumStandIn implements ControllerQuorum {
  readonly voters: Map<NodeId, string>
  readonly observers = new Map<NodeId, { url: string; lag: number }>()
  leaderId: NodeId | null
  /** Calls of addVoter, as the handler made them. */
  readonly addVoterCalls: Array<{ nodeId: NodeId; url: string; timeoutMs: number }> = []
  private changing = false
  private readonly caughtUp = new Map<NodeId, () => void>()

  constructor(private readonly o: StandInOptions) {
    this.voters = new Map(o.voters)
    this.leaderId = o.leaderId
  }

  get controllerId(): NodeId | null {
    return this.leaderId
  }

  status(): QuorumStatus {
    const leads = this.leaderId === this.o.nodeId
    const hw = this.o.highWatermark ?? 0
    const replica = (nodeId: NodeId, url: string, lag: number): QuorumReplicaStatus => leads
      ? { nodeId, url, logEndOffset: hw - lag, lastFetchMsAgo: nodeId === this.o.nodeId ? 0 : 120, lag }
      : { nodeId, url, logEndOffset: -1, lastFetchMsAgo: -1, lag: -1 }
    return {
      leaderId: this.leaderId,
      leaderEpoch: this.o.leaderEpoch ?? 1,
      highWatermark: hw,
      voters: [...this.voters].map(([id, url]) => replica(id, url, 0)),
      observers: [...this.observers].map(([id, o]) => replica(id, o.url, o.lag)),
    }
  }

  /** An observer at `url`, `lag` behind; lag 0 completes an add-voter waiting for it. */
  observe(nodeId: NodeId, url: string, lag: number): void {
    this.observers.set(nodeId, { url, lag })
    if (lag === 0) this.caughtUp.get(nodeId)?.()
  }

  async addVoter(nodeId: NodeId, url: string, timeoutMs: number): Promise<readonly NodeId[]> {
    this.addVoterCalls.push({ nodeId, url, timeoutMs })
    this.checkLeader()
    if (this.voters.has(nodeId)) throw new QuorumError('INVALID_REQUEST', `node ${nodeId} is already a voter`)
    if (this.changing) throw new QuorumError('REQUEST_TIMED_OUT', 'another voter change is in progress; retry when it is done')
    this.changing = true
    try {
      if (this.observers.get(nodeId)?.lag !== 0) await this.waitCaughtUp(nodeId, timeoutMs)
      this.observers.delete(nodeId)
      this.voters.set(nodeId, url)
      return [...this.voters.keys()]
    } finally {
      this.changing = false
    }
  }

  async removeVoter(nodeId: NodeId): Promise<readonly NodeId[]> {
    this.checkLeader()
    if (!this.voters.has(nodeId)) throw new QuorumError('INVALID_REQUEST', `node ${nodeId} is not a voter`)
    if (this.voters.size === 1) throw new QuorumError('INVALID_REQUEST', `node ${nodeId} is the last voter; a quorum needs one`)
    this.voters.delete(nodeId)
    return [...this.voters.keys()]
  }

  private checkLeader(): void {
    if (this.leaderId !== this.o.nodeId) throw new QuorumError('NOT_CONTROLLER', `node ${this.o.nodeId} is not the active controller`, this.leaderId)
  }

  private waitCaughtUp(nodeId: NodeId, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.caughtUp.delete(nodeId)
        reject(new QuorumError('REQUEST_TIMED_OUT', `node ${nodeId} did not catch up within ${timeoutMs} ms; it stays an observer`))
      }, timeoutMs)
      this.caughtUp.set(nodeId, () => {
        clearTimeout(timer)
        this.caughtUp.delete(nodeId)
        resolve()
      })
    })
  }
}
