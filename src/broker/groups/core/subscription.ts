// Subscriptions: the topic names a member lists, or an RE2 pattern matched against whole topic
// names with re2js, a linear-time engine: JavaScript's backtracking RegExp would let one hostile
// pattern such as (a+)+$ stall the coordinator of every group on the broker.
import { RE2JS } from 're2js'
import { COMPILED_PATTERNS_MAX, SUBSCRIBED_TOPICS_MAX, SUBSCRIPTION_PATTERN_CHARS_MAX } from '../limits.js'

/** Compiled patterns by source: compiling is the costly part, and members of a group share one. */
const compiled = new Map<string, RE2JS>()

/** The compiled pattern, or the reason it is not one. */
export function compilePattern(pattern: string): RE2JS | string {
  if (pattern.length === 0) return 'the subscription pattern is empty'
  if (pattern.length > SUBSCRIPTION_PATTERN_CHARS_MAX) return `the subscription pattern is ${pattern.length} characters, more than the ${SUBSCRIPTION_PATTERN_CHARS_MAX} allowed`
  const known = compiled.get(pattern)
  if (known) return known
  let re: RE2JS
  try {
    re = RE2JS.compile(pattern)
  } catch (e) {
    return `the subscription pattern ${JSON.stringify(pattern)} is not a valid RE2 pattern: ${(e as Error).message}`
  }
  if (compiled.size >= COMPILED_PATTERNS_MAX) compiled.delete(compiled.keys().next().value!)
  compiled.set(pattern, re)
  return re
}

/** Why a subscription cannot be accepted, or null. */
export function subscriptionProblem(names: readonly string[], pattern: string | null): string | null {
  if (pattern !== null) {
    if (names.length > 0) return 'subscribe either to topic names or to a pattern, not both'
    const re = compilePattern(pattern)
    return typeof re === 'string' ? re : null
  }
  if (names.length > SUBSCRIBED_TOPICS_MAX) return `the subscription names ${names.length} topics, more than the ${SUBSCRIBED_TOPICS_MAX} allowed`
  const empty = names.findIndex((n) => n.length === 0)
  if (empty >= 0) return `subscribed topic name #${empty} is empty`
  return null
}

/**
 * The existing topics a subscription takes: the listed names that exist, or every topic whose
 * whole name matches the pattern. Internal topics (names starting with "__") are never matched
 * by a pattern, as Kafka's exclude.internal.topics.
 */
export function resolveSubscription(names: readonly string[], pattern: string | null, topics: Iterable<string>): Set<string> {
  if (pattern === null) {
    const wanted = new Set(names)
    return new Set([...topics].filter((t) => wanted.has(t)))
  }
  const re = compilePattern(pattern)
  if (typeof re === 'string') return new Set()
  return new Set([...topics].filter((t) => !t.startsWith('__') && re.matches(t)))
}
