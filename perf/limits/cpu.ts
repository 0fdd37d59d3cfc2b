// CPU time this process spent (user + system) since `since`, in ms: what a limit measurement
// charges per MiB moved (perf/report/bounds.ts turns those costs into a machine's bounds).
export function cpuMsSince(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since)
  return (d.user + d.system) / 1000
}
