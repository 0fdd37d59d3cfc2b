// A small flag parser for the subcommands: `--flag value`, `--flag=value`, kcat's short flags
// (`-b URL`, `-bURL`, `-o -10`, `-eJ`), boolean flags, repeatable flags, positionals, `--`
// ending the flags. Every mistake is a UsageError (exit 2) naming the command and the flag.
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

/**
 * kcat's short flags, one table for every command: a letter stands for its long flag in each
 * command that has that flag, and is unknown elsewhere. (kcat's -k is the key and -K the key
 * delimiter; -V, the version, belongs to `bitacora` itself.)
 */
export const SHORT_FLAGS: Readonly<Record<string, string>> = {
  b: 'bootstrap-server', t: 'topic', p: 'partition', o: 'offset', k: 'key', K: 'key-separator', e: 'exit-at-end',
  c: 'max-messages', f: 'format', J: 'json', H: 'header', z: 'compression', h: 'help', G: 'group',
}

/** The short letter of a long flag, if it has one. */
export function shortOf(name: string): string | undefined {
  return Object.keys(SHORT_FLAGS).find((letter) => SHORT_FLAGS[letter] === name)
}

export function parseFlags<S extends FlagSpec>(command: string, argv: readonly string[], spec: S): Parsed<S> {
  const flags: Record<string, boolean | string | string[]> = {}
  const positionals: string[] = []
  const kindOf = (name: string, shown: string): FlagKind => {
    const kind = Object.hasOwn(spec, name) ? spec[name] : undefined
    if (kind === undefined) throw new UsageError(`${command}: unknown option '${shown}'`)
    return kind
  }
  const set = (name: string, kind: 'string' | 'list', value: string) => {
    if (kind === 'string') {
      if (flags[name] !== undefined) throw new UsageError(`${command}: option '--${name}' given twice`)
      flags[name] = value
    } else {
      ;((flags[name] ??= []) as string[]).push(value)
    }
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1))
      break
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=')
      const name = arg.slice(2, eq < 0 ? undefined : eq)
      const kind = kindOf(name, `--${name}`)
      if (kind === 'boolean') {
        if (eq >= 0) throw new UsageError(`${command}: option '--${name}' takes no value`)
        flags[name] = true
      } else if (eq >= 0) set(name, kind, arg.slice(eq + 1))
      else if (i + 1 < argv.length) set(name, kind, argv[++i])
      else throw new UsageError(`${command}: option '--${name}' needs a value`)
      continue
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg)
      continue
    }
    // Short flags, getopt-style: booleans may be grouped (-eJ); a flag with a value takes the
    // rest of the word (-o-10) or else the next argument, whatever it looks like (-o -10).
    for (let j = 1; j < arg.length; j++) {
      const letter = arg[j]
      const name = Object.hasOwn(SHORT_FLAGS, letter) ? SHORT_FLAGS[letter] : `-${letter}`
      const kind = kindOf(name, `-${letter}`)
      if (kind === 'boolean') {
        flags[name] = true
        continue
      }
      if (j + 1 < arg.length) set(name, kind, arg.slice(j + 1))
      else if (i + 1 < argv.length) set(name, kind, argv[++i])
      else throw new UsageError(`${command}: option '-${letter}' needs a value`)
      break
    }
  }
  return { flags: flags as FlagValues<S>, positionals }
}

/** An integer flag within [min, max], or undefined when absent. */
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

/** The topic, given as the one positional or as -t/--topic (not both). */
export function topicArg(command: string, flag: string | undefined, given: readonly string[]): string {
  if (flag === undefined) return positionals(command, given, ['topic'])[0]
  if (given.length > 0) throw new UsageError(`${command}: give the topic as TOPIC or -t/--topic, not both (got '${given[0]}')`)
  if (flag === '') throw new UsageError(`${command}: --topic must not be empty`)
  return flag
}
