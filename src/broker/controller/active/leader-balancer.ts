// The active controller's leadership balancer (Kafka's auto.leader.rebalance): while this node is
// the active controller it looks at the committed image every few seconds and, for partitions led
// by another replica than their preferred one for at least `afterMs` (a broker came back after a
// restart), carries out the preferred elections (node/preferred-leaders.ts). One round at a time;
// a new controller starts counting afresh.
import type { MetadataImage } from '../../../metadata/image.js'
import type { Logger } from '../../log.js'
import { imbalanceDue, type ImbalanceSince } from '../decisions/leader-balance.js'
import { ELECT_LEADERS_TIMEOUT_MS_DEFAULT, LEADER_BALANCE_CHECK_MS_MAX, LEADER_BALANCE_CHECK_MS_MIN } from '../decisions/limits.js'
import type { PreferredLeaders } from '../node/preferred-leaders.js'
import { ErrorCode, errorName } from '../../../protocol/index.js'

export interface LeaderBalancerOptions {
  /** Tells when this node becomes, or stops being, the active controller (active-controller.ts). */
  readonly controller: { onActiveChange(listener: (active: boolean) => void): void }
  readonly image: () => MetadataImage
  readonly leaders: Pick<PreferredLeaders, 'carryOut'>
  /** Rebalance a partition led by another replica for this long; 0: never on its own. */
  readonly afterMs: number
  readonly log: Logger
}

export class LeaderBalancer {
  private since: ImbalanceSince = new Map()
  private timer: NodeJS.Timeout | null = null
  private running = false
  private closed = false

  constructor(private readonly o: LeaderBalancerOptions) {
    if (o.afterMs > 0) o.controller.onActiveChange((active) => (active ? this.start() : this.pause()))
  }

  close(): void {
    this.closed = true
    this.pause()
  }

  private start(): void {
    if (this.closed || this.timer !== null) return
    const every = Math.min(LEADER_BALANCE_CHECK_MS_MAX, Math.max(LEADER_BALANCE_CHECK_MS_MIN, Math.floor(this.o.afterMs / 2)))
    this.timer = setInterval(() => void this.check(), every).unref()
  }

  private pause(): void {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    this.since = new Map()
  }

  private async check(): Promise<void> {
    if (this.running) return
    const { since, due } = imbalanceDue(this.o.image(), this.since, Date.now(), this.o.afterMs)
    this.since = since
    if (due.length === 0) return
    this.running = true
    try {
      const results = await this.o.leaders.carryOut(due, ELECT_LEADERS_TIMEOUT_MS_DEFAULT)
      const failed = results.filter((r) => r.code !== ErrorCode.NONE)
      this.o.log.info('leadership handed back to preferred replicas', {
        moved: results.length - failed.length,
        failed: failed.slice(0, 10).map((r) => `${r.topic}/${r.partition}: ${errorName(r.code)} ${r.message}`),
      })
    } catch (err) {
      this.o.log.error('rebalancing leaders failed', { error: (err as Error).stack ?? String(err) })
    } finally {
      this.running = false
    }
  }
}
