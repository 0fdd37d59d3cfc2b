// consume --group: commits what was printed, not what was fetched — per partition the offset
// after its last printed record — every GROUP_COMMIT_INTERVAL_MS, for the partitions the group
// takes away (from onRevoked, which the member awaits before the partition moves), and at exit
// (bounded by GROUP_EXIT_COMMIT_MS). A failed commit is said on stderr (once) and retried with
// the next; the group's next member re-reads from the last commit that landed: a record may be
// printed twice across members, never skipped.
import type { Consumer, TopicPartition } from '../client/node.js'
import { GROUP_COMMIT_INTERVAL_MS, GROUP_EXIT_COMMIT_MS } from './limits.js'

export class PrintedOffsets {
  /** Partition → the offset after its last printed record, not committed yet. */
  private readonly pending = new Map<number, number>()
  private readonly interval: ReturnType<typeof setInterval>
  private warned = false

  constructor(
    private readonly consumer: Consumer,
    private readonly groupId: string,
    private readonly topic: string,
    private readonly warn: (line: string) => void,
  ) {
    this.interval = setInterval(() => void this.commit([...this.pending.keys()], true), GROUP_COMMIT_INTERVAL_MS)
    this.interval.unref()
  }

  printed(partition: number, nextOffset: number): void {
    this.pending.set(partition, nextOffset)
  }

  /** The revoked partitions' printed offsets, before they move to another member (not retried: no longer ours). */
  commitRevoked(revoked: readonly TopicPartition[]): Promise<void> {
    return this.commit(revoked.filter((tp) => tp.topic === this.topic).map((tp) => tp.partition), false)
  }

  /** Everything printed, waiting at most GROUP_EXIT_COMMIT_MS; no more commits after it. */
  async commitAtExit(): Promise<void> {
    clearInterval(this.interval)
    let timer: ReturnType<typeof setTimeout> | undefined
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), GROUP_EXIT_COMMIT_MS)))
    const late = await Promise.race([this.commit([...this.pending.keys()], false).then(() => false), timedOut])
    clearTimeout(timer)
    if (late) this.say(`its last commit did not finish within ${GROUP_EXIT_COMMIT_MS} ms`)
  }

  private async commit(partitions: readonly number[], retry: boolean): Promise<void> {
    const offsets = partitions.flatMap((partition) => {
      const offset = this.pending.get(partition)
      return offset === undefined ? [] : [{ topic: this.topic, partition, offset }]
    })
    if (offsets.length === 0) return
    for (const o of offsets) this.pending.delete(o.partition)
    try {
      await this.consumer.commit(offsets)
    } catch (err) {
      // Put back what nothing newer replaced, for the next commit to take.
      if (retry) for (const o of offsets) if (!this.pending.has(o.partition)) this.pending.set(o.partition, o.offset)
      this.say(`a commit failed (${(err as Error).message})`)
    }
  }

  private say(what: string): void {
    if (this.warned) return
    this.warned = true
    this.warn(`bitacora: warning: group ${this.groupId}: ${what}; its next member may print again what this one printed since its last commit (said once)`)
  }
}
