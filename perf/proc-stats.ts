// What another process on this machine has used, from /proc (Linux): CPU seconds (what a
// benchmark charges a broker for a workload, independent of the wall-clock time a shared
// machine stretches) and resident memory.
import { readFileSync } from 'node:fs'

/** Clock ticks per second of /proc/PID/stat's utime and stime (USER_HZ: 100 on Linux). */
const USER_HZ = 100

/** User + system CPU seconds process `pid` has used since it started. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')
  return (Number(fields[11]) + Number(fields[12])) / USER_HZ // utime, stime: fields 14 and 15 of stat
}

/** Resident set size in MB (/proc/PID/status VmRSS). */
export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m === null ? Number.NaN : Number(m[1]) / 1024
}

/** CPU seconds of every process in `pids` together. */
export const totalCpuSeconds = (pids: readonly number[]): number => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0)
