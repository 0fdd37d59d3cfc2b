// The process's open-file limit (Linux: /proc/self/limits), so the replica manager can say so
// before partitions fail to open with EMFILE: a broker keeps one descriptor open per partition
// (its active segment), and the common soft limit of 1,024 is below 1,000 partitions' needs.
import { readFileSync } from 'node:fs'

/** The soft "Max open files" limit in `limits` (the text of /proc/PID/limits), or null if it names none or none is set. */
export function openFilesLimit(limits: string): number | null {
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(limits)
  return m === null || m[1] === 'unlimited' ? null : Number(m[1])
}

/** This process's soft open-file limit, or null where it cannot be read (not Linux) or is unlimited. */
export function ownOpenFilesLimit(): number | null {
  try {
    return openFilesLimit(readFileSync('/proc/self/limits', 'utf8'))
  } catch {
    return null
  }
}
