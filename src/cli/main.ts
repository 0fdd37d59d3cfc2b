#!/usr/bin/env node
// The `bitacora` command. Each subcommand prints one clear line and exits non-zero on error:
// 2 for usage errors, 1 for operational ones (unknown topic, unreachable broker, ...).
import { readFileSync } from 'node:fs'
import { failureOf } from './errors.js'

const USAGE = `usage: bitacora <command> [options]

commands:
  broker      run a broker (bitacora broker --help)
  topics      create, list, describe, delete, alter topics (bitacora topics --help)
  produce     write stdin lines to a topic, one record each (bitacora produce --help)
  consume     print a topic's records (bitacora consume --help)
  perf        Kafka-style perf tools: produce, consume, e2e (bitacora perf --help)
  version     print the version
  help        print this help

Client commands take --bootstrap-server URL[,URL...] (default $BITACORA_BROKERS or ws://127.0.0.1:9092/).
Exit codes: 0 success, 1 operational error (unknown topic, unreachable broker, ...), 2 usage error.`

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
    case 'topics':
      return (await import('./topics.js')).topicsCommand(rest)
    case 'produce':
      return (await import('./produce.js')).produceCommand(rest)
    case 'consume':
      return (await import('./consume.js')).consumeCommand(rest)
    case 'perf':
      return (await import('./perf.js')).perfCommand(rest)
    case 'version':
    case '--version':
      console.log(version())
      return 0
    case undefined:
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
