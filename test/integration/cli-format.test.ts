// Pure parts of the CLI: the record formatter, stdin line splitting, flag parsing and the
// bootstrap URLs. No broker needed.
import t from 'tap'
import type { ConsumerRecord } from '../../src/client/node.js'
import { choiceFlag, intFlag, keyValues, parseFlags, positionals } from '../../src/cli/args.js'
import { bootstrapServers, DEFAULT_BOOTSTRAP } from '../../src/cli/connect.js'
import { UsageError } from '../../src/cli/errors.js'
import { compileFormat, DEFAULT_FORMAT, encodeBytes, jsonRecord, keySeparatorFormat } from '../../src/cli/format.js'
import { byteLines } from '../../src/cli/lines.js'
import { splitLine } from '../../src/cli/produce.js'

const bytes = (s: string) => new TextEncoder().encode(s)
const record = (over: Partial<ConsumerRecord> = {}): ConsumerRecord => ({
  topic: 'events', partition: 2, offset: 41, timestamp: 1700000000123,
  key: bytes('k1'), value: bytes('héllo'), headers: [{ key: 'a', value: bytes('1') }, { key: 'b', value: null }], ...over,
})

t.test('format directives and escapes', async (t) => {
  t.equal(compileFormat('%k %s %p %o %T')(record()), 'k1 héllo 2 41 1700000000123\n', 'a newline is added when the format has none')
  t.equal(compileFormat('%t/%p@%o\\t%h\\n')(record()), 'events/2@41\ta=1,b=\n', 'one newline when the format ends with \\n')
  t.equal(compileFormat('%K %S 100%% \\\\ \\r\\n')(record()), '2 6 100% \\ \r\n', 'lengths are bytes; %% and \\\\ are literal')
  t.equal(compileFormat('\\q %s')(record()), '\\q héllo\n', 'an unknown escape stays as written')
  t.equal(compileFormat(DEFAULT_FORMAT)(record()), 'héllo\n')
})

t.test('null key and value print as empty with a format; lengths as -1', async (t) => {
  const r = record({ key: null, value: null, headers: [] })
  t.equal(compileFormat('[%k][%s][%h] %K %S')(r), '[][][] -1 -1\n')
  t.equal(compileFormat('[%k]')(record({ key: new Uint8Array(0) })), '[]\n', 'empty is empty too')
})

t.test('encodings apply to keys and values', async (t) => {
  const binary = new Uint8Array([0, 255, 16])
  t.equal(compileFormat('%k %s', { key: 'hex', value: 'base64' })(record({ value: binary })), '6b31 AP8Q\n')
  t.equal(encodeBytes(null, 'base64'), null)
  t.equal(encodeBytes(new Uint8Array(new Uint8Array([9, 1, 2, 3]).buffer, 1, 2), 'hex'), '0102', 'a view encodes only its bytes')
})

t.test('unknown directives are usage errors', async (t) => {
  t.throws(() => compileFormat('%q'), UsageError)
  t.throws(() => compileFormat('abc %'), UsageError)
})

t.test('JSON: one object per line, null as null, value encodings', async (t) => {
  const line = jsonRecord(record())
  t.ok(line.endsWith('\n'))
  t.strictSame(JSON.parse(line), {
    topic: 'events', partition: 2, offset: 41, timestamp: 1700000000123, key: 'k1', value: 'héllo',
    headers: [{ key: 'a', value: '1' }, { key: 'b', value: null }],
  })
  const nulls = JSON.parse(jsonRecord(record({ key: null, value: null, headers: [] })))
  t.equal(nulls.key, null)
  t.equal(nulls.value, null)
  t.equal(JSON.parse(jsonRecord(record({ value: new Uint8Array([255, 0]) }), { key: 'utf8', value: 'base64' })).value, '/wA=')
  t.notOk(jsonRecord(record({ value: bytes('a\nb') })).slice(0, -1).includes('\n'), 'newlines in values are escaped')
})

t.test('JSON: bytes that are not UTF-8 go base64, and the object names the encoding', async (t) => {
  const o = JSON.parse(jsonRecord(record({
    key: new Uint8Array([0x6b, 0xff]), value: new Uint8Array([0, 0xfe, 0xfd]), headers: [{ key: 'bin', value: new Uint8Array([0xc3]) }, { key: 'txt', value: bytes('é') }],
  })))
  t.strictSame(o, {
    topic: 'events', partition: 2, offset: 41, timestamp: 1700000000123, key: 'a/8=', keyEncoding: 'base64', value: 'AP79', valueEncoding: 'base64',
    headers: [{ key: 'bin', value: 'ww==', valueEncoding: 'base64' }, { key: 'txt', value: 'é' }],
  })
  t.strictSame(Buffer.from(o.value, 'base64'), Buffer.from([0, 0xfe, 0xfd]), 'the bytes come back exactly')
  const asked = JSON.parse(jsonRecord(record({ value: bytes('text') }), { key: 'hex', value: 'base64' }))
  t.match(asked, { key: '6b31', keyEncoding: 'hex', value: 'dGV4dA==', valueEncoding: 'base64' }, 'an encoding asked for is named too')
  const plain = JSON.parse(jsonRecord(record()))
  t.notOk('keyEncoding' in plain || 'valueEncoding' in plain, 'UTF-8 text needs no name')
  const bom = JSON.parse(jsonRecord(record({ value: new Uint8Array([0xef, 0xbb, 0xbf, 0x61]) })))
  t.equal(bom.value, '\ufeffa', 'a leading BOM is kept')
})

