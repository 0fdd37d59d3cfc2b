// One name per broker setting: the flag `--NAME` and the config file key `"NAME"` set the same
// field; flags override the file; mistakes name the setting as the user wrote it.
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BROKER_USAGE, ConfigError, DEFAULT_CONFIG, parseBrokerArgs, SETTINGS } from '../../src/broker/config.js'

const dir = mkdtempSync(join(tmpdir(), 'bitacora-config-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
let files = 0
const file = (body: unknown) => {
  const path = join(dir, `c${files++}.json`)
  writeFileSync(path, typeof body === 'string' ? body : JSON.stringify(body))
  return path
}

t.test('every setting: the same name as flag and as file key, listed in --help', async (t) => {
  for (const s of SETTINGS) {
    t.match(BROKER_USAGE, `--${s.name}`, `--${s.name} is in the help`)
    const value = s.kind.type === 'int' ? String(s.name === 'max-frame-bytes' ? 4 << 20 : Math.max(s.kind.min, 4096)) : s.kind.type === 'list' ? 'http://a.example' : 'x'
    const fromFlag = s.kind.type === 'flag' ? parseBrokerArgs([`--${s.name}`]) : parseBrokerArgs([`--${s.name}`, value])
    const fileValue = s.kind.type === 'int' ? Number(value) : s.kind.type === 'list' ? [value] : s.kind.type === 'flag' ? true : value
    const fromFile = parseBrokerArgs(['--config', file({ [s.name]: fileValue })])
    t.same(fromFile, fromFlag, `--${s.name} and "${s.name}" set the same thing`)
    t.notSame(fromFlag, DEFAULT_CONFIG, `--${s.name} changes something`)
  }
})

t.test('flags override the file; the file overrides defaults', async (t) => {
  const c = parseBrokerArgs(['--config', file({ port: 9100, 'max-connections': 10, 'allow-origin': ['http://a.example'] }), '--port', '9200'])
  t.equal(c.port, 9200)
  t.equal(c.limits.connectionsMax, 10)
  t.same(c.allowedOrigins, ['http://a.example'])
  t.equal(c.limits.frameBytesMax, DEFAULT_CONFIG.limits.frameBytesMax)
})

t.test('mistakes say what is wrong, in the names the user knows', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['--config', file({ maxConnections: 5 })], /unknown setting 'maxConnections'; did you mean 'max-connections'\?/],
    [['--config', file({ connectionsMax: 5 })], /did you mean 'max-connections'\?/],
    [['--config', file({ allowedOrigins: [] })], /did you mean 'allow-origin'\?/],
    [['--config', file({ limits: {} })], /unknown setting 'limits' \(see 'bitacora broker --help'\)/],
    [['--config', file({ port: 'high' })], /"port": expected an integer in \[0, 65535\], got '"high"'/],
    [['--config', file({ port: 1.5 })], /expected an integer/],
    [['--config', file({ 'no-localhost-origins': 'yes' })], /must be true or false/],
    [['--config', file('{nope')], /not JSON/],
    [['--config', file([1])], /expected a JSON object/],
    [['--config', join(dir, 'missing.json')], /cannot read it \(ENOENT\)/],
    [['--port', '70000'], /--port: expected an integer in \[0, 65535\], got '70000'/],
    [['--port'], /--port needs a value/],
    [['--no-localhost-origins=1'], /takes no value/],
    [['--max-conections', '3'], /unknown option '--max-conections'/],
    [['stray'], /unexpected argument 'stray'/],
    [['--max-batch-bytes', '20000000'], /--max-batch-bytes \(20000000\) must leave 1024 bytes of room in --max-frame-bytes/],
  ]
  for (const [argv, pattern] of cases) t.throws(() => parseBrokerArgs(argv), { name: 'ConfigError', message: pattern }, argv.join(' '))
  t.type(new ConfigError('x'), Error)
})
