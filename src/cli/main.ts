#!/usr/bin/env -S node --initial-heap-size=64
// The `bitacora` command. Each subcommand prints one clear line and exits non-zero on error:
// 2 for usage errors, 1 for operational ones (unknown topic, unreachable broker, ...).
import { readFileSync } from 'node:fs'
import { failureOf } from './errors.js'

const USAGE = `usage: bitacora <command> [options]

commands:
  broker      run a broker (bitacora broker --help)
  format      prepare a node's data directory with a cluster id, or make one (bitacora format --help)
  cluster     describe the controller quorum, add and remove voters (bitacora cluster --help)
  topics      create, list, describe, delete, alter topics; rebalance leaders (bitacora topics --help)
  groups      list, describe (lag), delete consumer groups; reset their offsets (bitacora groups --help)
  produce     write stdin lines to a topic, one record each (bitacora produce --help)
  consume     print a topic's records (bitacora consume --help)
  log         dump a partition's batches from a data directory, offline (bitacora log --help)
  perf        Kafka-style perf tools: produce, consume, e2e (bitacora perf --help)
  completion  print a bash or zsh completion script (bitacora completion --help)
  version     print the version (also -V, --version)
  help        print this help (also -h, --help)

Client commands (cluster, topics, groups, produce, consume, perf) take:
  -b, --bootstrap-server URL[,URL...]  the brokers (default $BITACORA_BROKERS, else the profile's,
                                       else ws://127.0.0.1:9092/)
  --client-config FILE                 a JSON file of named profiles of settings (default $BITACORA_CLIENT_CONFIG)
  --profile NAME                       the profile to use (default $BITACORA_PROFILE, else 'default')
A setting is a flag's value: the flag wins, then the environment, then the profile, then the default.
Short flags follow kcat: -b brokers, -t topic, -p partition, -o offset, -k key, -K key separator,
-e exit at end, -c count, -f format, -J JSON, -H header, -z compression, -V version.
Exit codes: 0 success, 1 operational error (unknown topic, unreachable broker, ...), 2 usage error;
log dump: 3 when it found something wrong on disk.`

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  return pkg.version
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  switch (command) {
    // Loaded on demand: a client command need not load the broker, nor the broker the client.
    case 'broker':
      return (await import('./broker.js')).brokerCommand(rest)
    case 'format':
      return (await import('./format-dir.js')).formatCommand(rest)
    case 'cluster':
      return (await import('./cluster.js')).clusterCommand(rest)
    case 'topics':
      return (await import('./topics.js')).topicsCommand(rest)
    case 'groups':
      return (await import('./groups.js')).groupsCommand(rest)
    case 'produce':
      return (await import('./produce.js')).produceCommand(rest)
    case 'consume':
      return (await import('./consume.js')).consumeCommand(rest)
    case 'log':
      return (await import('./log-dump.js')).logCommand(rest)
    case 'perf':
      return (await import('./perf.js')).perfCommand(rest)
    case 'completion':
      return (await import('./completion.js')).completionCommand(rest)
    case 'version':
    case '--version':
    case '-V':
      console.log(version())
      return 0
    case undefined:
      // A bare `bitacora` is a usage error: a script that forgot its command must not pass.
      console.error(USAGE)
      return 2
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE)
      return 0
    default:
      console.error(`bitacora: unknown command '${command}' (try 'bitacora help')`)
      return 2
  }
}

// A reader that went away (`bitacora topics list | head -1`) is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err
})

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: Error) => {
    // Usage and operational errors are one line; anything else is a bug worth its stack.
    const failure = failureOf(err)
    console.error(`bitacora: ${failure ? failure.message : (err.stack ?? err.message)}`)
    process.exitCode = failure ? failure.exitCode : 1
  },
)
