// The module layering of DESIGN.md, enforced: every import in src/ points left in
//   codec → protocol → storage → raft → metadata → broker → cli
// the client uses only codec and protocol (it bundles for browsers), inside the broker
// partition ← controller ← api ← net (wiring at the top may use any), and the pure cores
// (raft, metadata, and the controller's decisions in broker/controller) do no I/O, read no clock
// and draw no ambient randomness. The simulator
// (sim) runs the raft core and the real replica shell (broker/partition): it may import them,
// nothing imports it, and it is as deterministic as the cores (no clock, timers or randomness);
// it also runs the controller's decisions and the metadata image's state machine, which are held
// to the same determinism.
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const SRC = join(dirname(fileURLToPath(import.meta.url)), '../src')

/** Each folder of src/, and the folders it may import from (besides itself). */
const MAY_IMPORT: Record<string, readonly string[]> = {
  codec: [],
  protocol: ['codec'],
  storage: ['codec', 'protocol'],
  raft: ['codec', 'protocol', 'storage'], // pure storage modules only (below)
  metadata: ['codec', 'protocol', 'storage'],
  broker: ['codec', 'protocol', 'storage', 'raft', 'metadata'],
  client: ['codec', 'protocol'],
  cli: ['codec', 'protocol', 'storage', 'raft', 'metadata', 'broker', 'client'],
  sim: ['codec', 'protocol', 'storage', 'raft', 'metadata', 'broker'], // of the broker: SIM_BROKER_MODULES only
}
/** What the simulator may use of the broker: partition/, the logger type, the controller's decisions and the metadata state machine. */
const SIM_BROKER_MODULES = /^broker\/(partition\/[^/]+|log|controller\/decisions\/[^/]+|controller\/node\/metadata-state-machine)\.ts$/
/** Broker modules outside the pure decisions that the simulator runs, so held to determinism too. */
const SIM_DETERMINISTIC = new Set(['broker/controller/node/metadata-state-machine.ts'])
/** Folders held to determinism, and the files in them allowed one reason to touch time or the event loop. */
const DETERMINISTIC = ['raft', 'metadata', 'sim']
const AMBIENT_EXEMPT = new Set([
  'sim/cli.ts', // reads the clock to print seeds per second
  'sim/event-loop.ts', // yields one turn of the event loop so promise chains settle (carries no time)
])
/** Inside the broker: each subfolder and the subfolders it may import from. Top-level files are wiring. */
const BROKER_MAY_IMPORT: Record<string, readonly string[]> = {
  partition: [],
  controller: ['partition'],
  api: ['partition', 'controller'],
  net: ['partition', 'controller', 'api'],
}
const IO_IMPORTS = /^(node:)?(fs|fs\/promises|net|tls|http|https|ws|timers|timers\/promises|child_process|worker_threads|dgram)$/
const AMBIENT_CALLS = /\bDate\b|Math\.random|setTimeout|setInterval|setImmediate|performance\.now|process\.hrtime/
/** Storage modules a pure core may import: constants, and the leader-epoch cache (pure, shared with the log). */
const PURE_STORAGE_MODULES = new Set(['storage/limits.ts', 'storage/epoch-cache.ts'])
/** The control plane's decisions (broker/controller/decisions/): pure like the cores, beside the shells that do their I/O. */
const isPureController = (rel: string) => rel.startsWith('broker/controller/decisions/')
/** The consumer groups' core (broker/groups/core/): pure, imports only itself and the groups' limits. */
const isPureGroups = (rel: string) => rel.startsWith('broker/groups/core/')
/** Inside the controller: each folder and the folders it may import from (every node's side never needs the active controller's). */
const CONTROLLER_MAY_IMPORT: Record<string, readonly string[]> = {
  decisions: [],
  node: ['decisions'],
  active: ['decisions', 'node'],
}

/** Why a pure controller module may not import `to` (src-relative), or null. */
function pureControllerImportProblem(to: string): string | null {
  const pure = isPureController(to) || /^(metadata|protocol)\//.test(to) || to === 'raft/limits.ts'
  return pure ? null : `imports ${to} (the controller's decisions are pure: metadata, protocol, raft/limits and each other only)`
}

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [join(dir, e.name)] : [],
  )
}

const withoutComments = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '')

function importsOf(file: string): string[] {
  const text = withoutComments(readFileSync(file, 'utf8'))
  return [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"]([^'"]+)['"]/g)].map((m) => m[1])
}

/** src-relative path of a relative import ('broker/net/session.ts'), or null for packages. */
function target(file: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null
  return relative(SRC, resolve(dirname(file), spec)).replace(/\.js$/, '.ts')
}

const all = files(SRC).map((f) => ({ abs: f, rel: relative(SRC, f) }))
t.ok(all.length > 100, 'found the sources')

