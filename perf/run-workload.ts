// Runs one workload in a fresh child process (perf/workload.ts) and returns its JSON result;
// its Kafka-format lines are echoed as they come, `onReady` is called when it prints @@READY.
// Optionally with --cpu-prof.
import { NODE_FLAGS } from '../src/cli/node-flags.js'
import { startChild } from './processes.js'
import type { WorkloadSpec } from './workload.js'

const WORKLOAD = new URL('./workload.ts', import.meta.url).pathname

export async function runWorkload<T>(spec: WorkloadSpec, options: { cpuProfDir?: string; echo?: (line: string) => void; onReady?: () => void } = {}): Promise<T> {
  const profile = options.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfDir] : []
  const echo = options.echo ?? ((line: string) => console.log(`    ${line}`))
  const child = startChild(process.execPath, [...NODE_FLAGS, ...profile, '--import', 'tsx', WORKLOAD, JSON.stringify(spec)], {
    echo: (line) => {
      if (line === '@@READY') options.onReady?.()
      else if (!line.startsWith('@@')) echo(line)
    },
  })
  const code = await child.exited
  const out = child.output()
  const result = /^@@RESULT (.*)$/m.exec(out)
  if (result) return JSON.parse(result[1]!) as T
  const error = /^@@ERROR (.*)$/m.exec(out)
  throw new Error(error ? (JSON.parse(error[1]!) as string) : `workload exited with ${code}: ${out.slice(-1500)}`)
}
