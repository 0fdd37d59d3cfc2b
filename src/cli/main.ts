#!/usr/bin/env node
// The `bitacora` command. Each subcommand prints one clear line and exits non-zero on error.
import { readFileSync } from 'node:fs'
import { ConfigError } from '../broker/config.js'
import { brokerCommand } from './broker.js'

const USAGE = `usage: bitacora <command> [options]

commands:
  broker      run a broker (bitacora broker --help)
  version     print the version
  help        print this help`

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  return pkg.version
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  switch (command) {
    case 'broker':
      return brokerCommand(rest)
    case 'version':
    case '--version':
      console.log(version())
      return 0
    case undefined:
    case 'help':
    case '--help':
      console.log(USAGE)
      return 0
    default:
      console.error(`bitacora: unknown command '${command}' (try 'bitacora help')`)
      return 2
  }
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: Error) => {
    // Operating errors are one line; anything else is a bug worth its stack.
    console.error(err instanceof ConfigError ? `bitacora: ${err.message}` : `bitacora: ${err.stack ?? err.message}`)
    process.exitCode = err instanceof ConfigError ? 2 : 1
  },
)
