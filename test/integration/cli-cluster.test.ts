// `bitacora cluster …` and `bitacora format` against real broker processes, run as a user runs
// them (the built CLI as a child process).
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { failsWith, freePort, runCli } from './cli-process.js'
import { startBroker, tempDataDir } from './broker-process.js'

const cli = (args: string[]) => runCli(args, { timeoutMs: 60_000 })

t.test('a node formatted by bitacora format starts with that cluster id; its directory is then refused to others', async (t) => {
  const dir = join(tempDataDir(t), 'node-1')
  const id = (await cli(['format', '--random-cluster-id'])).stdout.trim()
  const formatted = await cli(['format', '--data-dir', dir, '--id', '1', '--cluster-id', id])
  t.equal(formatted.status, 0, formatted.stderr)
  t.match(formatted.stdout, `data directory ${dir}: node 1 of cluster ${id} (directory id `)
  const broker = await startBroker(t, { dataDir: dir, args: ['--id', '1'] })
  const health = await (await fetch(broker.url.replace('ws:', 'http:') + 'health')).json() as { clusterId: string; brokerId: number }
  t.match(health, { clusterId: id, brokerId: 1 }, 'the cluster id came from the directory')
  failsWith(t, await cli(['format', '--data-dir', dir, '--id', '1', '--cluster-id', id]), 1, new RegExp(`format: data directory .* is in use by another process \\(pid ${broker.child.pid}\\)`))
  await broker.stop()
  failsWith(t, await cli(['format', '--data-dir', dir, '--id', '2', '--cluster-id', id]), 1, /belongs to node 1 \(meta.properties\); start it with --id 1, or give node 2 its own --data-dir/)
  failsWith(t, await cli(['format', '--data-dir', dir, '--id', '1', '--cluster-id', 'other']), 1, new RegExp(`belongs to cluster ${id}, not other`))
  t.match(readFileSync(join(dir, 'meta.properties'), 'utf8'), `cluster.id=${id}\n`, 'unchanged')
  failsWith(t, await cli(['format', '--data-dir', dir, '--id', '1']), 2, /format: missing --cluster-id/)
})

t.test('a one-node quorum: describe, the last voter kept, an unreachable node refused without blocking the quorum', async (t) => {
  const port = await freePort()
  const url = `ws://127.0.0.1:${port}/`
  const id = (await cli(['format', '--random-cluster-id'])).stdout.trim()
  const broker = await startBroker(t, { args: ['--id', '1', '--port', String(port), '--cluster-id', id, '--controller-voters', `1@ws://127.0.0.1:${port}`] })
  t.equal(broker.url, url)
  const json = await cli(['cluster', 'describe', '--json', '-b', url])
  t.equal(json.status, 0, json.stderr)
  const d = JSON.parse(json.stdout) as { clusterId: string; leaderId: number; answeredBy: number; voters: Array<{ nodeId: number; lag: number }> }
  t.match(d, { clusterId: id, leaderId: 1, answeredBy: 1 })
  t.strictSame(d.voters.map((v) => [v.nodeId, v.lag]), [[1, 0]])
  const text = await cli(['cluster', 'describe', '-b', url])
  t.equal(text.status, 0, text.stderr)
  t.match(text.stdout, `ClusterId:        ${id}\nLeaderId:         1\n`)
  t.match(text.stdout, /\n1 +[0-9a-f-]{36} +ws:\/\/127\.0\.0\.1:\d+\/ +\d+ +0 +\d+ +Leader\n/, "a lone voter with its directory id")

  failsWith(t, await cli(['cluster', 'remove-voter', '1', '-b', url]), 1, /^bitacora: INVALID_REQUEST: /)
  const unreachable = `ws://127.0.0.1:${await freePort()}/`
  failsWith(t, await cli(['cluster', 'add-voter', '2', unreachable, '--timeout-ms', '3000', '-b', url]), 1, /^bitacora: REQUEST_TIMED_OUT: /)
  const after = await cli(['cluster', 'describe', '--json', '-b', url])
  t.equal(after.status, 0, after.stderr)
  t.strictSame((JSON.parse(after.stdout) as typeof d).voters.map((v) => v.nodeId), [1], 'the voters did not change, and the quorum still answers')
})
