// Issue 15, item 7: the package's types match its docs. A tiny consumer project depends on the
// built package (node_modules/bitacora is a symlink to this repository, as `npm install
// file:...` makes it) and type-checks the README's snippets with this project's own `tsc`:
// under NodeNext the "node" condition's types (createClient without a webSocketFactory, the
// Node-only nodeWebSocketFactory), under a bundler's "browser" condition the browser entry's.
// A deliberately wrong call must fail, or the check proves nothing.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempDataDir } from './broker-process.js'

const ROOT = new URL('../../', import.meta.url).pathname
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc')

for (const built of ['dist/client/node.d.ts', 'dist/client/browser.d.ts', 'dist/client/index.d.ts']) {
  if (!existsSync(join(ROOT, built))) throw new Error(`${built} is missing: run \`npm run build\` first`)
}

const project = tempDataDir(t)
mkdirSync(join(project, 'node_modules'))
symlinkSync(ROOT, join(project, 'node_modules/bitacora'), 'dir')
writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'types-check', private: true, type: 'module', dependencies: { bitacora: `file:${ROOT}` } }))

const strict = { strict: true, noEmit: true, skipLibCheck: false, target: 'ES2022', types: [] }
const tsconfigs = {
  'tsconfig.node.json': { compilerOptions: { ...strict, module: 'NodeNext', moduleResolution: 'NodeNext' }, files: ['node.ts'] },
  'tsconfig.wrong.json': { compilerOptions: { ...strict, module: 'NodeNext', moduleResolution: 'NodeNext' }, files: ['wrong.ts'] },
  'tsconfig.browser.json': { compilerOptions: { ...strict, module: 'ESNext', moduleResolution: 'Bundler', customConditions: ['browser'] }, files: ['browser.ts'] },
}
for (const [name, config] of Object.entries(tsconfigs)) writeFileSync(join(project, name), JSON.stringify(config, null, 2))

// The client README's Node section, and a producer round as its API section shows it.
writeFileSync(join(project, 'node.ts'), `
import { createClient, nodeWebSocketFactory, type RecordMetadata } from 'bitacora/client'
const client = createClient({ brokers: ['ws://127.0.0.1:9092'], clientId: 'billing' })
const producer = await client.producer({ acks: 'all', compression: 'lz4', lingerMs: 5 })
const sent: RecordMetadata = await producer.send({ topic: 'events', key: 'user-42', value: JSON.stringify({ clicked: true }) })
console.log(sent.offset, typeof nodeWebSocketFactory)
await client.close()
`)
writeFileSync(join(project, 'wrong.ts'), `
import { createClient } from 'bitacora/client'
createClient({ brokers: 'ws://127.0.0.1:9092', clientId: 'billing' })
`)
// The client README's browser section (the page imports the same API from the bundle).
writeFileSync(join(project, 'browser.ts'), `
import { createClient, browserWebSocketFactory } from 'bitacora/client'
const client = createClient({ brokers: [\`ws://\${location.host}\`], clientId: 'dashboard' })
const consumer = await client.consumer({ autoOffsetReset: 'latest' })
consumer.assign([{ topic: 'events', partition: 0 }])
for await (const r of consumer) document.body.append(new TextDecoder().decode(r.value ?? new Uint8Array()), document.createElement('br'))
console.log(typeof browserWebSocketFactory)
`)

function tsc(config: string): { status: number | null; output: string } {
  const run = spawnSync(process.execPath, [TSC, '-p', join(project, config)], { cwd: project, encoding: 'utf8', timeout: 120_000 })
  return { status: run.status, output: `${run.stdout}${run.stderr}` }
}

t.test('NodeNext: the README snippet type-checks against the "node" condition\'s types', async (t) => {
  const { status, output } = tsc('tsconfig.node.json')
  t.equal(status, 0, `tsc exit 0\n${output}`)
})

t.test('NodeNext: a wrong call is a type error (the check can fail)', async (t) => {
  const { status, output } = tsc('tsconfig.wrong.json')
  t.not(status, 0, 'tsc fails')
  t.match(output, /wrong\.ts\(3,\d+\): error TS2322: Type 'string' is not assignable to type 'readonly string\[\]'/, output)
})

t.test('a bundler with the "browser" condition: the README snippet type-checks against the browser entry\'s types', async (t) => {
  const { status, output } = tsc('tsconfig.browser.json')
  t.equal(status, 0, `tsc exit 0\n${output}`)
})
