#!/usr/bin/env node
// The `bitacora` command. Subcommands arrive with the components they drive (broker, topics,
// produce, consume, perf); each prints one clear line and exits non-zero on error.
import { readFileSync } from 'node:fs'

const USAGE = `usage: bitacora <command>

commands:
  version     print the version
  help        print this help

The broker, topics, produce, consume and perf commands are not built yet.`

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  return pkg.version
}

function main(argv: string[]): number {
  const [command] = argv
  switch (command) {
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

process.exitCode = main(process.argv.slice(2))
