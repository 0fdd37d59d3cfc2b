// Pure parts of the CLI's settings: where consume starts (kcat's -o, --from-time) and the client
// config file's profiles with their precedence (real files in a temp dir). No broker needed.
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseClientFlags, profileSettings } from '../../src/cli/client-config.js'
import { UsageError } from '../../src/cli/errors.js'
import { parseStart, parseTime, resolveStart } from '../../src/cli/start.js'

t.test('start: kcat offsets, --from-beginning, --from-time', async (t) => {
  t.strictSame(parseStart(undefined, undefined, undefined), { kind: 'latest' }, 'only new records by default')
  for (const o of ['beginning', 'earliest']) t.strictSame(parseStart(o, undefined, undefined), { kind: 'earliest' })
  for (const o of ['end', 'latest']) t.strictSame(parseStart(o, undefined, undefined), { kind: 'latest' })
  t.strictSame(parseStart(undefined, true, undefined), { kind: 'earliest' })
  t.strictSame(parseStart('42', undefined, undefined), { kind: 'offset', offset: 42 })
  t.strictSame(parseStart('-10', undefined, undefined), { kind: 'fromEnd', count: 10 })
  t.strictSame(parseStart(undefined, undefined, '1700000000123'), { kind: 'time', timestamp: 1700000000123 })
  t.throws(() => parseStart('3', true, undefined), /give one of --offset, --from-beginning, not several/)
  t.throws(() => parseStart(undefined, true, '0'), /not several/)
  t.throws(() => parseStart('soon', undefined, undefined), /--offset: expected beginning, end, an offset N or -N/)
  t.throws(() => parseStart('1.5', undefined, undefined), UsageError)
  t.throws(() => parseStart('99999999999999999', undefined, undefined), UsageError, 'beyond 2^53')
  t.throws(() => parseStart('stored', undefined, undefined), /a consumer group's: give --group GROUP/)
})

t.test('start: times', async (t) => {
  t.equal(parseTime('0'), 0)
  t.equal(parseTime('2026-12-04T10:30:00Z'), Date.UTC(2026, 11, 4, 10, 30))
  t.equal(parseTime('2026-12-04T10:30:00.250+02:00'), Date.UTC(2026, 11, 4, 8, 30, 0, 250))
  t.equal(parseTime('2026-12-04T10:30'), new Date(2026, 11, 4, 10, 30).getTime(), 'no zone: local time')
  t.equal(parseTime('2026-12-04 10:30:05'), new Date(2026, 11, 4, 10, 30, 5).getTime())
  t.equal(parseTime('2026-12-04'), new Date(2026, 11, 4).getTime(), 'a date alone: local midnight, like a date-time without a zone')
  for (const bad of ['yesterday', '2026-13-01', '12/04/2026', '-5', '1e3', '2026-12-04T25:00', '']) t.throws(() => parseTime(bad), /--from-time: expected an ISO 8601 date/, bad)
})

t.test('start: resolved against the log, out of range said', async (t) => {
  // Log start 10, end 20.
  const at = (spec: Parameters<typeof resolveStart>[0], atTime?: number) => resolveStart(spec, 'orders', 3, 10, 20, atTime)
  t.equal(at({ kind: 'earliest' }).offset, 10)
  t.equal(at({ kind: 'latest' }).offset, 20)
  t.equal(at({ kind: 'fromEnd', count: 4 }).offset, 16)
  t.equal(at({ kind: 'fromEnd', count: 40 }).offset, 10, '-N never goes before the log start')
  t.equal(at({ kind: 'time', timestamp: 5 }, 14).offset, 14)
  t.equal(at({ kind: 'time', timestamp: 5 }, -1).offset, 20, 'no record at or after the time: the end')
  for (const offset of [10, 15, 20]) t.strictSame(at({ kind: 'offset', offset }), { partition: 3, offset, logStart: 10, end: 20 }, `${offset} is in range`)
  for (const offset of [9, 21, 99999]) {
    const s = at({ kind: 'offset', offset })
    t.equal(s.offset, 20, `${offset}: reset to the end`)
    t.equal(s.warning, `offset ${offset} is out of range for orders/3 (log start 10, end 20): starting at the end, offset 20`)
  }
})

t.test('client config: profiles, their settings, and precedence', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bitacora-client-config-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = (name: string, content: unknown) => {
    const path = join(dir, name)
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content))
    return path
  }
  const good = file('good.json', {
    profiles: {
      default: { 'bootstrap-server': 'ws://127.0.0.1:1/' },
      big: { 'bootstrap-server': ['ws://127.0.0.1:2/', '127.0.0.1:3'], 'request-bytes-max': 8388608, acks: '1', 'linger-ms': 20 },
    },
  })
  t.strictSame(profileSettings(good, undefined, {}), { 'bootstrap-server': 'ws://127.0.0.1:1/' }, "'default' when none is named")
  t.strictSame(profileSettings(good, 'big', {}), { 'bootstrap-server': 'ws://127.0.0.1:2/,127.0.0.1:3', 'request-bytes-max': '8388608', acks: '1', 'linger-ms': '20' })
  t.strictSame(profileSettings(undefined, undefined, { BITACORA_CLIENT_CONFIG: good, BITACORA_PROFILE: 'big' })['linger-ms'], '20', 'file and profile from the environment')
  t.strictSame(profileSettings(good, 'default', { BITACORA_PROFILE: 'big' }), { 'bootstrap-server': 'ws://127.0.0.1:1/' }, '--profile outranks $BITACORA_PROFILE')
  t.strictSame(profileSettings(undefined, undefined, {}), {}, 'no file, no settings')
  t.strictSame(profileSettings(file('nodefault.json', { profiles: { x: {} } }), undefined, {}), {}, "no 'default' profile: no settings")

  const spec = { help: 'boolean', 'bootstrap-server': 'string', 'client-config': 'string', profile: 'string', acks: 'string', partition: 'string' } as const
  const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) => parseClientFlags('produce', argv, spec, env).flags
  t.strictSame(parse(['--client-config', good, '--profile', 'big']), { 'client-config': good, profile: 'big', 'bootstrap-server': 'ws://127.0.0.1:2/,127.0.0.1:3', acks: '1' },
    'a command takes the settings it has flags for')
  t.equal(parse(['--client-config', good, '--profile', 'big', '--acks', '0']).acks, '0', 'flag > file')
  t.equal(parse(['--client-config', good, '-b', 'ws://127.0.0.1:9/'])['bootstrap-server'], 'ws://127.0.0.1:9/', 'flag > file')
  t.equal(parse(['--client-config', good], { BITACORA_BROKERS: 'ws://127.0.0.1:8/' })['bootstrap-server'], undefined,
    '$BITACORA_BROKERS > file: left for bootstrapServers() to read from the environment')
  t.strictSame(parse(['--client-config', 'no/such/file', '--help']), { 'client-config': 'no/such/file', help: true }, '--help reads no file')

  const bad: Array<[string, () => unknown, RegExp]> = [
    ['unreadable', () => profileSettings(join(dir, 'missing.json'), undefined, {}), /missing\.json: cannot read it \(ENOENT\)/],
    ['not JSON', () => profileSettings(file('bad.json', '{'), undefined, {}), /bad\.json: not JSON/],
    ['no profiles', () => profileSettings(file('flat.json', { 'bootstrap-server': 'x' }), undefined, {}), /expected an object \{"profiles"/],
    ['stray key', () => profileSettings(file('stray.json', { profiles: {}, extra: 1 }), undefined, {}), /unknown key 'extra'/],
    ['unknown profile', () => profileSettings(good, 'prod', {}), /--profile prod: no such profile in .*good\.json \(it has: default, big\)/],
    ['profile without file', () => profileSettings(undefined, 'big', {}), /--profile big: no client config file/],
    ['unknown setting', () => profileSettings(file('typo.json', { profiles: { default: { 'bootstrap-servers': 'x' } } }), undefined, {}), /profile 'default': unknown setting 'bootstrap-servers' \(known: bootstrap-server, /],
    ['bad value', () => profileSettings(file('value.json', { profiles: { default: { acks: true } } }), undefined, {}), /'acks' must be a string or a number/],
    ['list elsewhere', () => profileSettings(file('list.json', { profiles: { default: { acks: ['1'] } } }), undefined, {}), /'acks' must be a string or a number$/],
    ['profile not an object', () => profileSettings(file('str.json', { profiles: { default: 'ws://x' } }), undefined, {}), /expected an object of settings/],
  ]
  for (const [name, run, pattern] of bad) t.throws(run, pattern, name)
  for (const [name, run] of bad) t.throws(run, UsageError, `${name} is a usage error`)
})
