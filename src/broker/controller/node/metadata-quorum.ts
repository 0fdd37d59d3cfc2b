// The ControllerQuorum of this node (quorum.ts): the metadata log's Raft group as DescribeQuorum,
// AddVoter and RemoveVoter see it. Status comes from the core (with the leader's view of each
// replica's fetches). Voter changes go through the core one at a time (KIP-853): a new voter
// must first have caught up as an observer — the leader learns its URL here so it can answer
// its fetches — and the core refuses, never blocks, while it has not; this shell asks again
// until the caller's deadline. Each change is answered once its record is committed.
import { ErrorCode } from '../../../protocol/index.js'
import type { NodeId, ReplicaProgress, Status, VoterChangeResult } from '../../../raft/types.js'
import type { ReplicaError } from '../../partition/replica-error.js'
import { CONTROLLER_VOTERS_MAX, VOTER_CHANGE_RETRY_MS, VOTER_CHANGE_TIMEOUT_MS_DEFAULT } from '../decisions/limits.js'
import type { MetadataNode } from './metadata-node.js'
import type { NodeDirectory } from './node-directory.js'
import { QuorumError, type ControllerQuorum, type QuorumReplicaStatus, type QuorumStatus } from './quorum.js'
import { parseControllerVoters } from './voter-list.js'

const INT32_MAX = 0x7fffffff

export class MetadataQuorum implements ControllerQuorum {
  constructor(
    private readonly node: MetadataNode,
    private readonly directory: NodeDirectory,
  ) {}

  get controllerId(): NodeId | null {
    return this.node.controllerId
  }

  status(): QuorumStatus {
    let s: Status
    try {
      s = this.node.replica.status()
    } catch {
      return { leaderId: null, leaderEpoch: -1, highWatermark: -1, voters: [], observers: [] } // offline after a storage failure
    }
    // A voter is (id, directory id): an observer may share a voter's id (that node's disk was wiped).
    const progress = s.progress ?? []
    const voterProgress = new Map(progress.filter((p) => p.voter).map((p) => [p.id, p]))
    const voterDirectory = (id: NodeId) => s.voterDirectoryIds[id] ?? (id === s.id && s.voter ? s.directoryId : undefined)
    return {
      leaderId: s.leaderId,
      leaderEpoch: s.epoch,
      highWatermark: s.highWatermark,
      voters: s.voters.map((id) => this.replicaStatus(s, id, voterProgress.get(id), voterDirectory(id))),
      observers: progress.filter((p) => !p.voter).map((p) => this.replicaStatus(s, p.id, p, p.directoryId)),
    }
  }

  async addVoter(nodeId: NodeId, url: string, timeoutMs: number): Promise<readonly NodeId[]> {
    if (!Number.isInteger(nodeId) || nodeId < 0 || nodeId > INT32_MAX) throw new QuorumError('INVALID_REQUEST', `a node id is an integer in [0, ${INT32_MAX}], got ${nodeId}`)
    let normalized: string
    try {
      normalized = parseControllerVoters(`${nodeId}@${url}`)[0].url
    } catch (err) {
      throw new QuorumError('INVALID_REQUEST', `add-voter ${nodeId}: ${(err as Error).message.replace(/^--controller-voters: '[^']*': /, '')}`)
    }
    this.requireLeader()
    // The leader answers a node's fetches only once it knows where the node listens.
    this.directory.learn(nodeId, normalized)
    return this.change(`add node ${nodeId} (${normalized})`, () => this.node.replica.addVoter(nodeId), timeoutMs, (reason) => {
      if (reason === 'alreadyVoter') return `node ${nodeId} is a voter already`
      if (reason === 'tooManyVoters') return `the quorum has its maximum of ${CONTROLLER_VOTERS_MAX} voters`
      if (reason === 'notCaughtUp') return this.notCaughtUp(nodeId, normalized)
      return null
    })
  }

  async removeVoter(nodeId: NodeId): Promise<readonly NodeId[]> {
    this.requireLeader()
    return this.change(`remove node ${nodeId}`, () => this.node.replica.removeVoter(nodeId), VOTER_CHANGE_TIMEOUT_MS_DEFAULT, (reason) => {
      if (reason === 'lastVoter') return `node ${nodeId} is the last voter: a quorum cannot be left without one`
      if (reason === 'notVoter') return `node ${nodeId} is not a voter (voters: ${this.node.replica.status().voters.join(', ')})`
      return null
    })
  }

