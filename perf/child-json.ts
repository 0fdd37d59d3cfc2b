// Runs one perf script in a child process (`node --import tsx SCRIPT ARGS --json FILE`), echoing
// its output indented, and returns the JSON it wrote to FILE. A script that exits non-zero or
// writes no JSON is an error naming the script. The child is stopped with the rest of the run
// (perf/processes.ts) on failure and on Ctrl-C; scripts that start brokers stop them on SIGTERM
// (perf/teardowns.ts).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { startChild, tempDir } from './processes.js'

const ROOT = new URL('..', import.meta.url).pathname

export async function runJsonScript<T>(script: string, args: readonly string[]): Promise<T> {
  const file = join(tempDir('json'), 'out.json')
  const child = startChild(process.execPath, ['--import', 'tsx', join(ROOT, script), ...args, '--json', file], {
    cwd: ROOT, echo: (line) => console.log(`    ${line}`),
  })
  const code = await child.exited
  if (code !== 0) throw new Error(`${script} exited with ${code}`)
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T
  } catch (err) {
    throw new Error(`${script} wrote no readable JSON to ${file}: ${(err as Error).message}`)
  }
}
