// Carries out partition moves on the brokers that lead them. Every broker runs one: each round
// (REASSIGN_STEP_INTERVAL_MS, and at each new metadata image), for every partition the committed
// image shows being reassigned and that a replica of this broker leads (its epoch committed),
// it takes the next step (decisions/reassignment-steps.ts) — add a caught-up new replica as a
// voter, remove a leaving one, hand leadership over before removing itself — and waits for that
// voter record to commit; once the voters are the target, it asks the active controller to
// complete the move (CompleteReassignment). One step per partition at a time. All its state is
// in the metadata log and the group's own voter records, so a new leader or a new controller
// simply carries on from there. A step that cannot be taken (a new replica down) waits, and says
// so in the log; the user sees it in `topics describe` and may cancel.
import { targetReplicas, type MetadataImage } from '../../../metadata/image.js'
import { uuidBytes } from '../../../metadata/uuid.js'
import { ErrorCode, errorName, type bitacora, type ResponseProps } from '../../../protocol/index.js'
import type { NodeId } from '../../../raft/types.js'
import type { Logger } from '../../log.js'
import type { PartitionReplica } from '../../partition/replica.js'
import { REASSIGN_COMMIT_TIMEOUT_MS, REASSIGN_COMPLETE_TIMEOUT_MS, REASSIGN_STEP_INTERVAL_MS, REASSIGN_WAIT_LOG_MS } from '../decisions/limits.js'
import { nextReassignStep, type ReassignStep } from '../decisions/reassignment-steps.js'

/** The controller channel, as the mover uses it (net/controller-channel.ts). */
export interface CompletionChannel {
  send(api: 'completeReassignment', body: bitacora.ICompleteReassignmentRequest, timeoutMs: number): Promise<ResponseProps>
}

export interface PartitionMoverOptions {
  readonly brokerId: NodeId
  /** The committed metadata image. */
  readonly image: () => MetadataImage
  readonly replica: (topicId: string, partition: number) => PartitionReplica | undefined
  readonly controller: CompletionChannel
  readonly log: Logger
}

/** A partition being moved, and where to. */
interface Move {
  readonly topicId: string
  readonly name: string
  readonly partition: number
  readonly target: readonly NodeId[]
}

export class PartitionMover {
  /** Partitions (`topicId/partition`) with a step under way. */
  private readonly busy = new Set<string>()
  /** When each waiting partition last said why in the log. */
  private readonly waitLogged = new Map<string, number>()
  private timer: NodeJS.Timeout | null = null
  private closed = false
  /** The moves of the image last looked at. */
  private seen: { image: MetadataImage | null; moves: readonly Move[] } = { image: null, moves: [] }

  constructor(private readonly o: PartitionMoverOptions) {}

  start(): void {
    this.timer ??= setInterval(() => this.round(), REASSIGN_STEP_INTERVAL_MS).unref()
  }

  close(): void {
    this.closed = true
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
  }

  /** One look at every partition being moved: a step for each one this broker leads and has none under way. */
  round(): void {
    if (this.closed) return
    for (const m of this.moving()) {
      const key = `${m.topicId}/${m.partition}`
      const replica = this.o.replica(m.topicId, m.partition)
      if (this.busy.has(key) || replica === undefined || !replica.leaderReady) continue
      this.busy.add(key)
      void this.step(replica, m)
        .catch((err: unknown) => this.o.log.warn('a partition move step failed; tried again next round', { topic: m.name, partition: m.partition, error: (err as Error).message }))
        .finally(() => this.busy.delete(key))
    }
  }

  /** The partitions the image shows being moved (looked up again only when the image changes: an idle cluster's rounds cost nothing). */
  private moving(): readonly Move[] {
    const image = this.o.image()
    if (image === this.seen.image) return this.seen.moves
    const moves: Move[] = []
    for (const topic of image.topics) {
      topic.partitionStates.forEach((p, partition) => {
        if (p.reassignment !== undefined) moves.push({ topicId: topic.id, name: topic.name, partition, target: targetReplicas(p) })
      })
    }
    this.seen = { image, moves }
    return moves
  }

  private async step(r: PartitionReplica, m: Move): Promise<void> {
    const s = r.status()
    const step = nextReassignStep({
      self: this.o.brokerId, voters: s.voters, target: m.target,
      progress: s.progress ?? [], highWatermark: s.highWatermark, recentTicks: r.fetchTimeoutTicks,
    })
    const where = { topic: m.name, partition: m.partition }
    switch (step.kind) {
      case 'wait':
        return this.waiting(`${m.topicId}/${m.partition}`, step, where)
      case 'add':
      case 'remove': {
        const result = step.kind === 'add' ? await r.addVoter(step.id) : await r.removeVoter(step.id)
        if (!result.ok) return this.waiting(`${m.topicId}/${m.partition}`, { kind: 'wait', why: `${step.kind} ${step.id} refused: ${result.reason}` }, where)
        this.o.log.info(`partition move: ${step.kind === 'add' ? 'added' : 'removed'} a voter`, { ...where, broker: step.id, voters: result.voters })
        // The next step starts from this record committed (one change at a time).
        return r.committed(r.status().logEnd, REASSIGN_COMMIT_TIMEOUT_MS)
      }
      case 'transfer': {
        const result = await r.transferLeadership(step.to)
        if (result.ok) this.o.log.info('partition move: handing leadership over before leaving the voters', { ...where, to: step.to })
        return
      }
      case 'complete':
        return this.complete(r, m, s.voters, where)
    }
  }

  /** The voters are the target: once everything up to the log end (their record with it) is committed, the controller records the move's end. */
  private async complete(r: PartitionReplica, m: { topicId: string; partition: number }, voters: readonly NodeId[], where: object): Promise<void> {
    await r.committed(r.status().logEnd, REASSIGN_COMMIT_TIMEOUT_MS)
    const response = await this.o.controller.send('completeReassignment', {
      brokerId: this.o.brokerId, topicId: uuidBytes(m.topicId), partition: m.partition, leaderEpoch: r.leaderEpoch, voters: [...voters],
    }, REASSIGN_COMPLETE_TIMEOUT_MS)
    const code = response.error?.code ?? ErrorCode.NONE
    if (code === ErrorCode.NONE || code === ErrorCode.NO_REASSIGNMENT_IN_PROGRESS) this.waitLogged.delete(`${m.topicId}/${m.partition}`)
    if (code === ErrorCode.NONE) this.o.log.info('partition move complete', { ...where, replicas: voters })
    else if (code !== ErrorCode.NO_REASSIGNMENT_IN_PROGRESS) {
      this.o.log.warn('the controller did not complete a partition move; asking again', { ...where, code: errorName(code), error: response.error?.message ?? '' })
    }
  }

  private waiting(key: string, step: ReassignStep & { kind: 'wait' }, where: object): void {
    const now = Date.now()
    if (now - (this.waitLogged.get(key) ?? -Infinity) < REASSIGN_WAIT_LOG_MS) return
    this.waitLogged.set(key, now)
    this.o.log.info('partition move waits', { ...where, why: step.why })
  }
}
