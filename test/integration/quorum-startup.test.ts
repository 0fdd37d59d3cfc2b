// Bad --controller-voters input refused at start: one line naming what is wrong, a non-zero
// exit, nothing served. Flag mistakes (syntax, duplicate ids, a malformed URL, no --id) exit 2
// like every flag mistake; a list that disagrees with the voters the data directory's metadata
// log started with exits 1 (a startup refusal) and leaves the directory as it was.
import t, { type Test } from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { startBroker, tempDataDir } from './broker-process.js'
import { runCli } from './cli-process.js'

const REFUSAL_MS_MAX = 10_000

/** Runs `bitacora broker ARGS` to its exit (killed past REFUSAL_MS_MAX). */
const runBroker = (args: string[]) => runCli(['broker', ...args], { timeoutMs: REFUSAL_MS_MAX })

function oneLine(t: Test, r: { stdout: string; stderr: string }, pattern: RegExp) {
  const lines = r.stderr.trim().split('\n')
  t.equal(lines.length, 1, `one line on stderr: ${r.stderr}`)
  t.match(lines[0], pattern)
  t.equal(r.stdout, '', 'it never said it was listening')
}

t.test('flag mistakes: exit 2, one line naming the entry and the problem', async (t) => {
  const dir = tempDataDir(t)
  const cases: Array<[string[], RegExp]> = [
    [['--controller-voters', '1@ws://127.0.0.1:9092'], /--controller-voters needs --id/],
    [['--id', '1', '--controller-voters', '1=ws://127.0.0.1:9092'], /'1=ws:\/\/127.0.0.1:9092' is not ID@URL/],
    [['--id', '1', '--controller-voters', '1@ws://127.0.0.1:9092,1@ws://127.0.0.1:9093'], /node 1 is listed twice/],
    [['--id', '1', '--controller-voters', '1@ws://127.0.0.1:9092,2@http://127.0.0.1:9093'], /'2@http:\/\/127.0.0.1:9093': the scheme is http, not ws or wss/],
  ]
  for (const [args, pattern] of cases) {
    const r = await runBroker(['--port', '0', '--data-dir', dir, ...args])
    t.equal(r.status, 2, args.join(' '))
    oneLine(t, r, pattern)
  }
})

t.test('a voter list other than the one the data directory started with: exit 1, one line, nothing changed', async (t) => {
  const alone = await startBroker(t, { args: ['--id', '1'] })
  await alone.stop()
  const bootstrap = join(alone.dataDir, '__cluster_metadata-0', 'bootstrap-voters.json')
  const recorded = readFileSync(bootstrap, 'utf8')
  const r = await runBroker(['--port', '0', '--data-dir', alone.dataDir, '--id', '1', '--controller-voters', '1@ws://127.0.0.1:9092,2@ws://127.0.0.1:9093'])
  t.equal(r.status, 1)
  oneLine(t, r, /^bitacora broker: this start gives --controller-voters naming nodes 1, 2, but the metadata log in .* was started without --controller-voters \(node 1 alone\); start the node with its original list/)
  t.equal(readFileSync(bootstrap, 'utf8'), recorded, 'the recorded voters are unchanged')
  const again = await startBroker(t, { dataDir: alone.dataDir, args: ['--id', '1'] })
  t.match(again.url, /^ws:\/\//, 'started as first started, it runs')
})

t.test('a first start into a cluster without --cluster-id: exit 1, one line, no data directory written', async (t) => {
  const dir = join(tempDataDir(t), 'new')
  const r = await runBroker(['--port', '0', '--data-dir', dir, '--id', '1', '--controller-voters', '1@ws://127.0.0.1:9092,2@ws://127.0.0.1:9093'])
  t.equal(r.status, 1)
  oneLine(t, r, /^bitacora broker: --controller-voters names other nodes \(2\) and .*new belongs to no cluster yet: give every node the same --cluster-id/)
  t.notOk(existsSync(dir), 'nothing written')
})
