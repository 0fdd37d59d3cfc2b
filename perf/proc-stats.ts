// CPU time of another process on this machine, from /proc (Linux): what a benchmark charges a
// broker process for a workload, independent of the wall-clock time a shared machine stretches.
import { readFileSync } from 'node:fs'

/** Clock ticks per second of /proc/PID/stat's utime and stime (USER_HZ: 100 on Linux). */
const USER_HZ = 100

/** User + system CPU seconds process `pid` has used since it started. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')
  return (Number(fields[11]) + Number(fields[12])) / USER_HZ // utime, stime: fields 14 and 15 of stat
}
