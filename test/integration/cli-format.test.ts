// Pure parts of the CLI: the record formatter, stdin line splitting, flag parsing and the
// bootstrap URLs. No broker needed.
import t from 'tap'
import type { ConsumerRecord } from '../../src/client/node.js'
import { choiceFlag, intFlag, keyValues, parseFlags, positionals } from '../../src/cli/args.js'
import { bootstrapServers, DEFAULT_BOOTSTRAP } from '../../src/cli/connect.js'
import { UsageError } from '../../src/cli/errors.js'
import { compileFormat, DEFAULT_FORMAT, encodeBytes, jsonRecord } from '../../src/cli/format.js'
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

t.test('splitLine: key separator, missing separator, value encodings', async (t) => {
  t.strictSame(splitLine('just a value', undefined), { key: null, value: 'just a value' })
  t.strictSame(splitLine('k::v::w', '::'), { key: 'k', value: 'v::w' }, 'splits at the first separator')
  t.strictSame(splitLine(':v', ':'), { key: '', value: 'v' }, 'an empty key is not a null key')
  t.equal(splitLine('no separator', '|'), null)
  t.strictSame(splitLine('k|AP8=', '|', 'base64'), { key: 'k', value: Buffer.from([0, 255]) })
  t.strictSame(splitLine('00ff', undefined, 'hex'), { key: null, value: Buffer.from([0, 255]) })
  t.throws(() => splitLine('not base64!', undefined, 'base64'), /not base64/)
  t.throws(() => splitLine('0g', undefined, 'hex'), /not hex/)
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
  t.equal(intFlag('n', '12', 0), 12)
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
