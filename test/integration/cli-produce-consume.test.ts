// `bitacora produce` and `bitacora consume` against one real broker process: stdin lines in,
// formatted records out, offsets and partitions, limits, signals and closed pipes, errors.
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { createClient } from '../../src/client/node.js'
import { startBroker } from './broker-process.js'

const BIN = new URL('../../dist/cli/main.js', import.meta.url).pathname

interface Run {
  status: number | null
  stdout: string
  stderr: string
  ms: number
}

function cli(args: string[], input = ''): Promise<Run> {
  const { BITACORA_BROKERS: _, ...env } = process.env
  const started = Date.now()
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  child.stdin.end(input)
  const guard = setTimeout(() => child.kill('SIGKILL'), 30_000)
  return new Promise((resolve) => child.once('close', (status) => {
    clearTimeout(guard)
    resolve({ status, stdout, stderr, ms: Date.now() - started })
  }))
}

function failsWith(t: Test, r: Run, code: number, pattern: RegExp) {
  t.equal(r.status, code, `exit code ${code}`)
  const lines = r.stderr.trimEnd().split('\n')
  t.equal(lines.length, 1, `one line on stderr: ${r.stderr}`)
  t.match(lines[0], /^bitacora: /)
  t.match(lines[0], pattern)
}

const lines = (s: string) => s.split('\n').filter((l) => l.length > 0)

