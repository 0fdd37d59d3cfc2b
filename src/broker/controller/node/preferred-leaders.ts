// Preferred leader election as any node carries it out (ElectLeaders, and the active
// controller's balancer): for each partition led by another replica than its preferred one
// (decisions/leader-balance.ts), the current leader's broker is asked to hand the leadership over
// (TransferLeaders; in process when that broker is this one), and the election is over once this
// node's metadata image names the preferred replica as leader — the new leader reports itself
// (leader-reporter.ts). Every step is bounded by the caller's timeout.
import type { MetadataImage } from '../../../metadata/image.js'
import { uuidBytes } from '../../../metadata/uuid.js'
import { ErrorCode, errorName, type bitacora, type Response } from '../../../protocol/index.js'
import type { NodeId } from '../../../raft/types.js'
import type { LeadershipTransfer, TransferOutcome } from '../../partition/leadership-transfer.js'
import { preferredElections, type ElectionSelection, type PreferredElection } from '../decisions/leader-balance.js'
import { TRANSFER_ANSWER_MARGIN_MS } from '../decisions/limits.js'

/** Requests to other nodes (the peer transport): resolves with the answer, rejects with why none came. */
export interface TransferRequester {
  request(to: NodeId, api: 'transferLeaders', body: bitacora.ITransferLeadersRequest, timeoutMs: number): Promise<Response>
}

export interface PreferredLeadersOptions {
  readonly self: NodeId
  /** This node's committed metadata image, and a wait for it to show something (metadata-node.ts). */
  readonly image: () => MetadataImage
  readonly waitUntil: (shows: (image: MetadataImage) => boolean, timeoutMs: number) => Promise<boolean>
  readonly peers: TransferRequester
  /** Transfers of this node's own replicas (partition/leadership-transfer.ts). */
  readonly local: (transfers: readonly LeadershipTransfer[], timeoutMs: number) => Promise<TransferOutcome[]>
}

export interface ElectionResult {
  readonly topic: string
  readonly partition: number
  /** NONE: the preferred replica leads now. */
  readonly code: ErrorCode
  readonly message: string
}

export class PreferredLeaders {
  constructor(private readonly o: PreferredLeadersOptions) {}

  /** Elects the preferred leader of each selected partition (every partition: null); one result per partition, in order. */
  elect(selection: ElectionSelection, timeoutMs: number): Promise<ElectionResult[]> {
    return this.carryOut(preferredElections(this.o.image(), selection), timeoutMs)
  }

  /** Carries out elections decided already (the balancer's). */
  async carryOut(elections: readonly PreferredElection[], timeoutMs: number): Promise<ElectionResult[]> {
    const deadline = Date.now() + timeoutMs
    const byLeader = new Map<NodeId, Array<Extract<PreferredElection, { kind: 'move' }>>>()
    for (const e of elections) if (e.kind === 'move') byLeader.set(e.leader, [...(byLeader.get(e.leader) ?? []), e])
    const outcomes = new Map<PreferredElection, TransferOutcome>()
    await Promise.all([...byLeader].map(async ([leader, moves]) => {
      const transfers = moves.map((m) => ({ topicId: m.ref.topicId, partition: m.ref.partition, target: m.preferred }))
      const answers = await this.transfer(leader, transfers, timeoutMs)
      moves.forEach((m, i) => outcomes.set(m, answers[i]))
    }))
    return Promise.all(elections.map(async (e): Promise<ElectionResult> => {
      switch (e.kind) {
        case 'unknown': return { topic: e.topic, partition: e.partition, code: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, message: e.why }
        case 'notNeeded': return { ...at(e.ref), code: ErrorCode.ELECTION_NOT_NEEDED, message: `its preferred replica leads already` }
        case 'unavailable': return { ...at(e.ref), code: ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE, message: e.why }
        case 'move': {
          const outcome = outcomes.get(e)!
          if (outcome.code !== ErrorCode.NONE) return { ...at(e.ref), code: outcome.code, message: outcome.message }
          const leads = (image: MetadataImage) => image.topicById(e.ref.topicId)?.partitionStates[e.ref.partition]?.leader === e.preferred
          if (await this.o.waitUntil(leads, Math.max(1, deadline - Date.now()))) return { ...at(e.ref), code: ErrorCode.NONE, message: '' }
          return {
            ...at(e.ref), code: ErrorCode.REQUEST_TIMED_OUT,
            message: `broker ${e.leader} handed the leadership over, but broker ${e.preferred} was not recorded as leader within ${timeoutMs} ms (another replica may have won the election)`,
          }
        }
      }
    }))
  }

  /** One TransferLeaders request to `leader` (in process when that is this node): an outcome per transfer, never a rejection. */
  private async transfer(leader: NodeId, transfers: LeadershipTransfer[], timeoutMs: number): Promise<TransferOutcome[]> {
    if (leader === this.o.self) return this.o.local(transfers, timeoutMs)
    const failed = (code: ErrorCode, message: string) => transfers.map(() => ({ code, message }))
    let response: Response
    try {
      response = await this.o.peers.request(leader, 'transferLeaders', {
        transfers: transfers.map((t) => ({ topicId: uuidBytes(t.topicId), partition: t.partition, target: t.target })), timeoutMs,
      }, timeoutMs + TRANSFER_ANSWER_MARGIN_MS)
    } catch (err) {
      return failed(ErrorCode.REQUEST_TIMED_OUT, `broker ${leader} did not answer: ${(err as Error).message}`)
    }
    const error = response.error
    if (error != null && (error.code ?? ErrorCode.NONE) !== ErrorCode.NONE) return failed(error.code!, `broker ${leader}: ${error.message ?? errorName(error.code!)}`)
    const errors = response.transferLeaders?.errors ?? []
    if (errors.length !== transfers.length) return failed(ErrorCode.UNKNOWN_SERVER_ERROR, `broker ${leader} answered ${errors.length} outcomes for ${transfers.length} transfers`)
    return errors.map((e) => ({ code: e.code ?? ErrorCode.NONE, message: e.message ?? '' }))
  }
}

const at = (ref: { readonly topic: string; readonly partition: number }) => ({ topic: ref.topic, partition: ref.partition })