t.test('a format reports bytes that are not UTF-8 (and prints U+FFFD for them)', async (t) => {
  const seen: string[] = []
  const render = compileFormat('%k %s %h', { key: 'utf8', value: 'utf8' }, (field, r) => seen.push(`${field}@${r.offset}`))
  t.equal(render(record()), 'k1 héllo a=1,b=\n')
  t.strictSame(seen, [], 'valid UTF-8 is not reported')
  t.equal(render(record({ value: new Uint8Array([0x61, 0xff]) })), 'k1 a\ufffd a=1,b=\n')
  render(record({ offset: 7, key: new Uint8Array([0xc3]), headers: [{ key: 'h', value: new Uint8Array([0xff]) }] }))
  t.strictSame(seen, ['value@41', 'key@7', "header 'h'@7"])
  t.equal(compileFormat('%s', { key: 'utf8', value: 'hex' }, () => t.fail('not text'))(record({ value: new Uint8Array([0xff]) })), 'ff\n', 'hex is not checked')
  t.equal(compileFormat(keySeparatorFormat('%|\\n'))(record()), 'k1%|\\nhéllo\n', '-K: the separator printed literally')
})

t.test('splitLine: key separator, fixed key, missing separator, encodings, bytes kept as they are', async (t) => {
  const b = (x: string | number[]) => Buffer.from(x as string)
  t.strictSame(splitLine('just a value'), { key: null, value: b('just a value') })
  t.strictSame(splitLine('k::v::w', { separator: '::' }), { key: b('k'), value: b('v::w') }, 'splits at the first separator')
  t.strictSame(splitLine(':v', { separator: ':' }), { key: b(''), value: b('v') }, 'an empty key is not a null key')
  t.equal(splitLine('no separator', { separator: '|' }), null)
  t.strictSame(splitLine('v', { key: 'fixed' }), { key: b('fixed'), value: b('v') }, '--key: the same key on every line')
  t.strictSame(splitLine('k|AP8=', { separator: '|', valueEncoding: 'base64' }), { key: b('k'), value: b([0, 255]) })
  t.strictSame(splitLine('00ff', { valueEncoding: 'hex' }), { key: null, value: b([0, 255]) })
  t.strictSame(splitLine('6b31|v', { separator: '|', keyEncoding: 'hex' }), { key: b('k1'), value: b('v') }, '--key-encoding applies to the key')
  t.strictSame(splitLine('v', { key: 'AP8=', keyEncoding: 'base64' }), { key: b([0, 255]), value: b('v') })
  const raw = new Uint8Array([0x6b, 0xff, 0x7c, 0x00, 0xfe, 0xef, 0xbb, 0xbf])
  t.strictSame(splitLine(raw, { separator: '|' }), { key: b([0x6b, 0xff]), value: b([0x00, 0xfe, 0xef, 0xbb, 0xbf]) }, 'invalid UTF-8 and a BOM pass unchanged')
  t.strictSame(splitLine(b('x€|€y'), { separator: '€|€' }), { key: b('x'), value: b('y') }, 'a multi-byte separator')
  t.throws(() => splitLine('not base64!', { valueEncoding: 'base64' }), /value is not base64/)
  t.throws(() => splitLine('0g', { valueEncoding: 'hex' }), /value is not hex/)
  t.throws(() => splitLine('zz|v', { separator: '|', keyEncoding: 'hex' }), /key is not hex/)
})

t.test('byteLines: split at \\n across chunks, CRLF, no final newline, bounded lines', async (t) => {
  const collect = async (chunks: Array<string | Uint8Array>, max = 100) => {
    const out: string[] = []
    for await (const line of byteLines((async function* () { yield* chunks })(), max)) out.push(Buffer.from(line).toString('latin1'))
    return out
  }
  t.strictSame(await collect(['a\nb', 'c\n\nd']), ['a', 'bc', '', 'd'], 'a line spans chunks; an empty line is a line; the last needs no newline')
  t.strictSame(await collect(['x\r\ny\r', '\n']), ['x', 'y'], 'CRLF ends a line too')
  t.strictSame(await collect(['a\n']), ['a'], 'no empty line after the final newline')
  t.strictSame(await collect([new Uint8Array([0xff, 0x0a, 0x00])]), ['\xff', '\x00'], 'bytes are not decoded')
  t.strictSame(await collect(['12345\n'], 5), ['12345'], 'a line of exactly the limit')
  await t.rejects(collect(['123456\n'], 5), /line 1 is longer than 5 bytes/)
  await t.rejects(collect(['ok\n', '1234', '56'], 5), /line 2 is longer than 5 bytes/, 'caught before the line is whole')
})

