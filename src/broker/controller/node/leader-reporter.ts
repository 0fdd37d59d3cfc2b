// A broker's reports of the data partitions it leads, to the active controller (Request 33):
// each partition elects its leader inside its own Raft group, and the controller records
// (partition, epoch, leader) so every node's Metadata names it. Reports are batched: whatever
// became news within one event-loop turn — a restart elects every partition at once — goes as
// one request (several past LEADER_REPORTS_PER_REQUEST_MAX), one request in flight at a time,
// the newest epoch per partition winning meanwhile. A report the committed image already holds
// is not sent; one that failed is sent again after a pause. Every leadership is re-sent to each
// new controller (`resendAll`): a report the old one appended but never committed dies with its
// term, and only this broker knows it leads. The ISR travels with the reports (Kafka's
// AlterPartition): every ISR_CHECK_INTERVAL_MS the broker offers each leadership with its ISR
// (`watchIsr`), and one whose ISR differs from the recorded one is sent, each partition's at most
// every ISR_REPORT_MIN_INTERVAL_MS.
import { leaderIsNews, type MetadataImage } from '../../../metadata/image.js'
import { uuidBytes } from '../../../metadata/uuid.js'
import { ErrorCode, errorName, type bitacora, type ResponseProps } from '../../../protocol/index.js'
import type { NodeId } from '../../../raft/types.js'
import type { Logger } from '../../log.js'
import type { LedPartition } from '../../partition/replica-manager.js'
import {
  ISR_CHECK_INTERVAL_MS, ISR_REPORT_MIN_INTERVAL_MS, LEADER_REPORT_RETRY_MS, LEADER_REPORT_TIMEOUT_MS, LEADER_REPORTS_PER_REQUEST_MAX,
} from '../decisions/limits.js'

/** The controller channel, as the reporter uses it (net/controller-channel.ts): resolves with the answer or why none came. */
export interface LeaderReportChannel {
  send(api: 'leaderReports', body: bitacora.ILeaderReportsRequest, timeoutMs: number): Promise<ResponseProps>
}

export interface LeaderReporterOptions {
  readonly brokerId: NodeId
  readonly controller: LeaderReportChannel
  /** The committed metadata image: what it already records is not reported again. */
  readonly image: () => MetadataImage
  readonly log: Logger
  /** Default LEADER_REPORT_TIMEOUT_MS. */
  readonly requestTimeoutMs?: number
  /** Default LEADER_REPORT_RETRY_MS. */
  readonly retryMs?: number
  /** Default ISR_CHECK_INTERVAL_MS. */
  readonly isrCheckMs?: number
  /** Default ISR_REPORT_MIN_INTERVAL_MS. */
  readonly isrReportMinIntervalMs?: number
  /** Default Date.now. */
  readonly now?: () => number
}

export class LeaderReporter {
  /** Reports not yet recorded, by `topicId/partition`: at most one per partition this broker holds. */
  private readonly pending = new Map<string, LedPartition>()
  private flushQueued = false
  private sending = false
  private retryTimer: NodeJS.Timeout | null = null
  private failuresInARow = 0
  private closed = false
  private isrTimer: NodeJS.Timeout | null = null
  /** When each partition's last ISR change was sent, by `topicId/partition` (the flapping limit). */
  private readonly isrSentAt = new Map<string, number>()

  constructor(private readonly o: LeaderReporterOptions) {}

  /** A replica of this broker leads in `leaderEpoch` (with its ISR, if said): the newest wins. */
  led(report: LedPartition): void {
    const key = `${report.topicId}/${report.partition}`
    const queued = this.pending.get(key)
    if (queued !== undefined && (queued.leaderEpoch > report.leaderEpoch || (queued.leaderEpoch === report.leaderEpoch && report.isr === undefined))) return
    this.pending.set(key, report)
    this.scheduleFlush()
  }

  /** Every ISR_CHECK_INTERVAL_MS, the leaderships `source` gives (with their ISR) are offered as reports. */
  watchIsr(source: () => Iterable<LedPartition>): void {
    if (this.isrTimer !== null || this.closed) return
    this.isrTimer = setInterval(() => {
      for (const report of source()) if (report.isr !== undefined) this.led(report)
    }, this.o.isrCheckMs ?? ISR_CHECK_INTERVAL_MS).unref()
  }

