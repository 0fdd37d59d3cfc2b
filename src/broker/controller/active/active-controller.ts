// The active controller: the shell over the controller's pure decisions (state.ts) on the node
// that leads the metadata log. It takes over once its leader epoch is committed and every
// committed record is in its image (ControllerState.elected), follows the high watermark
// (committedTo), and drops its state the moment it stops leading. Decisions run one at a time
// (Kafka's controller event queue): each is checked against every record appended so far,
// committed or not, its records are appended as one batch, and the caller is answered only
// once that batch — or, for a decision without records, everything appended before it — is
// committed and in this node's image, never earlier. Waiting for the commit does not hold the
// queue: the next decision sees the pending records. Every decision of the controller runs
// here, on one ControllerState: topics (TopicAdmin), membership (the ControllerLog this class
// implements for membership-service.ts) and the topics.json upgrade.
import { randomUUID } from 'node:crypto'
import type { Codec } from '../../../codec/index.js'
import type { MetadataRecord } from '../../../metadata/image.js'
import { encodeRecord } from '../../../metadata/record-codec.js'
import { ErrorCode } from '../../../protocol/index.js'
import type { NodeId } from '../../../raft/types.js'
import { Serial } from '../../../storage/index.js'
import type { Logger } from '../../log.js'
import { ReplicaError } from '../../partition/replica-error.js'
import { CONTROLLER_DECISION_TIMEOUT_MS, CONTROLLER_QUEUED_MAX, METADATA_BATCH_BYTES_MAX } from '../decisions/limits.js'
import type { ControllerLog, Decided } from './membership-service.js'
import type { MetadataNode } from '../node/metadata-node.js'
import { ControllerRequestError } from './request-error.js'
import { ControllerState, type ControllerConfig, type Decision, type DecisionContext } from '../decisions/state.js'

export interface ActiveControllerOptions {
  readonly node: MetadataNode
  readonly config: ControllerConfig
  readonly codec: Codec
  /** Where a node listens, if known (for NOT_CONTROLLER messages). */
  readonly urlOf: (id: NodeId) => string | undefined
  readonly log: Logger
}

export class ActiveController implements ControllerLog {
  private state: ControllerState | null = null
  private epoch = -1
  private readonly queue = new Serial(CONTROLLER_QUEUED_MAX, (max) =>
    new ControllerRequestError(ErrorCode.THROTTLING_QUOTA_EXCEEDED, `the controller has ${max} requests waiting; retry shortly`))
  private readonly changed = new Set<() => void>()
  private readonly activeListeners = new Set<(active: boolean) => void>()

  constructor(private readonly o: ActiveControllerOptions) {
    o.node.onTick(() => this.refresh())
    o.node.replica.onHighWatermark(() => this.refresh())
  }

  /** The controller's state while this node is the active controller, else null (ControllerLog). */
  active(): ControllerState | null {
    return this.state
  }

  /** Calls `listener` whenever this node becomes, or stops being, the active controller (ControllerLog). */
  onActiveChange(listener: (active: boolean) => void): void {
    this.activeListeners.add(listener)
  }

  /**
   * Runs `decision` as the active controller and resolves with its answer once its records (or
   * those appended before it) are committed and in this node's image. Rejects with a
   * ControllerRequestError: the decision's refusal, NOT_CONTROLLER (this node does not lead, or
   * stopped leading before the records committed: they may or may not take effect), or
   * REQUEST_TIMED_OUT (not committed within `timeoutMs`: the outcome is unknown).
   */
  async submit<A>(decision: (state: ControllerState, ctx: DecisionContext) => Decision<A>, timeoutMs: number): Promise<A> {
    const deadline = Date.now() + timeoutMs
    const { answer, end } = await this.queue.run(() => this.decideAndAppend(decision, deadline))
    if (end <= this.o.node.replica.highWatermark && end <= this.o.node.imageOffset) return answer
    try {
      await this.o.node.replica.committed(end, Math.max(1, deadline - Date.now()))
    } catch (err) {
      if (!(err instanceof ReplicaError)) throw err
      if (err.code === ErrorCode.REQUEST_TIMED_OUT) {
        throw new ControllerRequestError(ErrorCode.REQUEST_TIMED_OUT, `the change was not committed within ${timeoutMs} ms (no quorum of controller voters?); it may still take effect: check before retrying`)
      }
      throw this.notController(`node ${this.o.node.nodeId} stopped leading the metadata log before the change committed; it may or may not take effect: check, then retry at the new controller`)
    }
    if (!(await this.o.node.waitForImage(end, Math.max(1, deadline - Date.now())))) {
      throw new ControllerRequestError(ErrorCode.REQUEST_TIMED_OUT, `the change committed but this node did not replay it within ${timeoutMs} ms`)
    }
    return answer
  }