t.test('flag parsing', async (t) => {
  const spec = { name: 'string', many: 'list', on: 'boolean', help: 'boolean' } as const
  t.strictSame(parseFlags('x', ['a', '--name', 'n', '--many=1', '--many', '2=3', '--on', 'b', '--', '--on'], spec), {
    flags: { name: 'n', many: ['1', '2=3'], on: true }, positionals: ['a', 'b', '--on'],
  })
  t.strictSame(parseFlags('x', ['--name', '-', '-h'], spec).flags, { name: '-', help: true }, 'a value may start with a dash')
  t.throws(() => parseFlags('x', ['--nope'], spec), new UsageError("x: unknown option '--nope'"))
  t.throws(() => parseFlags('x', ['-z'], spec), UsageError)
  t.throws(() => parseFlags('x', ['--name'], spec), /needs a value/)
  t.throws(() => parseFlags('x', ['--name', 'a', '--name', 'b'], spec), /given twice/)
  t.throws(() => parseFlags('x', ['--on=yes'], spec), /takes no value/)
  t.throws(() => parseFlags('x', ['--constructor'], spec), /unknown option/, 'no prototype keys')
  t.throws(() => parseFlags('x', ['-h', '--help=1'], spec), /takes no value/)
  t.equal(intFlag('n', '12', 0), 12)
  // kcat's short flags: each stands for its long flag where the command has it.
  const kc = { 'bootstrap-server': 'string', offset: 'string', 'exit-at-end': 'boolean', json: 'boolean', header: 'list', topic: 'string' } as const
  t.strictSame(parseFlags('c', ['-b', 'h:1', '-o', '-10', '-eJ', '-Ha=1', '-H', 'b=2', '-tT', 'pos'], kc), {
    flags: { 'bootstrap-server': 'h:1', offset: '-10', 'exit-at-end': true, json: true, header: ['a=1', 'b=2'], topic: 'T' }, positionals: ['pos'],
  }, '-o takes -10 as its value; booleans group; a value may be attached')
  t.strictSame(parseFlags('c', ['-eo-5'], kc).flags, { 'exit-at-end': true, offset: '-5' }, 'a grouped flag with a value ends the group')
  t.throws(() => parseFlags('c', ['-b', 'x', '--bootstrap-server', 'y'], kc), /'--bootstrap-server' given twice/, 'short and long are one setting')
  t.throws(() => parseFlags('c', ['-p', '1'], kc), new UsageError("c: unknown option '-p'"), 'a letter whose flag the command lacks')
  t.throws(() => parseFlags('c', ['-x'], kc), /unknown option '-x'/)
  t.throws(() => parseFlags('c', ['-e5'], kc), /unknown option '-5'/)
  t.throws(() => parseFlags('c', ['-o'], kc), /'-o' needs a value/)
  t.equal(intFlag('n', undefined, 0), undefined)
  for (const bad of ['-1', '1.5', 'x', '', '1e3']) t.throws(() => intFlag('n', bad, 0), UsageError, bad)
  t.equal(choiceFlag('c', 'lz4', ['none', 'lz4']), 'lz4')
  t.throws(() => choiceFlag('c', 'zip', ['none', 'lz4']), /expected one of none, lz4/)
  t.strictSame(keyValues('config', ['a=1', 'b=', 'c=x=y']), [['a', '1'], ['b', ''], ['c', 'x=y']])
  t.throws(() => keyValues('config', ['=1']), UsageError)
  t.throws(() => keyValues('config', ['novalue']), UsageError)
  t.throws(() => positionals('p', [], ['topic']), /missing TOPIC/)
  t.throws(() => positionals('p', ['a', 'b'], ['topic']), /unexpected argument 'b'/)
})

t.test('bootstrap servers: flag, environment, default, host:port', async (t) => {
  t.strictSame(bootstrapServers(undefined, {}), [DEFAULT_BOOTSTRAP])
  t.strictSame(bootstrapServers(undefined, { BITACORA_BROKERS: 'ws://a:1,b:2' }), ['ws://a:1/', 'ws://b:2/'])
  t.strictSame(bootstrapServers('wss://c:3/x', { BITACORA_BROKERS: 'ws://a:1' }), ['wss://c:3/x'], 'the flag wins')
  t.throws(() => bootstrapServers('http://a:1', {}), UsageError)
  t.throws(() => bootstrapServers(' , ', {}), UsageError)
  t.throws(() => bootstrapServers('ws://[bad', {}), UsageError)
})
