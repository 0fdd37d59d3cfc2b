// `bitacora completion bash|zsh`: the script is loaded into a real bash (and zsh, where
// installed) and asked for completions as the shell would ask, through COMP_WORDS/COMP_CWORD.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempDataDir } from './broker-process.js'

const BIN = new URL('../../dist/cli/main.js', import.meta.url).pathname

function script(shell: string, dir: string): string {
  const r = spawnSync(process.execPath, [BIN, 'completion', shell], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`completion ${shell}: exit ${r.status}: ${r.stderr}`)
  const path = join(dir, `bitacora.${shell}`)
  writeFileSync(path, r.stdout)
  return path
}

const quote = (w: string) => `'${w.replace(/'/g, `'\\''`)}'`

/** What bash offers for the words typed (the last one is the word being completed). */
function bashComplete(file: string, words: string[][]): string[][] {
  const calls = words.map((w) => `COMP_WORDS=(${w.map(quote).join(' ')}); COMP_CWORD=${w.length - 1}; COMPREPLY=(); _bitacora; echo "\${COMPREPLY[*]}"`)
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', `source ${quote(file)} && ${calls.join('; ')}`], { encoding: 'utf8', cwd: '/' })
  if (r.status !== 0) throw new Error(`bash: ${r.stderr}`)
  return r.stdout.split('\n').slice(0, words.length).map((l) => (l === '' ? [] : l.split(' ')))
}

t.test('bash: subcommands, flags per command, values, files', async (t) => {
  const file = script('bash', tempDataDir(t))
  const registered = spawnSync('bash', ['--norc', '-c', `source ${quote(file)} && complete -p bitacora`], { encoding: 'utf8' })
  t.equal(registered.stdout.trim(), 'complete -o default -F _bitacora bitacora', 'registered, with files as the fallback')
  const [top, to, topics, create, consumeFr, acks, z, offset, perfConsume, broker, shells, createDash] = bashComplete(file, [
    ['bitacora', ''],
    ['bitacora', 'to'],
    ['bitacora', 'topics', ''],
    ['bitacora', 'topics', 'create', 'orders', '--'],
    ['bitacora', 'consume', 'orders', '--from-'],
    ['bitacora', 'produce', 'orders', '--acks', ''],
    ['bitacora', 'produce', 'orders', '-z', 'l'],
    ['bitacora', 'consume', '-t', 'orders', '-o', ''],
    ['bitacora', 'perf', 'consume', '--time'],
    ['bitacora', 'broker', '--max-b'],
    ['bitacora', 'completion', ''],
    ['bitacora', 'topics', 'create', '-'],
  ])
  t.strictSame(top, ['broker', 'format', 'cluster', 'topics', 'groups', 'produce', 'consume', 'log', 'perf', 'completion', 'version', 'help'])
  t.strictSame(to, ['topics'])
  t.strictSame(topics, ['create', 'list', 'describe', 'delete', 'alter', 'rebalance-leaders', 'reassign'])
  t.ok(create.includes('--partitions') && create.includes('--if-not-exists') && create.includes('--bootstrap-server'), create.join(' '))
  t.notOk(create.includes('--offset'), 'only the flags of topics create')
  t.strictSame(consumeFr, ['--from-beginning', '--from-time'])
  t.strictSame(acks, ['0', '1', 'all'])
  t.strictSame(z, ['lz4'], 'the value of a short flag too')
  t.strictSame(offset, ['beginning', 'end'])
  t.strictSame(perfConsume, ['--timeout-ms'])
  t.strictSame(broker, ['--max-batch-bytes'], "the broker's flags")
  t.strictSame(shells, ['bash', 'zsh'])
  t.ok(createDash.includes('-b') && createDash.includes('-h') && !createDash.includes('-o'), 'kcat letters where the command has the flag')
})

t.test('bash: cluster and format', async (t) => {
  const dir = tempDataDir(t)
  const file = script('bash', dir)
  mkdirSync(join(dir, 'node-1'))
  const [cluster, describe, addVoter, format, dataDir, log, logDump, groups, resetTo, groupsDescribe] = bashComplete(file, [
    ['bitacora', 'cluster', ''],
    ['bitacora', 'cluster', 'describe', '-'],
    ['bitacora', 'cluster', 'add-voter', '4', 'ws://127.0.0.1:9095/', '--t'],
    ['bitacora', 'format', '--'],
    ['bitacora', 'format', '--data-dir', join(dir, 'no')],
    ['bitacora', 'log', ''],
    ['bitacora', 'log', 'dump', '--ma'],
    ['bitacora', 'groups', ''],
    ['bitacora', 'groups', 'reset-offsets', 'app', '--to-'],
    ['bitacora', 'groups', 'describe', 'app', '--'],
  ])
  t.strictSame(cluster, ['describe', 'add-voter', 'remove-voter'])
  t.ok(describe.includes('--json') && describe.includes('-J') && describe.includes('-b'), describe.join(' '))
  t.notOk(describe.includes('--timeout-ms'), 'only the flags of cluster describe')
  t.strictSame(addVoter, ['--timeout-ms'])
  t.strictSame(format, ['--help', '--data-dir', '--id', '--cluster-id', '--random-cluster-id'])
  t.strictSame(dataDir, [join(dir, 'node-1')], 'directories for --data-dir')
  t.strictSame(log, ['dump'])
  t.strictSame(logDump, ['--max-offset'])
  t.strictSame(groups, ['list', 'describe', 'delete', 'reset-offsets'])
  t.strictSame(resetTo, ['--to-earliest', '--to-latest', '--to-offset', '--to-datetime'])
  t.ok(groupsDescribe.includes('--members') && groupsDescribe.includes('--all-groups') && !groupsDescribe.includes('--execute'), groupsDescribe.join(' '))
})

t.test('bash: every flag offered is documented in the command\'s help', async (t) => {
  const file = script('bash', tempDataDir(t))
  const levels = [['produce', 't'], ['consume', 't'], ['topics', 'create'], ['topics', 'list'], ['topics', 'describe'], ['perf', 'consume'], ['cluster', 'describe'], ['cluster', 'add-voter'], ['format', ''], ['log', 'dump'], ['groups', 'describe'], ['groups', 'reset-offsets']]
  const offered = bashComplete(file, levels.map((l) => ['bitacora', ...l, '-']))
  levels.forEach((level, i) => {
    const help = spawnSync(process.execPath, [BIN, level[0], ...(['topics', 'perf', 'cluster', 'format', 'log', 'groups'].includes(level[0]) ? [] : [level[1]]), '--help'], { encoding: 'utf8' }).stdout
    const flags = offered[i].filter((f) => f !== '-h' && f !== '--help')
    t.ok(flags.length > 3, `${level.join(' ')}: flags offered`)
    for (const flag of flags) t.ok(help.includes(flag), `${level.join(' ')}: ${flag} is in its help`)
  })
  t.ok(offered[0].includes('--request-bytes-max') && offered[0].includes('--key-encoding') && offered[0].includes('-k'))
  t.ok(offered[1].includes('--exit-at-end') && offered[1].includes('-e') && offered[1].includes('--from-time'))
  t.ok(offered[3].includes('--json') && offered[3].includes('-J'))
})

t.test('zsh: the same completions through bashcompinit', async (t) => {
  // zsh comes from the project's own setup script; a missing zsh fails the test, never skips it.
  const setup = spawnSync('bash', [new URL('../../scripts/setup-system.sh', import.meta.url).pathname, 'shells'], { encoding: 'utf8', timeout: 600_000 })
  t.equal(setup.status, 0, `scripts/setup-system.sh shells installs zsh: ${setup.stderr}`)
  const file = script('zsh', tempDataDir(t))
  // What zsh's _bash_complete does before it calls the function: words, CURRENT, COMP_WORDS.
  const ask = (words: string[]) => `words=(${words.map(quote).join(' ')}); CURRENT=${words.length}; COMP_WORDS=("\${words[@]}"); COMP_CWORD=$((CURRENT-1)); `
    + `print -r -- "$(compgen -F _bitacora -- \${words[CURRENT]} | tr '\\n' ' ')"`
  const r = spawnSync('zsh', ['-f', '-c', `source ${quote(file)} && ${ask(['bitacora', 'topics', ''])} && ${ask(['bitacora', 'produce', 't', '--acks', ''])}`], { encoding: 'utf8', cwd: '/' })
  t.equal(r.status, 0, r.stderr)
  const [topics, acks] = r.stdout.split('\n').map((l) => l.trim().split(' '))
  t.strictSame(topics, ['create', 'list', 'describe', 'delete', 'alter', 'rebalance-leaders', 'reassign'])
  t.strictSame(acks, ['0', '1', 'all'])
})
