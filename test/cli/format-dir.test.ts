// `bitacora format`: writes meta.properties through the broker's data-dir.ts (read back with its
// parser), leaves a directory of the same node and cluster alone, refuses one of another node or
// cluster having written nothing, and refuses bad input (exit 2) before touching the disk.
import t, { type Test } from 'tap'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDataDir, parseMeta } from '../../src/broker/data-dir.js'
import { failureOf, UsageError } from '../../src/cli/errors.js'
import { clusterIdProblem, formatCommand } from '../../src/cli/format-dir.js'
import { NodeFileLayer } from '../../src/storage/index.js'

function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'bitacora-format-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function run(argv: string[]): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = []
  const code = await formatCommand(argv, (line) => lines.push(line))
  return { code, lines }
}

const meta = (dir: string) => parseMeta(readFileSync(join(dir, 'meta.properties'), 'utf8'), 'meta.properties')

t.test('formats a new directory (created if missing) for the node and cluster', async (t) => {
  const dir = join(tempDir(t), 'node-1', 'data')
  const { code, lines } = await run(['--data-dir', dir, '--id', '1', '--cluster-id', 'blue-7'])
  t.equal(code, 0)
  const written = meta(dir)
  t.match(written, { clusterId: 'blue-7', nodeId: 1, directoryId: /^[0-9a-f-]{36}$/ })
  t.strictSame(lines, [`data directory ${dir}: node 1 of cluster blue-7 (directory id ${written.directoryId})`])
  t.strictSame(readdirSync(dir), ['meta.properties'], 'no lock left behind')
  const opened = await openDataDir(new NodeFileLayer(), dir, { nodeId: 1 })
  t.strictSame(opened.identity, written, 'a broker started on it finds the cluster id without being told')
  await opened.release()
})

t.test('formatting again for the same node and cluster keeps the directory id', async (t) => {
  const dir = tempDir(t)
  await run(['--data-dir', dir, '--id', '2', '--cluster-id', 'c'])
  const before = readFileSync(join(dir, 'meta.properties'), 'utf8')
  t.equal((await run(['--data-dir', dir, '--id', '2', '--cluster-id', 'c'])).code, 0)
  t.equal(readFileSync(join(dir, 'meta.properties'), 'utf8'), before)
})

t.test('a directory of another node or another cluster is refused (exit 1), unchanged', async (t) => {
  const dir = tempDir(t)
  await run(['--data-dir', dir, '--id', '2', '--cluster-id', 'c'])
  const before = readFileSync(join(dir, 'meta.properties'), 'utf8')
  const cases: Array<[string[], RegExp]> = [
    [['--id', '3', '--cluster-id', 'c'], /^format: data directory .* belongs to node 2 \(meta.properties\); start it with --id 2, or give node 3 its own --data-dir$/],
    [['--id', '2', '--cluster-id', 'd'], /^format: data directory .* belongs to cluster c, not d \(meta.properties\); give this node another --data-dir$/],
  ]
  for (const [argv, message] of cases) {
    const err = await run(['--data-dir', dir, ...argv]).catch((e: unknown) => e)
    t.match(failureOf(err), { exitCode: 1, message })
    t.equal(readFileSync(join(dir, 'meta.properties'), 'utf8'), before)
  }
})

t.test('a one-node directory of the release before (a cluster-id file) is taken over only for its own cluster', async (t) => {
  const dir = tempDir(t)
  writeFileSync(join(dir, 'cluster-id'), 'old-1\n')
  const err = await run(['--data-dir', dir, '--id', '0', '--cluster-id', 'new-1']).catch((e: unknown) => e)
  t.match(failureOf(err), { exitCode: 1, message: /belongs to cluster old-1, not new-1/ })
  t.notOk(existsSync(join(dir, 'meta.properties')))
  t.equal((await run(['--data-dir', dir, '--id', '0', '--cluster-id', 'old-1'])).code, 0)
  t.match(meta(dir), { clusterId: 'old-1', nodeId: 0 })
})

t.test('a directory in use by a running node is refused', async (t) => {
  const dir = tempDir(t)
  const held = await openDataDir(new NodeFileLayer(), dir, { nodeId: 1, clusterId: 'c' })
  t.teardown(() => held.release())
  const err = await run(['--data-dir', dir, '--id', '1', '--cluster-id', 'c']).catch((e: unknown) => e)
  t.match(failureOf(err), { exitCode: 1, message: new RegExp(`is in use by another process \\(pid ${process.pid}\\)`) })
})

t.test('--random-cluster-id prints a new, valid id each time', async (t) => {
  const a = await run(['--random-cluster-id'])
  const b = await run(['--random-cluster-id'])
  t.equal(a.code, 0)
  t.equal(a.lines.length, 1)
  t.equal(clusterIdProblem(a.lines[0]), null, a.lines[0])
  t.not(a.lines[0], b.lines[0])
})

t.test('bad input is a usage error (exit 2), nothing written', async (t) => {
  const dir = join(tempDir(t), 'never')
  const cases: Array<[string[], RegExp]> = [
    [['--data-dir', dir, '--id', '1'], /^format: missing --cluster-id \(see bitacora format --help\)$/],
    [[], /^format: missing --data-dir, --id, --cluster-id/],
    [['--data-dir', dir, '--id', 'x', '--cluster-id', 'c'], /^--id: expected an integer in \[0, 2147483647\], got 'x'$/],
    [['--data-dir', dir, '--id', '-1', '--cluster-id', 'c'], /^--id: expected an integer/],
    [['--data-dir', dir, '--id', '1', '--cluster-id', 'a b'], /^format: --cluster-id 'a b' is not a cluster id: use letters, digits/],
    [['--data-dir', dir, '--id', '1', '--cluster-id', ''], /^format: --cluster-id '' is not a cluster id/],
    [['--data-dir', dir, '--id', '1', '--cluster-id', 'x'.repeat(65)], /is not a cluster id: .*at most 64/],
    [['--data-dir', '', '--id', '1', '--cluster-id', 'c'], /^format: --data-dir must not be empty$/],
    [['--random-cluster-id', '--id', '1'], /^format: give --random-cluster-id alone \(not with --id\)$/],
    [['--data-dir', dir, '--id', '1', '--cluster-id', 'c', 'extra'], /^format: unexpected argument 'extra'$/],
    [['--cluster', 'c'], /^format: unknown option '--cluster'$/],
  ]
  for (const [argv, message] of cases) {
    const err = await run(argv).catch((e: unknown) => e)
    t.type(err, UsageError, argv.join(' '))
    t.match((err as Error).message, message)
    t.equal(failureOf(err)?.exitCode, 2)
  }
  t.notOk(existsSync(dir))
})