for (const f of all) {
  const [folder, sub] = f.rel.split('/')
  t.ok(folder in MAY_IMPORT, `${f.rel} is in a folder the layering knows`)
  const problems: string[] = []
  for (const spec of importsOf(f.abs)) {
    const to = target(f.abs, spec)
    if (to === null) {
      if ((DETERMINISTIC.includes(folder) || isPureController(f.rel) || isPureGroups(f.rel)) && IO_IMPORTS.test(spec)) problems.push(`imports ${spec} (a pure core or the simulator does no I/O)`)
      if (folder === 'client' && spec.startsWith('node:') && !f.rel.endsWith('client/node.ts')) problems.push(`imports ${spec} (the client bundles for browsers)`)
      continue
    }
    const [toFolder, toSub] = to.split('/')
    if (toFolder !== folder && !MAY_IMPORT[folder]?.includes(toFolder)) problems.push(`imports ${to} (${folder} may not use ${toFolder})`)
    if (['raft', 'metadata'].includes(folder) && toFolder === 'storage' && !PURE_STORAGE_MODULES.has(to)) problems.push(`imports ${to} (a pure core may use only pure storage modules)`)
    if (folder === 'sim' && toFolder === 'broker' && !SIM_BROKER_MODULES.test(to)) problems.push(`imports ${to} (the simulator uses only broker/partition, the controller's decisions and the metadata state machine)`)
    if (isPureGroups(f.rel) && !isPureGroups(to) && to !== 'broker/groups/limits.ts') problems.push(`imports ${to} (the group core is pure: itself and broker/groups/limits only)`)
    if (isPureController(f.rel)) {
      const problem = pureControllerImportProblem(to)
      if (problem) problems.push(problem)
    }
    const fromControllerPart = folder === 'broker' && sub === 'controller' ? f.rel.split('/')[2] : null
    const toControllerPart = toFolder === 'broker' && toSub === 'controller' ? to.split('/')[2] : null
    if (fromControllerPart && toControllerPart && toControllerPart !== fromControllerPart && !CONTROLLER_MAY_IMPORT[fromControllerPart]?.includes(toControllerPart)) {
      problems.push(`imports ${to} (broker/controller/${fromControllerPart} may not use broker/controller/${toControllerPart})`)
    }
    const fromBrokerSub = folder === 'broker' && sub in BROKER_MAY_IMPORT ? sub : null
    if (fromBrokerSub && toFolder === 'broker' && toSub in BROKER_MAY_IMPORT && toSub !== fromBrokerSub && !BROKER_MAY_IMPORT[fromBrokerSub].includes(toSub)) {
      problems.push(`imports ${to} (broker/${fromBrokerSub} may not use broker/${toSub})`)
    }
  }
  if (SIM_DETERMINISTIC.has(f.rel)) {
    for (const spec of importsOf(f.abs)) if (IO_IMPORTS.test(spec)) problems.push(`imports ${spec} (the simulator runs it: no I/O)`)
  }
  if ((DETERMINISTIC.includes(folder) || isPureController(f.rel) || isPureGroups(f.rel) || SIM_DETERMINISTIC.has(f.rel)) && !AMBIENT_EXEMPT.has(f.rel)) {
    const ambient = AMBIENT_CALLS.exec(withoutComments(readFileSync(f.abs, 'utf8')))
    if (ambient) problems.push(`uses ${ambient[0]} (clock and randomness are injected into a pure core and the simulator)`)
  }
  t.same(problems, [], `${f.rel} keeps the layering`)
}

t.test('the check catches what it is for', async (t) => {
  const fake = join(SRC, 'client/fake.ts')
  t.equal(target(fake, '../storage/index.js'), 'storage/index.ts')
  t.same(importsOf(join(SRC, 'broker/net/listener.ts')).filter((s) => s.includes('session')), ['./session.js'])
  t.notOk(MAY_IMPORT.client.includes('storage'), 'the client may not import storage')
  t.notOk(MAY_IMPORT.raft.includes('broker'), 'raft may not import the broker')
  t.notOk(Object.values(MAY_IMPORT).some((allowed) => allowed.includes('sim')), 'nothing imports the simulator')
  t.ok(SIM_BROKER_MODULES.test('broker/partition/replica.ts') && !SIM_BROKER_MODULES.test('broker/net/listener.ts'))
  t.ok(SIM_BROKER_MODULES.test('broker/controller/decisions/state.ts') && SIM_BROKER_MODULES.test('broker/controller/node/metadata-state-machine.ts'))
  t.notOk(SIM_BROKER_MODULES.test('broker/controller/active/active-controller.ts') || SIM_BROKER_MODULES.test('broker/controller/node/metadata-node.ts'), 'the controller shells do I/O: not for the simulator')
  for (const rel of SIM_DETERMINISTIC) t.ok(all.some((f) => f.rel === rel), `${rel} exists`)
  t.ok(all.filter((f) => isPureController(f.rel)).length >= 7, 'the pure decisions are where the rule looks')
  t.ok(all.filter((f) => isPureGroups(f.rel)).length >= 8, 'the group core is where the rule looks')
  for (const f of all.filter((f) => f.rel.startsWith('broker/controller/'))) {
    t.ok(f.rel.split('/')[2] in CONTROLLER_MAY_IMPORT, `${f.rel} is in a controller folder the layering knows`)
  }
  t.match(pureControllerImportProblem('broker/controller/active/topic-admin.ts'), /are pure/, 'the one-node admin does I/O: not for a pure decision')
  t.match(pureControllerImportProblem('storage/index.ts'), /are pure/)
  t.equal(pureControllerImportProblem('metadata/image.ts'), null)
})
