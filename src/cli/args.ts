// A small flag parser for the subcommands: `--flag value`, `--flag=value`, boolean flags,
// repeatable flags, positionals, `--` ending the flags. Every mistake is a UsageError (exit 2)
// naming the command and the flag.
import { UsageError } from './errors.js'

export type FlagKind = 'boolean' | 'string' | 'list'
export type FlagSpec = Record<string, FlagKind>

export type FlagValues<S extends FlagSpec> = {
  [K in keyof S]?: S[K] extends 'boolean' ? boolean : S[K] extends 'string' ? string : string[]
}

export interface Parsed<S extends FlagSpec> {
  flags: FlagValues<S>
  positionals: string[]
}

export function parseFlags<S extends FlagSpec>(command: string, argv: readonly string[], spec: S): Parsed<S> {
  const flags: Record<string, boolean | string | string[]> = {}
  const positionals: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1))
      break
    }
    if (arg === '-h') {
      flags.help = true
      continue
    }
    if (!arg.startsWith('--') || arg === '-') {
      if (arg.startsWith('-') && arg !== '-') throw new UsageError(`${command}: unknown option '${arg}'`)
      positionals.push(arg)
      continue
    }
    const eq = arg.indexOf('=')
    const name = arg.slice(2, eq < 0 ? undefined : eq)
    const kind = Object.hasOwn(spec, name) ? spec[name] : undefined
    if (kind === undefined) throw new UsageError(`${command}: unknown option '--${name}'`)
    if (kind === 'boolean') {
      if (eq >= 0) throw new UsageError(`${command}: option '--${name}' takes no value`)
      flags[name] = true
      continue
    }
    let value: string
    if (eq >= 0) value = arg.slice(eq + 1)
    else if (i + 1 < argv.length) value = argv[++i]
    else throw new UsageError(`${command}: option '--${name}' needs a value`)
    if (kind === 'string') {
      if (flags[name] !== undefined) throw new UsageError(`${command}: option '--${name}' given twice`)
      flags[name] = value
    } else {
      ;((flags[name] ??= []) as string[]).push(value)
    }
  }
  return { flags: flags as FlagValues<S>, positionals }
}

/** An integer flag within [min, max], or `fallback` when absent. */
export function intFlag(name: string, value: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined
  const n = /^-?\d+$/.test(value.trim()) ? Number(value) : NaN
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`
    throw new UsageError(`--${name}: expected an integer ${range}, got '${value}'`)
  }
  return n
}

/** One of `choices`, or undefined when absent. */
export function choiceFlag<T extends string>(name: string, value: string | undefined, choices: readonly T[]): T | undefined {
  if (value === undefined) return undefined
  if (!(choices as readonly string[]).includes(value)) throw new UsageError(`--${name}: expected one of ${choices.join(', ')}, got '${value}'`)
  return value as T
}

/** `k=v` pairs (split at the first '='; the value may be empty), in order. */
export function keyValues(name: string, values: readonly string[] | undefined): Array<[string, string]> {
  return (values ?? []).map((kv) => {
    const eq = kv.indexOf('=')
    if (eq <= 0) throw new UsageError(`--${name}: expected KEY=VALUE, got '${kv}'`)
    return [kv.slice(0, eq), kv.slice(eq + 1)]
  })
}

/** Exactly `count` positionals, named in the error. */
export function positionals(command: string, given: readonly string[], names: readonly string[]): string[] {
  if (given.length < names.length) throw new UsageError(`${command}: missing ${names.slice(given.length).map((n) => n.toUpperCase()).join(' ')}`)
  if (given.length > names.length) throw new UsageError(`${command}: unexpected argument '${given[names.length]}'`)
  return [...given]
}
