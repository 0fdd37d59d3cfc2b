// `bitacora topics reassign`: bad arguments are usage errors naming the problem, before any broker is asked.
import t from 'tap'
import { topicsCommand } from '../../src/cli/topics.js'

const usage = async (argv: string[], pattern: RegExp) => t.rejects(topicsCommand(['reassign', ...argv], () => {}), { name: 'UsageError', message: pattern })

t.test('topics reassign refuses bad arguments with a usage error', async () => {
  await usage(['orders', '--replicas', '1,2'], /give --partition P/)
  await usage(['orders', '-p', '0'], /give --replicas ID,ID,\.\.\. \(or --cancel\)/)
  await usage(['orders', '-p', '0', '--replicas', '1,2', '--cancel'], /--replicas or --cancel, not both/)
  await usage(['orders', '-p', '0', '--replicas', '1,2,1'], /names broker 1 twice/)
  await usage(['orders', '-p', '0', '--replicas', '1,x'], /--replicas: expected an integer in \[0, 2147483647\], got 'x'/)
  await usage(['orders', '-p', '-1', '--replicas', '1'], /--partition: expected an integer/)
  await usage(['-p', '0', '--replicas', '1'], /missing TOPIC/)
  await usage(['orders', '-p', '0', '--replicas', '1', '--timeout-ms', '0'], /--timeout-ms: expected an integer/)
})

t.test('topics reassign --help prints its usage', async (t) => {
  const lines: string[] = []
  t.equal(await topicsCommand(['reassign', '--help'], (l) => lines.push(l)), 0)
  t.match(lines.join('\n'), /usage: bitacora topics reassign TOPIC --partition P \(--replicas ID,ID,\.\.\. \| --cancel\)/)
})
