// `bitacora produce` and `bitacora consume` against one real broker process: stdin lines in,
// formatted records out, offsets and partitions, limits, signals and closed pipes, errors.
import t from 'tap'
import { spawn } from 'node:child_process'
import { createClient } from '../../src/client/node.js'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startBroker, tempDataDir } from './broker-process.js'
import { BIN, failsWith, runCli } from './cli-process.js'

const cli = (args: string[], input: string | Uint8Array = '') => runCli(args, { input })

const lines = (s: string) => s.split('\n').filter((l) => l.length > 0)

t.test('produce and consume', async (t) => {
  const broker = await startBroker(t)
  const bs = ['--bootstrap-server', broker.url]
  const produce = (topic: string, input: string | Uint8Array, ...args: string[]) => cli(['produce', topic, ...args, ...bs], input)
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

    // A consumer started before the records arrive gets them: records go in one at a time until
    // it has two (no guess at how long it takes to start); it prints two that followed each other.
    let done = false
    const waiting = consume('plain', '--max-messages', '2').finally(() => (done = true))
    for (let i = 1; !done && i <= 100; i++) {
      t.equal((await produce('plain', `later-${i}\n`)).status, 0)
    }
    const got = await waiting
    t.equal(got.status, 0, got.stderr)
    const read = lines(got.stdout).map((l) => Number(/^later-(\d+)$/.exec(l)?.[1]))
    t.ok(read.length === 2 && read[0] >= 1 && read[1] === read[0] + 1, `two consecutive records sent after it started: ${got.stdout}`)
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

  t.test('--compression zstd round-trips', async (t) => {
    t.equal((await cli(['topics', 'create', 'zstd', ...bs])).status, 0)
    const p = await produce('zstd', 'a-zstd\nb-zstd\n', '--compression', 'zstd', '--acks', 'all')
    t.equal(p.stderr, 'produced 2 records to zstd\n')
    const c = await consume('zstd', '--from-beginning', '--max-messages', '2', '--timeout-ms', '5000')
    t.equal(c.status, 0, c.stderr)
    t.strictSame(lines(c.stdout), ['a-zstd', 'b-zstd'])
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
    t.match(text.stderr, /^bitacora: warning: the value of binary\/0 at offset \d+ is not valid UTF-8: its bad bytes print as U\+FFFD/, 'the 0xff is not silent')
  })

  t.test('bytes are never changed silently: raw stdin in, base64 JSON or one warning out', async (t) => {
    t.equal((await cli(['topics', 'create', 'raw', ...bs])).status, 0)
    // Not UTF-8, a byte-order mark, a CRLF line end (dropped), then a valid line.
    const notUtf8 = Buffer.from([0x00, 0xff, 0xfe, 0xc3])
    const bom = Buffer.from([0xef, 0xbb, 0xbf, 0x41])
    const input = Buffer.concat([Buffer.from([0x6b, 0xff]), Buffer.from('|'), notUtf8, Buffer.from('\n'), Buffer.from('b|'), bom, Buffer.from('\r\n'), Buffer.from('c|é\n')])
    const p = await produce('raw', input, '-K', '|')
    t.equal(p.status, 0, p.stderr)

    const [json, text, hex] = await Promise.all([
      consume('raw', '-o', 'beginning', '-e', '-J'),
      consume('raw', '-o', 'beginning', '-e', '-f', '%k=%s'),
      consume('raw', '-o', 'beginning', '-e', '-f', '%k=%s', '--value-encoding', 'hex', '--key-encoding', 'hex'),
    ])
    for (const r of [json, text, hex]) t.equal(r.status, 0, r.stderr)
    const objects = lines(json.stdout).map((l) => JSON.parse(l))
    t.match(objects[0], { key: Buffer.from([0x6b, 0xff]).toString('base64'), keyEncoding: 'base64', value: notUtf8.toString('base64'), valueEncoding: 'base64' })
    t.strictSame(Buffer.from(objects[0].value, 'base64'), notUtf8, 'the bytes come back exactly')
    t.equal(objects[1].value, '\ufeffA', 'a BOM is kept (and valid UTF-8 needs no encoding)')
    t.notOk('valueEncoding' in objects[1] || 'valueEncoding' in objects[2])
    t.equal(objects[2].value, 'é')
    t.equal(json.stderr, 'consumed 3 records from raw\n', 'no warning with --json: nothing was changed')

    t.strictSame(lines(hex.stdout), [`6bff=${notUtf8.toString('hex')}`, `62=${bom.toString('hex')}`, `63=${Buffer.from('é').toString('hex')}`], 'hex shows the stored bytes')
    t.equal(hex.stderr, 'consumed 3 records from raw\n')
    t.equal(lines(text.stdout)[0], 'k\ufffd=\u0000\ufffd\ufffd\ufffd')
    const warnings = text.stderr.split('\n').filter((l) => l.includes('warning'))
    t.equal(warnings.length, 1, 'warned once, though two fields of the record are not UTF-8')
    t.match(warnings[0], /^bitacora: warning: the key of raw\/0 at offset \d+ is not valid UTF-8: its bad bytes print as U\+FFFD \(warned once; .*base64 or hex, or --json/)

    // --key-encoding: a binary key written as hex on stdin.
    const k = await produce('raw', '00ff|v\n', '-K', '|', '--key-encoding', 'hex')
    t.equal(k.status, 0, k.stderr)
    const last = await consume('raw', '-o', '-1', '-e', '-J')
    t.match(JSON.parse(last.stdout), { key: 'AP8=', keyEncoding: 'base64', value: 'v' })
  })

  t.test('kcat starts: -o beginning|end|N|-N, out of range said, --from-time, -e', async (t) => {
    t.equal((await cli(['topics', 'create', 'starts', '--partitions', '2', ...bs])).status, 0)
    t.equal((await produce('starts', 'a\nb\nc\nd\ne\n', '-p', '0')).status, 0)
    const firstRun = Date.now()
    const all = await consume('starts', '-p', '0', '-o', 'beginning', '-e', '-f', '%o %s %T')
    t.equal(all.status, 0, all.stderr)
    const rows = lines(all.stdout).map((l) => l.split(' '))
    t.strictSame(rows.map((r) => r[1]), ['a', 'b', 'c', 'd', 'e'], '-e exits once the end is reached')
    const offsets = rows.map((r) => Number(r[0]))
    const end = offsets[4] + 1

    const [last2, fromN, atEnd, tooFar, emptyToo, both] = await Promise.all([
      consume('starts', '-p', '0', '-o', '-2', '-e'),
      consume('starts', '-p', '0', '-o', String(offsets[3]), '-e'),
      consume('starts', '-p', '0', '-o', 'end', '-e'),
      consume('starts', '-p', '0', '-o', '99999', '--timeout-ms', '1500'),
      // Partition 1 holds no record: its log is control batches only, and -e must still end.
      consume('starts', '-o', 'beginning', '-e', '-f', '%p %s'),
      consume('starts', '-o', '-100', '-e', '-c', '2'),
    ])
    t.equal(last2.stdout, 'd\ne\n', '-o -2: two before the end')
    t.equal(fromN.stdout, 'd\ne\n', '-o N: from offset N')
    t.equal(atEnd.stdout, '', '-o end -e: nothing to read')
    t.equal(tooFar.stdout, '')
    t.equal(tooFar.stderr, `bitacora: warning: offset 99999 is out of range for starts/0 (log start 0, end ${end}): starting at the end, offset ${end}\nconsumed 0 records from starts\n`,
      'an offset past the end is said, not reset silently')
    t.strictSame(lines(emptyToo.stdout), ['0 a', '0 b', '0 c', '0 d', '0 e'], 'every partition read to its end, an empty one too')
    t.equal(both.stdout, 'a\nb\n', '-o -N never goes before the log start; -c counts')
    for (const r of [last2, fromN, atEnd, tooFar, emptyToo, both]) t.equal(r.status, 0, r.stderr)

    // --from-time: records written after a moment, found by their timestamps.
    while (Date.now() <= firstRun) await new Promise((resolve) => setImmediate(resolve))
    const later = Date.now()
    t.equal((await produce('starts', 'f\ng\n', '-p', '0')).status, 0)
    const [byMs, byIso, future] = await Promise.all([
      consume('starts', '-p', '0', '--from-time', String(later), '-e'),
      consume('starts', '-p', '0', '--from-time', new Date(later).toISOString(), '-e'),
      consume('starts', '--from-time', String(later + 3_600_000), '-e'),
    ])
    t.equal(byMs.stdout, 'f\ng\n', '--from-time in epoch ms')
    t.equal(byIso.stdout, 'f\ng\n', '--from-time as an ISO date')
    t.equal(future.stdout, '', 'no record after the time: start at the end')
    for (const r of [byMs, byIso, future]) t.equal(r.status, 0, r.stderr)
  })

  t.test('short flags and -t, -k/-K: the kcat way', async (t) => {
    t.equal((await cli(['topics', 'create', 'short', '-b', broker.url, '--partitions', '2'])).status, 0)
    const [sep, fixed] = await Promise.all([
      cli(['produce', '-b', broker.url, '-t', 'short', '-K', ':', '-H', 'h=1', '-z', 'lz4'], 'k1:v1\nk2:v2\n'),
      cli(['produce', '-b', broker.url, '-t', 'short', '-k', 'same', '-p', '1'], 'x\ny\n'),
    ])
    t.equal(sep.status, 0, sep.stderr)
    t.equal(fixed.status, 0, fixed.stderr)
    const got = await cli(['consume', '-b', broker.url, '-t', 'short', '-o', 'beginning', '-e', '-K', ' => '])
    t.equal(got.status, 0, got.stderr)
    t.strictSame(lines(got.stdout).sort(), ['k1 => v1', 'k2 => v2', 'same => x', 'same => y'], '-K prints key SEP value')
    const p1 = await cli(['consume', '-b', broker.url, '-t', 'short', '-p', '1', '-eo', 'beginning', '-f', '%k %h'])
    t.ok(lines(p1.stdout).includes('same '), '-k: the key of every record, -p: its partition')
  })

  t.test('perf consume asking for more records than the topic holds says why (exit 1)', async (t) => {
    t.equal((await cli(['topics', 'create', 'few', ...bs])).status, 0)
    t.equal((await produce('few', 'a\nb\nc\n')).status, 0)
    const r = await cli(['perf', 'consume', '-t', 'few', '--messages', '10', '--timeout-ms', '1000', ...bs])
    t.equal(r.status, 1)
    const errs = r.stderr.trimEnd().split('\n')
    t.match(errs[0], /^bitacora: warning: topic 'few' holds at most \d+ records, fewer than --messages 10: waiting for more \(until 1000 ms pass without one, --timeout-ms\)$/)
    t.match(errs.at(-1), /^bitacora: perf consume: read 3 of 10 records: no record arrived for 1000 ms \(--timeout-ms\); the topic held at most \d+ when the run started$/)
    t.match(r.stdout, /data\.consumed\.in\.nMsg.*\n.*, 3, /, 'the summary still printed')
    t.ok(r.ms < 15_000, 'ends at the idle timeout, not at --max-seconds')
    const enough = await cli(['perf', 'consume', '-t', 'few', '--messages', '3', ...bs])
    t.equal(enough.status, 0, enough.stderr)
  })

  t.test('perf e2e: every record sent is read back once, with its latency; records under 24 bytes refused', async (t) => {
    const dir = tempDataDir(t)
    const json = join(dir, 'e2e.json')
    const r = await cli(['perf', 'e2e', '-t', 'e2e', '--rate', '2000', '--seconds', '2', '--record-size', '24', '--json', json, ...bs])
    t.equal(r.status, 0, r.stderr)
    t.match(r.stdout, /^e2e 2000 records\/s target, \d+ sent\/s, (\d+)\/\1 received: [\d.]+ ms avg, [\d.]+ ms 50th/m)
    const result = JSON.parse(readFileSync(json, 'utf8'))
    t.ok(result.sent >= 3_000, `about 2 s at 2,000/s (sent ${result.sent})`)
    t.equal(result.received, result.sent, 'the receiver counts every record and not the end marker')
    t.equal(result.latency.count, result.sent, 'one latency per record')
    t.ok(result.latency.minMs >= 0 && result.latency.maxMs < 10_000, `latencies on one clock (${result.latency.minMs}..${result.latency.maxMs} ms)`)
    const small = await cli(['perf', 'e2e', '-t', 'e2e', '--rate', '10', '--record-size', '8', ...bs])
    t.equal(small.status, 2)
    t.match(small.stderr, /record-size/)
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

t.test('records over 1 MiB: --request-bytes-max, and the broker says which limit bit', async (t) => {
  // As in Kafka: topics without max.message.bytes take batches up to the broker's
  // --max-batch-bytes (1 MiB + 12 by default); a topic may set a larger max.message.bytes (3 MiB here).
  const broker = await startBroker(t)
  const bs = ['-b', broker.url]
  t.equal((await cli(['topics', 'create', 'default-limit', ...bs])).status, 0)
  t.equal((await cli(['topics', 'create', 'big', '--config', `max.message.bytes=${3 * 1024 * 1024}`, ...bs])).status, 0)
  const line = (bytes: number, fill: string) => `${fill.repeat(bytes)}\n`
  const twoMiB = line(2 * 1024 * 1024, 'x')
  const big = ['--request-bytes-max', String(4 * 1024 * 1024)]

  const [noFlag, tooLong, brokerLimit, fits, topicLimit] = await Promise.all([
    cli(['produce', 'big', ...bs], twoMiB),
    cli(['produce', 'default-limit', ...bs], `ok\n${line(2 * 1024 * 1024 + 1, 'w')}`),
    cli(['produce', 'default-limit', ...big, ...bs], twoMiB),
    cli(['produce', 'big', ...big, ...bs], twoMiB),
    cli(['produce', 'big', ...big, ...bs], line(3.5 * 1024 * 1024, 'y')),
  ])
  failsWith(t, noFlag, 1, /does not fit a 1048576-byte produce request \(requestBytesMax\): raise it with --request-bytes-max \(0 records produced/)
  failsWith(t, tooLong, 1, /line 2 is longer than 2097152 bytes: no record from it could fit a produce request \(--request-bytes-max\) \(1 records produced/)
  // The broker's own words pass through, naming which limit bit: its --max-batch-bytes here,
  failsWith(t, brokerLimit, 1, /MESSAGE_TOO_LARGE: produce to default-limit\/0: .*over the broker's --max-batch-bytes \(1048588\)/)
  // and the topic's max.message.bytes there.
  failsWith(t, topicLimit, 1, /MESSAGE_TOO_LARGE: produce to big\/0: .*over topic "big"'s max.message.bytes \(3145728\)/)
  t.equal(fits.status, 0, fits.stderr)
  t.equal(fits.stderr, 'produced 1 record to big\n')

  // The same setting from a client config profile, under the same name.
  const dir = tempDataDir(t)
  const config = join(dir, 'client.json')
  writeFileSync(config, JSON.stringify({ profiles: { large: { 'bootstrap-server': broker.url, 'request-bytes-max': 4 * 1024 * 1024 } } }))
  const viaProfile = await cli(['produce', 'big', '--client-config', config, '--profile', 'large'], line(2 * 1024 * 1024, 'z'))
  t.equal(viaProfile.status, 0, viaProfile.stderr)

  const back = await cli(['consume', 'big', '-o', 'beginning', '-e', '-f', '%S %s', ...bs])
  t.equal(back.status, 0, back.stderr)
  const values = lines(back.stdout).map((l) => l.split(' '))
  t.strictSame(values.map((v) => v[0]), [String(2 * 1024 * 1024), String(2 * 1024 * 1024)], 'both 2 MiB records read back whole')
  t.ok(values[0][1] === 'x'.repeat(2 * 1024 * 1024) && values[1][1] === 'z'.repeat(2 * 1024 * 1024), 'byte for byte')
})