  /** submit() as the ControllerLog contract has it: never rejects, every failure is the answer. */
  async decide<A>(decision: (state: ControllerState, ctx: DecisionContext) => Decision<A>, timeoutMs = CONTROLLER_DECISION_TIMEOUT_MS): Promise<Decided<A>> {
    try {
      return { ok: true, answer: await this.submit(decision, timeoutMs) }
    } catch (err) {
      if (err instanceof ControllerRequestError) return { ok: false, error: { code: err.code, message: err.message } }
      this.o.log.error('a controller decision failed', { error: (err as Error).stack ?? String(err) })
      return { ok: false, error: { code: ErrorCode.UNKNOWN_SERVER_ERROR, message: `the controller failed: ${(err as Error).message}` } }
    }
  }

  /** A NOT_CONTROLLER error that names the active controller, when this node knows it. */
  notController(why?: string): ControllerRequestError {
    const leader = this.o.node.controllerId
    const self = this.o.node.nodeId
    const where = leader === null || leader === self
      ? 'no active controller is known yet (an election is under way); retry shortly'
      : `the active controller is node ${leader}${this.o.urlOf(leader) ? ` at ${this.o.urlOf(leader)}` : ''}; retry there`
    return new ControllerRequestError(ErrorCode.NOT_CONTROLLER, `${why ?? `node ${self} is not the active controller`}; ${where}`)
  }

  private async decideAndAppend<A>(
    decision: (state: ControllerState, ctx: DecisionContext) => Decision<A>, deadline: number,
  ): Promise<{ answer: A; end: number }> {
    await this.waitActive(deadline)
    const state = this.state!
    const epoch = this.epoch
    const replica = this.o.node.replica
    const ctx: DecisionContext = { nowMs: Date.now(), logEnd: replica.status().logEnd, newUuid: () => randomUUID().replaceAll('-', '') }
    const d = decision(state, ctx)
    if (!d.ok) throw new ControllerRequestError(d.error.code, d.error.message)
    if (d.records.length === 0) {
      this.state = d.next
      // Answered once the records appended before it commit (control batches after them hold nothing of the image).
      const last = d.next.pending.at(-1)
      return { answer: d.answer, end: last === undefined ? 0 : last.startOffset + last.records.length }
    }
    const batch = this.encode(d.records)
    let info
    try {
      info = await replica.appendValidated(batch)
    } catch (err) {
      if (!(err instanceof ReplicaError)) throw err
      if (err.code === ErrorCode.NOT_LEADER_OR_FOLLOWER) throw this.notController(`node ${this.o.node.nodeId} stopped leading the metadata log; nothing was changed`)
      throw new ControllerRequestError(err.code, `the metadata log refused the change, nothing was changed: ${err.message}`)
    }
    // The records landed at info.firstOffset (the log may have grown since ctx was read: a voter record, say).
    const current = this.state
    if (current !== null && this.epoch === epoch) {
      const redone = current.decided(d.answer, d.records, { ...ctx, logEnd: info.firstOffset }, d.next.leases)
      if (redone.ok) this.state = redone.next
    }
    return { answer: d.answer, end: info.nextOffset }
  }

  private encode(records: readonly MetadataRecord[]): Uint8Array {
    const now = Date.now()
    const batch = this.o.codec.encodeBatch(records.map((r) => ({ value: encodeRecord(r), timestamp: now })))
    if (batch.length > METADATA_BATCH_BYTES_MAX) {
      throw new ControllerRequestError(ErrorCode.INVALID_REQUEST, `the request needs ${records.length} metadata records (${batch.length} bytes), over the ${METADATA_BATCH_BYTES_MAX} bytes one change may write; split it into smaller requests`)
    }
    return batch
  }

  /** Resolves once this node is the active controller; throws NOT_CONTROLLER if it does not lead, or does not take over by `deadline`. */
  private async waitActive(deadline: number): Promise<void> {
    this.refresh()
    while (this.state === null) {
      const r = this.o.node.replica
      if (!r.isLeader || Date.now() >= deadline) throw this.notController()
      // Leading, but its epoch is not committed or not replayed yet: moments, on a healthy quorum.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, deadline - Date.now())
        const self = this
        this.changed.add(done)
        function done() {
          clearTimeout(timer)
          self.changed.delete(done)
          resolve()
        }
      })
    }
  }

  /** Follows leadership and the high watermark (on every tick and HW advance). */
  private refresh(): void {
    const r = this.o.node.replica
    const before = this.state
    if (!r.leaderReady) {
      this.state = null
    } else if (this.state !== null && this.epoch === r.leaderEpoch) {
      this.state = this.state.committedTo(r.highWatermark)
    } else if (r.appliedOffset >= r.highWatermark) {
      this.state = ControllerState.elected(this.o.config, this.o.node.image, r.appliedOffset, Date.now())
      this.epoch = r.leaderEpoch
      this.o.log.info('this node is the active controller', { epoch: this.epoch, metadataOffset: r.appliedOffset })
    } else {
      this.state = null
    }
    const turned = (before === null) !== (this.state === null)
    if (turned || r.isLeader === false) for (const wake of [...this.changed]) wake()
    if (turned) for (const listener of this.activeListeners) listener(this.state !== null)
  }
}