  /**
   * Asks the core for a voter change until it is made or `timeoutMs` passes, then waits for its
   * record to commit. `refusal` names refusals that are final (INVALID_REQUEST); the others
   * (a change or an epoch still uncommitted, a new voter catching up) are asked again.
   */
  private async change(
    what: string, attempt: () => Promise<VoterChangeResult>, timeoutMs: number, refusal: (reason: string) => string | null,
  ): Promise<readonly NodeId[]> {
    const deadline = Date.now() + timeoutMs
    let why = ''
    for (;;) {
      const r = await attempt().catch((err: ReplicaError) => {
        throw new QuorumError('NOT_CONTROLLER', `cannot ${what}: ${err.message}`, this.node.controllerId)
      })
      if (r.ok) return this.committed(what, r.voters, deadline)
      if (r.reason === 'notLeader') throw this.notController()
      const final = refusal(r.reason)
      if (final !== null && r.reason !== 'notCaughtUp') throw new QuorumError('INVALID_REQUEST', `cannot ${what}: ${final}`)
      why = final ?? WAITING[r.reason] ?? r.reason
      if (Date.now() + VOTER_CHANGE_RETRY_MS > deadline) throw new QuorumError('REQUEST_TIMED_OUT', `cannot ${what} within ${timeoutMs} ms: ${why}; nothing was changed`)
      await new Promise((resolve) => setTimeout(resolve, VOTER_CHANGE_RETRY_MS))
    }
  }

  /** Waits for the voter record (the log's end once appended) to commit. */
  private async committed(what: string, voters: readonly NodeId[], deadline: number): Promise<readonly NodeId[]> {
    const replica = this.node.replica
    const end = replica.status().logEnd
    try {
      await replica.committed(end, Math.max(1, deadline - Date.now()))
    } catch (err) {
      // A removed leader resigns as its removal commits: the waiter fails, the HW has passed it.
      // Appended but not seen committed, whatever the cause (a deadline, or leadership lost): the outcome
      // is unknown, as the record may commit under the next leader. Never NOT_CONTROLLER, which a client retries as "not made".
      if (replica.highWatermark < end) {
        throw new QuorumError('REQUEST_TIMED_OUT', `${what}: the voter record was appended but not seen committed (${(err as Error).message}); it may still take effect: check the quorum`, this.node.controllerId)
      }
    }
    return voters
  }

  private requireLeader(): void {
    if (!this.node.replica.isLeader) throw this.notController()
  }

  private notController(): QuorumError {
    const leader = this.node.controllerId
    const where = leader === null ? 'no active controller is known yet; retry shortly' : `the active controller is node ${leader}${this.directory.urlOf(leader) ? ` at ${this.directory.urlOf(leader)}` : ''}`
    return new QuorumError('NOT_CONTROLLER', `node ${this.node.nodeId} is not the active controller; ${where}`, leader)
  }

  private notCaughtUp(nodeId: NodeId, url: string): string {
    const s = this.node.replica.status()
    const p = s.progress?.find((x) => x.id === nodeId)
    if (p === undefined || p.fetchOffset < 0) {
      return `node ${nodeId} has not fetched from this leader: is it running at ${url}, started with --id ${nodeId} and this cluster's --controller-voters? It stays an observer`
    }
    return `node ${nodeId} has not caught up (it fetched up to ${p.fetchOffset} of ${s.highWatermark} committed); it stays an observer`
  }

  private replicaStatus(s: Status, id: NodeId, p: ReplicaProgress | undefined, directory: string | undefined): QuorumReplicaStatus {
    const url = this.directory.urlOf(id) ?? ''
    const directoryId = directory ?? ''
    if (id === s.id && p === undefined) {
      return { nodeId: id, url, directoryId, logEndOffset: s.logEnd, lastFetchMsAgo: s.role === 'leader' ? 0 : -1, lag: s.role === 'leader' ? 0 : -1 }
    }
    if (s.role !== 'leader' || p === undefined || p.fetchOffset < 0) return { nodeId: id, url, directoryId, logEndOffset: -1, lastFetchMsAgo: -1, lag: -1 }
    return {
      nodeId: id, url, directoryId, logEndOffset: p.fetchOffset, lastFetchMsAgo: p.ticksSinceFetch * this.node.tickIntervalMs, lag: Math.max(0, s.logEnd - p.fetchOffset),
    }
  }
}

/** What a change waits for, by the core's refusal. */
const WAITING: Partial<Record<string, string>> = {
  leaderNotReady: "the controller's leader epoch is not committed yet",
  changeInProgress: 'the previous voter change (or a leadership transfer) is not committed yet',
  wouldLoseQuorum: 'too few voters of the new set have been heard from lately to commit under it',
}
