// Kafka's ThroughputThrottler: given a target rate (records/s; -1 = unthrottled), tells the
// sender how long to wait so that the records sent so far do not run ahead of the rate.
export class Throttle {
  constructor(private readonly perSecond: number, private readonly startMs: number) {}

  get unthrottled(): boolean {
    return this.perSecond <= 0
  }

  /** Milliseconds to wait before sending record number `sent` (0 when on or behind schedule). */
  waitMs(sent: number, nowMs: number): number {
    if (this.perSecond <= 0) return 0
    const due = this.startMs + (sent * 1000) / this.perSecond
    return due > nowMs ? due - nowMs : 0
  }
}
