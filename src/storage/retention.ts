// Which segments retention deletes: pure logic over segment summaries, so it is tested without
// files. Only whole closed segments go, oldest first, and only those that end at or below the
// offset the caller allows (the replicated log passes its high watermark); the active
// segment never does. Time retention looks at a segment's newest record (its max timestamp),
// as Kafka does, so a segment goes only when everything in it has expired.
export interface SegmentSummary {
  baseOffset: number
  /** Offset after the segment's last record (the next segment's base for closed ones). */
  endOffset: number
  sizeBytes: number
  /** Largest record timestamp; -1 if the segment is empty. */
  maxTimestamp: number
}

export interface RetentionPolicy {
  retentionMs: number
  retentionBytes: number
}

/** How many of the oldest segments to delete. `segments` is ordered; the last is active. */
export function planRetention(
  segments: readonly SegmentSummary[], policy: RetentionPolicy, nowMs: number, allowedOffset: number,
): number {
  let total = 0
  for (const s of segments) total += s.sizeBytes
  let excess = policy.retentionBytes < 0 ? 0 : total - policy.retentionBytes
  let count = 0
  for (let i = 0; i < segments.length - 1; i++) {
    const s = segments[i]
    if (s.endOffset > allowedOffset) break
    const expired = policy.retentionMs >= 0 && s.maxTimestamp < nowMs - policy.retentionMs
    const oversize = policy.retentionBytes >= 0 && excess - s.sizeBytes >= 0
    if (!expired && !oversize) break
    excess -= s.sizeBytes
    count++
  }
  return count
}
