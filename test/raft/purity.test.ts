// The core is pure: no file under src/raft (the simulator aside) may import I/O, timers,
// storage or broker code, or read the clock or ambient randomness.
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '../../src/raft')
const FORBIDDEN_IMPORTS = /from\s+['"](node:)?(fs|fs\/promises|net|tls|http|https|ws|timers|timers\/promises|child_process|worker_threads|dgram)['"]|from\s+['"][^'"]*\/(storage|broker)\//
const FORBIDDEN_CALLS = /\bDate\b|Math\.random|setTimeout|setInterval|setImmediate|performance\.now|process\.hrtime/

function files(dir: string): string[] {
  const out: string[] = []
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...files(join(dir, e.name)))
    else if (e.name.endsWith('.ts')) out.push(join(dir, e.name))
  }
  return out
}

const all = files(root)
const core = all.filter((f) => !f.includes('/sim/'))

t.ok(core.length >= 7, 'found the core files')
for (const f of core) {
  const text = readFileSync(f, 'utf8').replace(/^\s*\/\/.*$/gm, '')
  t.notMatch(text, FORBIDDEN_IMPORTS, `${f.slice(root.length + 1)} imports no I/O, timers, storage or broker code`)
  t.notMatch(text, FORBIDDEN_CALLS, `${f.slice(root.length + 1)} reads no clock and no ambient randomness`)
}
// The simulator is deterministic too; only its CLI reads the clock, to print seeds/s.
for (const f of all.filter((f) => f.includes('/sim/') && !f.endsWith('cli.ts'))) {
  const text = readFileSync(f, 'utf8').replace(/^\s*\/\/.*$/gm, '')
  t.notMatch(text, FORBIDDEN_IMPORTS, `${f.slice(root.length + 1)} does no I/O`)
  t.notMatch(text, FORBIDDEN_CALLS, `${f.slice(root.length + 1)} is deterministic`)
}
