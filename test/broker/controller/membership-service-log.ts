// An in-memory metadata quorum for the membership service's tests: one metadata log shared by
// the nodes of a test, each seeing it through its own ControllerLog (membership-service.ts),
// active while the test has elected it. It keeps the ControllerLog contract the way the Raft
// quorum will: one record per offset; decisions run in turn against one ControllerState; a
// decision resolves once the high watermark passed everything appended up to it; a newly
// elected controller loses what was not committed (its log ends at the high watermark) and
// starts from ControllerState.elected. Commits happen a turn after an append (`autoCommit`), or
// only when the test calls commit().
import { MetadataImage, type MetadataRecord } from '../../../src/metadata/image.js'
import type { ControllerLog, Decided } from '../../../src/broker/controller/active/membership-service.js'
import { ControllerState, type ControllerConfig, type Decision, type DecisionContext } from '../../../src/broker/controller/decisions/state.js'
import { ErrorCode } from '../../../src/protocol/index.js'

export const MEMBERSHIP_TEST_CONFIG: ControllerConfig = {
  leaseMs: 3_000, defaultPartitions: 1, defaultReplicationFactor: 1, partitionsPerTopicMax: 1024, topicsMax: 10_000, producerIdBlockSize: 1000,
}

interface Waiter {
  /** Resolves once the high watermark reaches this. */
  readonly offset: number
  readonly resolve: (ok: boolean) => void
}

export class MemoryMetadataQuorum {
  /** The committed image, as every node replays it. */
  committed = MetadataImage.EMPTY
  highWatermark = 0
  logEnd = 0
  leader: number | null = null
  autoCommit = true
  /** Every record ever committed, in order. */
  readonly records: MetadataRecord[] = []
  private state: ControllerState | null = null
  private pending: Array<{ offset: number; records: readonly MetadataRecord[] }> = []
  private waiters: Waiter[] = []
  private readonly listeners = new Map<number, Array<(active: boolean) => void>>()
  private commitScheduled = false

  constructor(
    private readonly config: ControllerConfig = MEMBERSHIP_TEST_CONFIG,
    private readonly now: () => number = Date.now,
  ) {}

  /** Node `node`'s view of the controller. */
  view(node: number): ControllerLog {
    return {
      active: () => (this.leader === node ? this.state : null),
      decide: <A>(decision: (state: ControllerState, ctx: DecisionContext) => Decision<A>) => this.decide(node, decision),
      onActiveChange: (listener) => void this.listeners.set(node, [...(this.listeners.get(node) ?? []), listener]),
    }
  }

  /** `node` becomes the active controller (null: none); what was not committed is lost. */
  elect(node: number | null): void {
    const old = this.leader
    this.pending = []
    this.logEnd = this.highWatermark
    this.leader = node
    this.state = node === null ? null : ControllerState.elected(this.config, this.committed, this.highWatermark, this.now())
    this.release(() => true, false)
    if (old !== null && old !== node) this.listeners.get(old)?.forEach((l) => l(false))
    if (node !== null && node !== old) this.listeners.get(node)?.forEach((l) => l(true))
  }

  /** Commits everything appended. */
  commit(): void {
    if (this.pending.length === 0) return
    const records = this.pending.flatMap((b) => b.records)
    this.committed = this.committed.apply(records)
    this.records.push(...records)
    this.highWatermark = this.logEnd
    this.pending = []
    this.state = this.state?.committedTo(this.highWatermark) ?? null
    this.release((w) => w.offset <= this.highWatermark, true)
  }

  /** Committed records of these types, in order. */
  committedOf(...types: Array<MetadataRecord['type']>): MetadataRecord[] {
    return this.records.filter((r) => types.includes(r.type))
  }

  private decide<A>(node: number, decision: (state: ControllerState, ctx: DecisionContext) => Decision<A>): Promise<Decided<A>> {
    const notController = { ok: false as const, error: { code: ErrorCode.NOT_CONTROLLER, message: `node ${node} is not the active controller (the controller is ${this.leader ?? 'not known'})` } }
    if (this.leader !== node || this.state === null) return Promise.resolve(notController)
    const d = decision(this.state, { nowMs: this.now(), logEnd: this.logEnd, newUuid: () => 'ab'.repeat(16) })
    if (!d.ok) return Promise.resolve(d)
    this.state = d.next
    if (d.records.length > 0) {
      this.pending.push({ offset: this.logEnd, records: d.records })
      this.logEnd += d.records.length
    }
    const answer: Decided<A> = { ok: true, answer: d.answer }
    if (this.highWatermark >= this.logEnd) return Promise.resolve(answer)
    if (this.autoCommit && !this.commitScheduled) {
      this.commitScheduled = true
      setImmediate(() => {
        this.commitScheduled = false
        if (this.autoCommit) this.commit()
      })
    }
    return new Promise((resolve) => this.waiters.push({ offset: this.logEnd, resolve: (ok) => resolve(ok ? answer : notController) }))
  }

  private release(which: (w: Waiter) => boolean, ok: boolean): void {
    const done = this.waiters.filter(which)
    this.waiters = this.waiters.filter((w) => !which(w))
    for (const w of done) w.resolve(ok)
  }
}