  /** A new active controller: every leadership of this broker, reported again. */
  resendAll(led: Iterable<LedPartition>): void {
    for (const report of led) this.led(report)
  }

  /** Reports not yet recorded (for tests and logs). */
  get pendingCount(): number {
    return this.pending.size
  }

  close(): void {
    this.closed = true
    if (this.retryTimer !== null) clearTimeout(this.retryTimer)
    this.retryTimer = null
    if (this.isrTimer !== null) clearInterval(this.isrTimer)
    this.isrTimer = null
  }

  /** Once per event-loop turn, so every leadership won in it goes in one request. */
  private scheduleFlush(): void {
    if (this.flushQueued || this.sending || this.retryTimer !== null || this.closed) return
    this.flushQueued = true
    setImmediate(() => {
      this.flushQueued = false
      void this.flush()
    })
  }

  private async flush(): Promise<void> {
    if (this.sending || this.closed) return
    const batch = this.takeNews()
    if (batch.length === 0) return
    this.sending = true
    let response: ResponseProps
    try {
      response = await this.o.controller.send('leaderReports', {
        brokerId: this.o.brokerId,
        reports: batch.map((r) => ({ topicId: uuidBytes(r.topicId), partition: r.partition, leaderEpoch: r.leaderEpoch, isr: r.isr === undefined ? [] : [...r.isr] })),
      }, this.o.requestTimeoutMs ?? LEADER_REPORT_TIMEOUT_MS)
    } catch (err) {
      response = { error: { code: ErrorCode.UNKNOWN_SERVER_ERROR, message: (err as Error).message } }
    } finally {
      this.sending = false
    }
    if (this.closed) return
    const code = response.error?.code ?? ErrorCode.NONE
    if (code === ErrorCode.NONE) {
      if (this.failuresInARow > 0) this.o.log.info('leader reports reach the controller again', { brokerId: this.o.brokerId })
      this.failuresInARow = 0
      // Recorded (or stale there): done with each, unless a newer epoch was won meanwhile.
      for (const r of batch) {
        const key = `${r.topicId}/${r.partition}`
        if (this.pending.get(key) === r) this.pending.delete(key)
      }
      this.scheduleFlush()
      return
    }
    if (this.failuresInARow++ === 0) {
      this.o.log.warn('the controller did not record leader reports; sending them again', {
        brokerId: this.o.brokerId, reports: batch.length, code: errorName(code), error: response.error?.message ?? '', retryInMs: this.o.retryMs ?? LEADER_REPORT_RETRY_MS,
      })
    }
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null
      this.scheduleFlush()
    }, this.o.retryMs ?? LEADER_REPORT_RETRY_MS).unref()
  }

  /**
   * The pending reports the committed image does not hold yet, at most one request's worth; the
   * rest are dropped. An ISR change within ISR_REPORT_MIN_INTERVAL_MS of the partition's last is
   * dropped too: the next ISR check offers it again.
   */
  private takeNews(): LedPartition[] {
    const image = this.o.image()
    const now = (this.o.now ?? Date.now)()
    const minIntervalMs = this.o.isrReportMinIntervalMs ?? ISR_REPORT_MIN_INTERVAL_MS
    const batch: LedPartition[] = []
    for (const [key, r] of this.pending) {
      const p = image.topicById(r.topicId)?.partitionStates[r.partition]
      if (p === undefined || !leaderIsNews(p, { leader: this.o.brokerId, leaderEpoch: r.leaderEpoch, isr: r.isr })) {
        this.pending.delete(key) // recorded already, or its topic is gone: nothing to say
        if (p === undefined) this.isrSentAt.delete(key)
        continue
      }
      const isrChangeOnly = p.leaderEpoch === r.leaderEpoch && p.leader === this.o.brokerId
      if (isrChangeOnly && now - (this.isrSentAt.get(key) ?? -Infinity) < minIntervalMs) {
        this.pending.delete(key)
        continue
      }
      if (batch.length < LEADER_REPORTS_PER_REQUEST_MAX) {
        batch.push(r)
        if (r.isr !== undefined) this.isrSentAt.set(key, now)
      }
    }
    return batch
  }
}