t.test('produce and consume', async (t) => {
  const broker = await startBroker(t)
  const bs = ['--bootstrap-server', broker.url]
  const produce = (topic: string, input: string, ...args: string[]) => cli(['produce', topic, ...args, ...bs], input)
  const consume = (topic: string, ...args: string[]) => cli(['consume', topic, ...args, ...bs])
  for (const [topic, partitions] of [['keyed', 3], ['plain', 1], ['codecs', 2], ['big', 1]] as const) {
    const r = await cli(['topics', 'create', topic, '--partitions', String(partitions), ...bs])
    t.equal(r.status, 0, r.stderr)
  }

  t.test('keys and headers in; --format and --json out', async (t) => {
    const input = ['alice|1', 'bob|2', 'alice|3', 'carol|x|y', 'bob|', '|no key'].join('\n') + '\n'
    const p = await produce('keyed', input, '--key-separator', '|', '--header', 'source=cli', '--header', 'trace=a=b')
    t.equal(p.status, 0, p.stderr)
    t.equal(p.stderr, 'produced 6 records to keyed\n', 'the count goes to stderr')
    t.equal(p.stdout, '')

    const f = await consume('keyed', '--from-beginning', '--max-messages', '6', '--format', '%k=%s %p %o %h')
    t.equal(f.status, 0, f.stderr)
    t.equal(f.stderr, 'consumed 6 records from keyed\n')
    const rows = lines(f.stdout).map((l) => /^(.*)=(.*) (\d+) (\d+) source=cli,trace=a=b$/.exec(l)!)
    t.equal(rows.length, 6)
    t.ok(rows.every(Boolean), f.stdout)
    t.strictSame(rows.map((m) => `${m[1]}=${m[2]}`).sort(), ['=no key', 'alice=1', 'alice=3', 'bob=', 'bob=2', 'carol=x|y'])
    const partitionOf = new Map<string, Set<string>>()
    for (const m of rows) partitionOf.set(m[1], (partitionOf.get(m[1]) ?? new Set()).add(m[3]))
    for (const [key, ps] of partitionOf) t.equal(ps.size, 1, `key '${key}' stays in one partition`)
    const alice = rows.filter((m) => m[1] === 'alice')
    t.ok(Number(alice[0][4]) < Number(alice[1][4]) && alice[0][2] === '1', 'in order within a partition')

    const j = await consume('keyed', '--from-beginning', '--max-messages', '6', '--json')
    t.equal(j.status, 0, j.stderr)
    const objects = lines(j.stdout).map((l) => JSON.parse(l))
    t.equal(objects.length, 6)
    t.match(objects.find((o) => o.key === 'carol'), {
      topic: 'keyed', partition: Number, offset: Number, timestamp: Number, key: 'carol', value: 'x|y',
      headers: [{ key: 'source', value: 'cli' }, { key: 'trace', value: 'a=b' }],
    })
    t.ok(objects.some((o) => o.key === '' && o.value === 'no key'), 'an empty key is "" (not null)')
    t.ok(Math.abs(objects[0].timestamp - Date.now()) < 60_000, 'timestamps are milliseconds')
  })

  t.test('--partition, --offset, --from-beginning, --max-messages, --timeout-ms', async (t) => {
    const p = await produce('plain', 'zero\none\ntwo\nthree\n', '--partition', '0')
    t.equal(p.status, 0, p.stderr)
    const all = await consume('plain', '--from-beginning', '--timeout-ms', '1000', '--format', '%o %s')
    t.equal(all.status, 0, all.stderr)
    const rows = lines(all.stdout)
    t.strictSame(rows.map((l) => l.split(' ')[1]), ['zero', 'one', 'two', 'three'], 'exits once idle, having printed everything')
    const second = Number(rows[1].split(' ')[0])

    const [fromOffset, onePartition, limited, latest] = await Promise.all([
      consume('plain', '--offset', String(second), '--timeout-ms', '1000'),
      consume('plain', '--partition', '0', '--from-beginning', '--max-messages', '2', '--format', '%p:%s'),
      consume('plain', '--offset', 'earliest', '--max-messages', '1'),
      consume('plain', '--timeout-ms', '700'),
    ])
    t.equal(fromOffset.stdout, 'one\ntwo\nthree\n', '--offset starts there')
    t.equal(onePartition.stdout, '0:zero\n0:one\n')
    t.equal(limited.stdout, 'zero\n')
    t.equal(limited.stderr, 'consumed 1 record from plain\n')
    t.equal(latest.stdout, '', 'by default only new records')
    for (const r of [fromOffset, onePartition, limited, latest]) t.equal(r.status, 0, r.stderr)

    // A consumer started before the records arrive gets them.
    const waiting = consume('plain', '--max-messages', '2')
    await new Promise((resolve) => setTimeout(resolve, 1500))
    t.equal((await produce('plain', 'later-1\nlater-2\n')).status, 0)
    const got = await waiting
    t.equal(got.status, 0, got.stderr)
    t.equal(got.stdout, 'later-1\nlater-2\n')
  })

  t.test('acks and compression round-trip', async (t) => {
    const runs = await Promise.all([
      produce('codecs', 'a-gzip\nb-gzip\n', '--compression', 'gzip', '--acks', '1'),
      produce('codecs', 'a-snappy\nb-snappy\n', '--compression', 'snappy', '--acks', 'all'),
      produce('codecs', 'a-lz4\nb-lz4\n', '--compression', 'lz4', '--acks', '0'),
      produce('codecs', 'a-none\nb-none\n', '--compression', 'none'),
    ])
    for (const r of runs) t.equal(r.stderr, 'produced 2 records to codecs\n')
    const c = await consume('codecs', '--from-beginning', '--max-messages', '8', '--timeout-ms', '5000')
    t.equal(c.status, 0, c.stderr)
    t.strictSame(lines(c.stdout).sort(), ['a-gzip', 'a-lz4', 'a-none', 'a-snappy', 'b-gzip', 'b-lz4', 'b-none', 'b-snappy'])
  })

  t.test('binary values: base64 in, base64 out; null key and value', async (t) => {
    await cli(['topics', 'create', 'binary', ...bs])
    const raw = [Buffer.from([0, 1, 2, 255, 10, 13]), Buffer.from('plain text'), Buffer.alloc(0)]
    const p = await produce('binary', raw.map((b) => b.toString('base64')).join('\n') + '\n', '--value-encoding', 'base64')
    t.equal(p.status, 0, p.stderr)
    // A tombstone with a null key and a null header value, written by the client library.
    const client = createClient({ brokers: [broker.url], clientId: 'cli-test' })
    const producer = await client.producer()
    await producer.send({ topic: 'binary', key: null, value: null, headers: [{ key: 'h', value: null }] })
    await client.close()

    const [b64, json, text] = await Promise.all([
      consume('binary', '--from-beginning', '--max-messages', '4', '--value-encoding', 'base64', '--format', '%s'),
      consume('binary', '--from-beginning', '--max-messages', '4', '--json', '--value-encoding', 'base64'),
      consume('binary', '--from-beginning', '--max-messages', '4', '--format', '[%k|%s|%h] %S'),
    ])
    t.strictSame(lines(b64.stdout).map((l) => Buffer.from(l, 'base64')), raw.slice(0, 2), 'bytes survive (empty and null values print as empty)')
    t.equal(b64.stdout.split('\n').length, 5, 'one line per record')
    const objects = lines(json.stdout).map((l) => JSON.parse(l))
    t.strictSame(objects.map((o) => o.value), [...raw.map((b) => b.toString('base64')), null])
    t.strictSame(objects.map((o) => o.key), [null, null, null, null])
    t.strictSame(objects[3].headers, [{ key: 'h', value: null }])
    // The first value holds a raw newline: take the last two records' lines.
    t.strictSame(text.stdout.split('\n').slice(-3), ['[||] 0', '[||h=] -1', ''], 'null prints as empty with --format; empty is length 0')
  })

  t.test('consume | head, and SIGINT, end cleanly', async (t) => {
    const many = Array.from({ length: 20_000 }, (_, i) => `record-${i}`).join('\n') + '\n'
    const p = await produce('big', many, '--compression', 'lz4')
    t.equal(p.stderr, 'produced 20000 records to big\n')

    const started = Date.now()
    const head = spawn('bash', ['-c', `"${process.execPath}" "${BIN}" consume big --from-beginning --timeout-ms 20000 --bootstrap-server ${broker.url} | head -n 2; echo "status=\${PIPESTATUS[0]}" >&2`])
    let out = ''
    let err = ''
    head.stdout.on('data', (d) => (out += d))
    head.stderr.on('data', (d) => (err += d))
    await new Promise((resolve) => head.once('close', resolve))
    t.equal(out, 'record-0\nrecord-1\n')
    t.match(err, /status=0/, 'exit code 0 when the reader goes away')
    t.notMatch(err, /EPIPE|Error|\n\s+at /, 'no error or stack trace')
    t.ok(Date.now() - started < 15_000, 'stops at the closed pipe, not at the idle timeout')

    const child = spawn(process.execPath, [BIN, 'consume', 'big', '--from-beginning', '--format', '%o', ...bs], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    const status = new Promise<number | null>((resolve) => child.once('close', resolve))
    await new Promise((resolve) => child.stdout.once('data', resolve))
    child.stdout.resume()
    child.kill('SIGINT')
    t.equal(await status, 0, 'SIGINT is a normal stop')
    t.match(stderr, /^consumed \d+ records? from big\n$/)
  })

  t.test('errors: one line, exit 1 (operational) or 2 (usage)', async (t) => {
    const [unknownP, unknownC, noSep, badB64, noPartitionP, noPartitionC] = await Promise.all([
      produce('ghost', 'x\n'),
      consume('ghost', '--from-beginning'),
      produce('plain', 'k|v\nno separator here\n', '--key-separator', '|'),
      produce('plain', 'not base64!\n', '--value-encoding', 'base64'),
      produce('plain', 'x\n', '--partition', '5'),
      consume('plain', '--partition', '5'),
    ])
    failsWith(t, unknownP, 1, /unknown topic 'ghost'/)
    failsWith(t, unknownC, 1, /unknown topic 'ghost'/)
    failsWith(t, noSep, 1, /line 2 has no key separator "\|" \(1 records produced before the failure\)/)
    failsWith(t, badB64, 1, /line 1: value is not base64/)
    failsWith(t, noPartitionP, 1, /topic 'plain' has no partition 5 \(it has 1\)/)
    failsWith(t, noPartitionC, 1, /topic 'plain' has no partition 5/)

    // Usage errors exit 2 (every one of them: cli-usage.test.ts, in process).
    const [acks, both] = await Promise.all([produce('plain', '', '--acks', '2'), consume('plain', '--json', '--format', '%s')])
    failsWith(t, acks, 2, /--acks: expected one of 0, 1, all/)
    failsWith(t, both, 2, /--format or --json, not both/)
  })
})
